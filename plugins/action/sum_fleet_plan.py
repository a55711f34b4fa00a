# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan a fleet on the controller in one pass, and give each host its plan."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan.facts_spec import (
    FLEET_ARGUMENT_SPEC,
    FLEET_MUTUALLY_EXCLUSIVE,
    FLEET_REQUIRED_ONE_OF,
)
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import check_plan
from ansible_collections.hpsum.ports.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.hpsum.ports.plugins.plugin_utils.fleet_plan import (
    INVENTORY_PLANNED,
    fleet_settings,
    inventory_planned,
    plan_hosts,
)


class ActionModule(ControllerAction):
    """O(hosts): plan them in one pass, return RV(plans); O(plan): publish one as ``ansible_facts.sum_ports``."""

    def run_on_controller(self, result: t.Dict[str, t.Any], task_vars: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
        """Run on the controller; nothing changes anywhere, so check mode is the same run."""
        _validation, args = self.validate_argument_spec(argument_spec=FLEET_ARGUMENT_SPEC,
                                                        required_one_of=FLEET_REQUIRED_ONE_OF,
                                                        mutually_exclusive=FLEET_MUTUALLY_EXCLUSIVE)
        result["changed"] = False
        try:
            if args["plan"] is not None:
                result["ansible_facts"] = {"sum_ports": check_plan(args["plan"], option="plan")}
                return result
            settings = fleet_settings(args)
            if inventory_planned(settings, task_vars):
                result.update(plans={}, inventory_plans=True, msg=INVENTORY_PLANNED)
                return result
            result.update(plans=plan_hosts(task_vars, settings, args["hosts"]), inventory_plans=False)
        except SumPortsError as exc:
            result.update(failed=True, msg=str(exc), **exc.details)
        return result
