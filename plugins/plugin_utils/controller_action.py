# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the collection's action plugins that run on the controller alone."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """An action computed on the controller: no connection, no file transfer, check mode supported, no async."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: t.Any = None, task_vars: t.Optional[t.Dict[str, t.Any]] = None) -> t.Dict[str, t.Any]:
        """The base run (its checks of the task), then the plugin's own work with the task's variables."""
        result = super().run(tmp, task_vars)
        return self.run_on_controller(result, task_vars or {})

    def run_on_controller(self, result: t.Dict[str, t.Any], task_vars: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
        """Fill in and return ``result``; each plugin says what it does in check mode."""
        raise NotImplementedError
