# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render the flows export of a fleet and write its files on the controller, in one task."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import shutil
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common._io import diff_text, read_file, write_file_atomic
from ansible_collections.hpsum.ports.plugins.module_utils.plan.facts_spec import FLOWS_FILES_ARGUMENT_SPEC
from ansible_collections.hpsum.ports.plugins.module_utils.plan.flows import export_files
from ansible_collections.hpsum.ports.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.hpsum.ports.plugins.plugin_utils.fleet_plan import plans_of

FILE_MODE = 0o644
DIR_MODE = 0o755


class _ControllerFiles:
    """What write_file_atomic needs of a module, for files of the controller: temporary files, one rename."""

    def __init__(self) -> None:
        self.temporary: t.List[str] = []

    def add_cleanup_file(self, path: str) -> None:
        """Remember a temporary file, removed by cleanup() if it is still there."""
        self.temporary.append(path)

    @staticmethod
    def atomic_move(src: str, dest: str, unsafe_writes: bool = False) -> None:
        """Rename ``src`` over ``dest``; an existing ``dest`` keeps its mode."""
        if os.path.exists(dest):
            shutil.copymode(dest, src)
        os.replace(src, dest)

    def cleanup(self) -> None:
        """Remove the temporary files that a failure left behind."""
        for path in self.temporary:
            if os.path.exists(path):
                os.unlink(path)


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
        if os.path.exists(dest) and not os.path.isdir(dest):
            result.update(failed=True, msg="dest: %r exists and is not a directory" % dest, dest=dest)
            return result
        check = bool(self._task.check_mode)
        created = not os.path.isdir(dest)
        changed = []
        diffs = []
        writer = _ControllerFiles()
        try:
            if created and not check:
                os.makedirs(dest)
                os.chmod(dest, DIR_MODE)
            for name, text in files.items():
                path = os.path.join(dest, name)
                before = None if created else read_file(path)
                content = text.encode("utf-8")
                if before == content:
                    continue
                changed.append(name)
                diffs.append({"before_header": path, "after_header": path, "before": diff_text(before),
                              "after": text})
                if not check:
                    write_file_atomic(writer, path, content, FILE_MODE if before is None else None)
        except OSError as exc:
            result.update(failed=True, msg="dest: cannot write the flows export into %s: %s" % (dest, exc), dest=dest)
            return result
        finally:
            writer.cleanup()
        result.update(changed=created or bool(changed), dest=dest, files=sorted(files), changed_files=changed,
                      hosts=len(plans))
        if self._task.diff and diffs:
            result["diff"] = diffs
        return result
