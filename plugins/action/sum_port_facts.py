# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compute a host's SUM port plan on the controller: no connection, no remote Python."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible.utils.display import Display

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan.facts_spec import (
    ARGUMENT_SPEC,
    MUTUALLY_EXCLUSIVE,
    REQUIRED_BY,
    REQUIRED_IF,
)
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan, check_plan
from ansible_collections.hpsum.ports.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.hpsum.ports.plugins.plugin_utils.fleet_plan import (
    INVENTORY_PLANNED,
    fleet_settings,
    inventory_planned,
    plan_hosts,
)

display = Display()


class ActionModule(ControllerAction):
    """Validate the options, build the plan, return it as ``ansible_facts.sum_ports``."""

    def run_on_controller(self, result: t.Dict[str, t.Any], task_vars: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
        """Run on the controller; the plan is the same in check mode, so nothing differs there."""
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF,
                                                       required_by=REQUIRED_BY,
                                                       mutually_exclusive=MUTUALLY_EXCLUSIVE)
        for deprecation in getattr(validation, "_deprecations", []):  # hosts and use_plan, both for 2.0.0
            display.deprecated("%s; use hpsum.ports.sum_fleet_plan to plan a fleet" % deprecation["msg"],
                               version="2.0.0", collection_name="hpsum.ports")
        me = task_vars.get("inventory_hostname")
        result["changed"] = False
        try:
            if args["use_plan"] is not None:  # deprecated: sum_fleet_plan's plans
                result["ansible_facts"] = {"sum_ports": check_plan(args["use_plan"])}
                return result
            hosts = args.pop("hosts")
            if not args.pop("from_inventory"):
                args.pop("use_plan")
                result["ansible_facts"] = {"sum_ports": build_plan(args, host=me)}
                return result
            settings = fleet_settings(args)
            if hosts is not None:  # deprecated: sum_fleet_plan's hosts
                if inventory_planned(settings, task_vars):
                    result.update(plans={}, inventory_plans=True, msg=INVENTORY_PLANNED)
                else:
                    # No facts: the task runs once, and Ansible would give a run_once task's facts to every host.
                    result["plans"] = plan_hosts(task_vars, settings, hosts)
                return result
            plans = plan_hosts(task_vars, settings, [me])
        except SumPortsError as exc:
            result.update(failed=True, msg=str(exc), **exc.details)
            return result
        if me in plans:
            result["ansible_facts"] = {"sum_ports": plans[me]}
        else:
            result.update(skipped=True, msg="%s is neither in group sum_servers nor has sum_node_type: nothing to "
                                            "plan" % me)
        return result
