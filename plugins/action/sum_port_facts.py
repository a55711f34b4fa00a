# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compute SUM port plans on the controller: no connection, no remote Python."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible.plugins.action import ActionBase

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan.facts_spec import (
    ARGUMENT_SPEC,
    MUTUALLY_EXCLUSIVE,
    REQUIRED_BY,
    REQUIRED_IF,
    SETTING_OPTIONS,
)
from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import SETTINGS, plan_fleet, settings_of
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan, check_plan


class _CachedHostVars:
    """hostvars, each host's variables templated once per task instead of once per lookup."""

    def __init__(self, hostvars: t.Any) -> None:
        self._hostvars = hostvars
        self._cache: t.Dict[str, t.Mapping[str, t.Any]] = {}

    def __contains__(self, host: object) -> bool:
        return host in self._hostvars

    def __getitem__(self, host: str) -> t.Mapping[str, t.Any]:
        if host not in self._cache:
            self._cache[host] = self._hostvars[host]
        return self._cache[host]


class ActionModule(ActionBase):
    """Validate the options, build the plan(s), return this host's as ``ansible_facts.sum_ports``."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: t.Any = None, task_vars: t.Optional[t.Dict[str, t.Any]] = None) -> t.Dict[str, t.Any]:
        """Run on the controller; the plan is the same in check mode, so nothing differs there."""
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF,
                                                        required_by=REQUIRED_BY,
                                                        mutually_exclusive=MUTUALLY_EXCLUSIVE)
        me = task_vars.get("inventory_hostname")
        try:
            if args["use_plan"] is not None:
                result.update(changed=False, ansible_facts={"sum_ports": check_plan(args["use_plan"])})
                return result
            args.pop("use_plan")
            if not args.pop("from_inventory"):
                args.pop("hosts")
                result.update(changed=False, ansible_facts={"sum_ports": build_plan(args, host=me)})
                return result
            hosts = args.pop("hosts")
            if hosts is not None and self._inventory_planned(args, task_vars):
                result.update(changed=False, plans={}, inventory_plans=True,
                              msg="every host has its plan from the inventory (hpsum.ports.sum_plan), made with "
                                  "these fleet settings: nothing to plan")
                return result
            settings = {option: args[option] for option in SETTING_OPTIONS}
            plans = plan_fleet(_CachedHostVars(task_vars["hostvars"]), task_vars["groups"], settings,
                               [me] if hosts is None else hosts)
        except SumPortsError as exc:
            result.update(failed=True, msg=str(exc), **exc.details)
            return result
        result["changed"] = False
        if hosts is not None:
            # No facts here: the task runs once, and Ansible would give a run_once task's facts to
            # every host of the play. The caller publishes each plan with use_plan.
            result["plans"] = plans
        elif me in plans:
            result["ansible_facts"] = {"sum_ports": plans[me]}
        else:
            result.update(skipped=True, msg="%s is neither in group sum_servers nor has sum_node_type: nothing to "
                                            "plan" % me)
        return result

    @staticmethod
    def _inventory_planned(args: t.Mapping[str, t.Any], task_vars: t.Mapping[str, t.Any]) -> bool:
        """Whether the inventory plugin planned every host with the same fleet settings as this task's."""
        planned = task_vars.get("sum_plan_inventory_settings")
        if not isinstance(planned, dict):
            return False
        variables = dict(SETTINGS)
        return settings_of({variables[option]: args[option] for option in SETTING_OPTIONS}, {}) == dict(planned)
