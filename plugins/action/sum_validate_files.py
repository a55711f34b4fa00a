# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write sum_validate's report (JSON, Markdown, JUnit XML, HTML) on the controller, in one task."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.validate.report_files import (
    REPORT_FILES_ARGUMENT_SPEC,
    check_report,
    report_files,
)
from ansible_collections.hpsum.ports.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.hpsum.ports.plugins.plugin_utils.controller_files import write_files_for_task


class ActionModule(ControllerAction):
    """Render the report's four files once and write the ones whose text changed."""

    def run_on_controller(self, result: t.Dict[str, t.Any], task_vars: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
        """Render, compare each file's bytes, write the ones that differ (none in check mode)."""
        _validation, args = self.validate_argument_spec(argument_spec=REPORT_FILES_ARGUMENT_SPEC)
        problem = check_report(args["report"])
        if problem:
            result.update(failed=True, msg=problem)
            return result
        dest = os.path.abspath(args["dest"])
        write_files_for_task(result, self._task, dest, report_files(args["report"]), "the report")
        return result
