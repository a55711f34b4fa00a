# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The argument specs of the planning modules (sum_port_facts, sum_fleet_plan, sum_flows_files), shared by
the action plugins and the module files."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan import port_matrix as pm
from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import SETTING_OPTIONS
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import DEFAULTS, build_plan

# Options of 1.1.0 that planning a fleet moved to sum_fleet_plan; they keep working until then.
DEPRECATED = {"removed_in_version": "2.0.0", "removed_from_collection": "hpsum.ports"}

ARGUMENT_SPEC = {
    "from_inventory": {"type": "bool", "default": False},
    "hosts": {"type": "list", "elements": "str", **DEPRECATED},
    "use_plan": {"type": "dict", **DEPRECATED},
    "host_role": {"type": "str", "choices": list(pm.HOST_ROLES)},
    "node_type": {"type": "str", "choices": list(pm.NODE_TYPES)},
    "sum_server_os": {"type": "str", "choices": list(pm.SERVER_OSES)},
    "sum_version": {"type": "str"},
    "phases": {"type": "list", "elements": "str", "choices": list(pm.PHASES), "default": DEFAULTS["phases"]},
    "http_port": {"type": "int", "default": DEFAULTS["http_port"]},
    "https_port": {"type": "int", "default": DEFAULTS["https_port"]},
    "ftp_port": {"type": "int"},
    "peers": {"type": "list", "elements": "raw", "default": []},
    "browser_sources": {"type": "list", "elements": "str", "default": []},
    "optional_ports": {"type": "bool", "default": DEFAULTS["optional_ports"]},
    "addresses": {"type": "list", "elements": "str", "default": []},
    "sum_servers": {"type": "list", "elements": "str", "default": []},
}
REQUIRED_BY = {"hosts": ("from_inventory",)}
REQUIRED_IF = [("host_role", "node", ("node_type",))]
MUTUALLY_EXCLUSIVE = [("from_inventory", "host_role"), ("from_inventory", "node_type"),
                      ("from_inventory", "sum_server_os"), ("use_plan", "host_role"), ("use_plan", "from_inventory")]

# sum_fleet_plan: plan the given hosts from the inventory contract with these fleet settings, or publish
# one plan such a call returned as the facts of the host they go to.
FLEET_ARGUMENT_SPEC = {
    "hosts": {"type": "list", "elements": "str"},
    "plan": {"type": "dict"},
    **{option: ARGUMENT_SPEC[option] for option in SETTING_OPTIONS},
}
FLEET_REQUIRED_ONE_OF = [("hosts", "plan")]
FLEET_MUTUALLY_EXCLUSIVE = [("hosts", "plan"), *(("plan", option) for option in SETTING_OPTIONS)]

# sum_flows_files: the flows export of these hosts' plans, written into a directory of the controller.
FLOWS_FILES_ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "hosts": {"type": "list", "elements": "str", "required": True},
    "sum_servers": {"type": "list", "elements": "str", "default": []},
    "inventory_plans": {"type": "bool", "default": False},
    "expiry": {"type": "str", "default": ""},
}


class SumPortFacts:
    """The sum_port_facts module run on a host without its action plugin: one host's plan from its options."""

    def __init__(self, module: t.Any) -> None:
        self.module = module

    def run(self) -> t.Dict[str, t.Any]:
        """The plan as ``ansible_facts.sum_ports``; the inventory modes need the controller."""
        params = dict(self.module.params)
        if params.pop("from_inventory"):
            raise SumPortsError("from_inventory: true needs the action plugin (the inventory is on the controller)")
        params.pop("hosts")
        if params.pop("use_plan") is not None:
            raise SumPortsError("use_plan needs the action plugin")
        return {"changed": False, "ansible_facts": {"sum_ports": build_plan(params)}}
