# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inventory plugin: every host's SUM port plan (sum_ports), computed once when the inventory loads."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: sum_plan
short_description: Give every host its SUM port plan (C(sum_ports)) when the inventory loads
version_added: 1.1.0
author:
  - hpsum.ports maintainers (@hpsum)
description:
  - Runs after the inventory's own sources, like P(ansible.builtin.constructed#inventory), reads their hosts, groups and
    variables (including C(group_vars) and C(host_vars) next to the sources, and C(-e) extra variables) and
    sets C(sum_ports), the plan of M(hpsum.ports.sum_port_facts), on every SUM server (group C(sum_servers))
    and every node (C(sum_node_type) set). Other hosts get nothing.
  - The inventory contract and the fleet settings (C(sum_plan_version), C(sum_plan_phases),
    C(sum_plan_http_port), C(sum_plan_https_port), C(sum_plan_ftp_port), C(sum_plan_browser_sources),
    C(sum_plan_optional_ports), with the defaults of the C(hpsum.ports.sum_plan) role) are the ones of
    docs/inventory.md; the plans are the same as the C(hpsum.ports.sum_plan) role computes.
  - The fleet settings are the role's defaults, then the variables of group C(all), then extra variables; a SUM
    server's own C(sum_plan_*) host variables override them for that server, and a node takes its SUM server's.
  - The roles and playbooks of the collection use a plan that is there and plan only for hosts without one;
    C(playbooks/plan.yml) plans again only when the play's fleet settings differ from the ones the inventory
    was planned with (see C(sum_plan_inventory_settings) below).
  - Sets C(sum_plan_inventory_settings) on group C(all), the fleet settings the plans were computed with.
  - Sets C(sum_plan_inventory_hosts) on group C(all), the names of the hosts it planned (sorted). The validation
    (role C(hpsum.ports.sum_validate)) fails early, naming the missing ones, when a job's inventory lacks some of
    them, as a slice of a sliced AWX job does (docs/large-fleets.md).
  - An error in the inventory contract fails this source with the message the role would give; set
    C(any_unparsed_is_failed) (section C([inventory]) of C(ansible.cfg)) so that it fails the whole load.
  - The configuration file's name must end in C(sum_plan.yml) or C(sum_plan.yaml), and it must come after the
    sources it reads (in a directory of sources they load in file name order).
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [hpsum.ports.sum_plan]
  use_vars_plugins:
    description:
      - Read the variables of vars plugins too (C(group_vars) and C(host_vars) next to the inventory sources).
    type: bool
    default: true
  use_extra_vars:
    description: Let extra variables (C(-e)) override the fleet settings, as they do in a play.
    type: bool
    default: true
    ini:
      - section: inventory_plugins
        key: use_extra_vars
    env:
      - name: ANSIBLE_INVENTORY_USE_EXTRA_VARS
"""

EXAMPLES = r"""
# inventory/zz_sum_plan.yml, next to inventory/hosts.yml and inventory/group_vars/
# (ansible-inventory -i inventory/ --list shows every host's sum_ports)
plugin: hpsum.ports.sum_plan
"""

import os
import typing as t

from ansible.errors import AnsibleParserError
from ansible.inventory.helpers import sort_groups
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.utils.vars import combine_vars, load_extra_vars
from ansible.vars.plugins import get_vars_from_inventory_sources

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19: plain strings are data already
    def trust_as_template(value: str) -> str:  # type: ignore[misc]
        """Nothing to mark before ansible-core 2.19."""
        return value

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import (
    CONTRACT_VARIABLES,
    plan_fleet,
    settings_from_variables,
    variables_of,
)

_ROLE_DEFAULTS = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "sum_plan", "defaults", "main.yml")


def _trusted(value: t.Any, memo: t.Dict[str, str]) -> t.Any:
    """A copy of plain data whose strings are marked as a YAML inventory's are."""
    if isinstance(value, str):
        tagged = memo.get(value)
        if tagged is None:
            tagged = memo[value] = trust_as_template(value)
        return tagged
    if isinstance(value, dict):
        return {_trusted(k, memo): _trusted(v, memo) for k, v in value.items()}
    if isinstance(value, list):
        return [_trusted(v, memo) for v in value]
    return value


class InventoryModule(BaseInventoryPlugin):
    """Plan every host of the inventory loaded so far and set its sum_ports."""

    NAME = "hpsum.ports.sum_plan"

    def verify_file(self, path: str) -> bool:
        """A YAML file whose name ends in sum_plan.yml or sum_plan.yaml."""
        return bool(super().verify_file(path)) and path.endswith(("sum_plan.yml", "sum_plan.yaml"))

    def parse(self, inventory: t.Any, loader: t.Any, path: str, cache: bool = False) -> None:
        """Read the contract variables of every host, plan the fleet, set sum_ports per host."""
        super().parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        extra = load_extra_vars(loader) if self.get_option("use_extra_vars") else {}
        hostvars = self._contract_vars(inventory, loader, extra)
        groups = {"all": list(inventory.hosts),
                  "sum_servers": list(inventory.groups["sum_servers"].get_hosts()) if "sum_servers" in inventory.groups
                  else []}
        groups["sum_servers"] = [h.name for h in groups["sum_servers"]]
        try:
            # The fleet settings: the role's defaults, then group all's variables, then extra variables (a host's
            # own sum_plan_* variables override them for that host, in plan_fleet).
            fleet_settings = settings_from_variables(loader.load_from_file(_ROLE_DEFAULTS) or {})
            fleet_settings.update(settings_from_variables(
                combine_vars(self._group_vars(inventory.groups["all"], loader), extra)))
            plans = plan_fleet(hostvars, groups, fleet_settings)
        except SumPortsError as exc:
            raise AnsibleParserError(to_native(exc.msg)) from None
        # Set the plans on the inventory itself, past the proxy that would copy and tag every string of them (most
        # of the load time of a large fleet). Their strings (addresses, names, the plan's own words; no braces) are
        # marked the way a YAML inventory's are, once per distinct string, so that ansible-inventory --list prints
        # them as plain strings (AWX stores that output).
        target = getattr(inventory, "__wrapped__", inventory)
        memo: t.Dict[str, str] = {}
        for host, plan in plans.items():
            target.set_variable(host, "sum_ports", _trusted(plan, memo))
        target.set_variable("all", "sum_plan_inventory_settings", _trusted(variables_of(fleet_settings), memo))
        target.set_variable("all", "sum_plan_inventory_hosts", _trusted(sorted(plans), memo))

    def _group_vars(self, group: t.Any, loader: t.Any) -> t.Dict[str, t.Any]:
        """A group's own variables, and its vars plugins' ones (group_vars/NAME)."""
        cached = self._group_cache.get(group.name)
        if cached is None:
            gvars = group.get_vars()
            if self.get_option("use_vars_plugins"):
                gvars = combine_vars(gvars, get_vars_from_inventory_sources(loader, self._sources, [group], "all"))
            cached = self._group_cache[group.name] = {k: gvars[k] for k in CONTRACT_VARIABLES if k in gvars}
        return cached

    def _contract_vars(self, inventory: t.Any, loader: t.Any,
                       extra: t.Mapping[str, t.Any]) -> t.Dict[str, t.Dict[str, t.Any]]:
        """Each host's contract variables in Ansible's precedence: groups by depth, the host, extra vars."""
        self._group_cache: t.Dict[str, t.Dict[str, t.Any]] = {}
        self._sources = list(getattr(inventory, "processed_sources", []))
        extra = {k: extra[k] for k in CONTRACT_VARIABLES if k in extra}
        result = {}
        for name, host in inventory.hosts.items():
            hvars: t.Dict[str, t.Any] = {}
            for group in sort_groups(host.get_groups()):
                hvars.update(self._group_vars(group, loader))
            own = host.get_vars()
            if self.get_option("use_vars_plugins"):
                own = combine_vars(own, get_vars_from_inventory_sources(loader, self._sources, [host], "all"))
            hvars.update((k, own[k]) for k in CONTRACT_VARIABLES if k in own)
            hvars.update(extra)
            result[name] = self._templated(hvars, host, loader)
        return result

    def _templated(self, hvars: t.Dict[str, t.Any], host: t.Any, loader: t.Any) -> t.Dict[str, t.Any]:
        """Contract values that are templates, rendered with the host's variables (rare: only then are they read)."""
        if not any(isinstance(v, str) and self.templar.is_possibly_template(v) for v in hvars.values()):
            return hvars
        available = combine_vars(self.host_groupvars(host, loader), self.host_vars(host, loader))
        available = combine_vars(available, hvars)
        self.templar.available_variables = available
        try:
            return {k: self.templar.template(v) for k, v in hvars.items()}
        except Exception as exc:
            raise AnsibleParserError("host %s: cannot template its SUM variables: %s"
                                     % (host.name, to_native(exc))) from None

    def host_groupvars(self, host: t.Any, loader: t.Any) -> t.Dict[str, t.Any]:
        """All variables of a host's groups."""
        gvars: t.Dict[str, t.Any] = {}
        for group in sort_groups(host.get_groups()):
            gvars = combine_vars(gvars, group.get_vars())
            if self.get_option("use_vars_plugins"):
                gvars = combine_vars(gvars, get_vars_from_inventory_sources(loader, self._sources, [group], "all"))
        return gvars

    def host_vars(self, host: t.Any, loader: t.Any) -> t.Dict[str, t.Any]:
        """All of a host's own variables."""
        hvars = host.get_vars()
        if self.get_option("use_vars_plugins"):
            hvars = combine_vars(hvars, get_vars_from_inventory_sources(loader, self._sources, [host], "all"))
        return hvars
