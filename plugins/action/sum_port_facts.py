# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compute a host's SUM port plan on the controller: no connection, no remote Python."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible.plugins.action import ActionBase

from ansible_collections.hpsum.ports.plugins.module_utils.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.facts_spec import ARGUMENT_SPEC, REQUIRED_IF
from ansible_collections.hpsum.ports.plugins.module_utils.plan import build_plan


class ActionModule(ActionBase):
    """Validate the options, build the plan, return it as ``ansible_facts.sum_ports``."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: t.Any = None, task_vars: t.Optional[t.Dict[str, t.Any]] = None) -> t.Dict[str, t.Any]:
        """Run on the controller; the plan is the same in check mode, so nothing differs there."""
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF)
        try:
            plan = build_plan(args)
        except SumPortsError as exc:
            result.update(failed=True, msg=str(exc), **exc.details)
            return result
        result.update(changed=False, ansible_facts={"sum_ports": plan})
        return result
