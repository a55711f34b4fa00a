# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sum_ini on any target: Linux runs the module; Windows gets the same logic on the controller.

ansible.windows has no module that edits an ini file byte for byte, and a PowerShell port
of module_utils/config/sum_ini.py would be a second implementation to keep equal. So for a
PowerShell connection this plugin reads the file (ansible.windows.win_stat + slurp), computes
the new bytes with the very same ``compute()`` the module uses, and writes them back with
the ansible.windows.win_copy action (which also makes the backup). Check mode and diff come
from the same computation, so they are exact on Windows too.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import base64
import ntpath
import os
import tempfile
import typing as t

from ansible.plugins.action import ActionBase

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.config.sum_ini import ARGUMENT_SPEC, compute, public_result

MODULE = "hpsum.ports.sum_ini"


class ActionModule(ActionBase):
    """Dispatch on the target's shell: POSIX runs the module, PowerShell the controller-side path."""

    TRANSFERS_FILES = False  # the win_copy action it calls transfers (and cleans up) on its own
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: t.Any = None, task_vars: t.Optional[t.Dict[str, t.Any]] = None) -> t.Dict[str, t.Any]:
        """Run the module, or the Windows path."""
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        if getattr(self._connection._shell, "SHELL_FAMILY", "sh") != "powershell":
            result.update(self._execute_module(module_name=MODULE, module_args=self._task.args, task_vars=task_vars))
            return result
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            result.update(self._run_windows(args, task_vars))
        except SumPortsError as exc:
            result.update(failed=True, msg=str(exc), **exc.details)
        return result

    def _module(self, name: str, args: t.Dict[str, t.Any], task_vars: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
        """Run a Windows module; a failure becomes a SumPortsError naming the module and the path."""
        out = self._execute_module(module_name=name, module_args=args, task_vars=task_vars)
        if out.get("failed"):
            raise SumPortsError(f"path: {name} failed on {args.get('path') or args.get('src')}: {out.get('msg')}")
        return out

    def _stat(self, path: str, task_vars: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
        """ansible.windows.win_stat of a path."""
        return self._module("ansible.windows.win_stat", {"path": path, "get_checksum": False}, task_vars)["stat"]

    def _read(self, path: str, task_vars: t.Dict[str, t.Any]) -> t.Optional[bytes]:
        """The remote file's bytes, or None when it does not exist."""
        stat = self._stat(path, task_vars)
        if not stat.get("exists"):
            return None
        if stat.get("isdir"):
            raise SumPortsError(f"path: {path} is a directory, not an ini file", option="path", value=path)
        slurped = self._module("ansible.windows.slurp", {"src": path}, task_vars)
        return base64.b64decode(slurped["content"])

    def _write(self, path: str, data: bytes, backup: bool, task_vars: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
        """Write bytes through the ansible.windows.win_copy action (same shape as win_template)."""
        fd, local = tempfile.mkstemp(prefix=".sum_ini.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            task = self._task.copy()
            task.args = {"src": local, "dest": path, "backup": backup, "force": True}
            copier = self._shared_loader_obj.action_loader.get(
                "ansible.windows.win_copy",
                task=task,
                connection=self._connection,
                play_context=self._play_context,
                loader=self._loader,
                templar=self._templar,
                shared_loader_obj=self._shared_loader_obj,
            )
            copied = copier.run(task_vars=task_vars)
        finally:
            os.unlink(local)
        if copied.get("failed"):
            raise SumPortsError(f"path: cannot write {path}: {copied.get('msg')}", option="path", value=path)
        return copied

    def _run_windows(self, args: t.Dict[str, t.Any], task_vars: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
        """Read with slurp, compute on the controller, write with win_copy only when changed."""
        path = args["path"]
        outcome = compute(path, self._read(path, task_vars), args)
        result = public_result(outcome, bool(self._task.diff))
        if outcome["changed"] and outcome["created"]:
            parent = ntpath.dirname(path)
            if parent and not self._stat(parent, task_vars).get("exists"):
                raise SumPortsError(
                    f"path: the directory of {path} does not exist; create it first", option="path", value=path
                )
        if outcome["changed"] and not self._task.check_mode:
            copied = self._write(path, outcome["after"], bool(args["backup"]) and not outcome["created"], task_vars)
            if copied.get("backup_file"):
                result["backup_file"] = copied["backup_file"]
        return result
