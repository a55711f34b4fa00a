# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render the flows export of a fleet and write its files on the controller, in one task."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.plan.facts_spec import FLOWS_FILES_ARGUMENT_SPEC
from ansible_collections.hpsum.ports.plugins.module_utils.plan.flows import export_files
from ansible_collections.hpsum.ports.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.hpsum.ports.plugins.plugin_utils.controller_files import write_files_for_task
from ansible_collections.hpsum.ports.plugins.plugin_utils.fleet_plan import plans_of


class ActionModule(ControllerAction):
    """Write flows.csv, change-request.csv, flows.md, flows.mmd and manual-steps.txt where their text changed."""

    def run_on_controller(self, result: t.Dict[str, t.Any], task_vars: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
        """Render once, compare each file's bytes, write the ones that differ (none in check mode)."""
        _validation, args = self.validate_argument_spec(argument_spec=FLOWS_FILES_ARGUMENT_SPEC)
        dest = os.path.abspath(args["dest"])
        plans, group_names = plans_of(task_vars["hostvars"], args["hosts"], args["inventory_plans"])
        try:
            files = export_files(plans, group_names, args["sum_servers"], args["expiry"] or None)
        except ValueError as exc:
            result.update(failed=True, msg="cannot render the flows export: %s" % exc)
            return result
        if write_files_for_task(result, self._task, dest, files, "the flows export"):
            result.update(files=sorted(files), hosts=len(plans))
        return result
