# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one of the collection's controller-side action plugins as Ansible would, without a play."""

from __future__ import annotations

import typing as t
from unittest import mock


def run_action(action: t.Any, name: str, args: t.Mapping[str, t.Any], task_vars: t.Mapping[str, t.Any],
               check: bool = False, diff: bool = False) -> t.Dict[str, t.Any]:
    """The result of the action plugin class ``action`` for a task ``name`` with ``args``."""
    task = mock.MagicMock()
    task.args = dict(args)
    task.async_val = 0
    task.check_mode = check
    task.diff = diff
    task.action = name
    plugin = action(task, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), mock.MagicMock())
    return plugin.run(task_vars=dict(task_vars))
