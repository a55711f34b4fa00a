# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A set of text files written into one directory of the controller, by the collection's action plugins:
each file only when its bytes differ, atomically (a temporary file in the directory, then a rename)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import shutil
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common._io import diff_text, read_file, write_file_atomic

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


def write_files(dest: str, files: t.Mapping[str, str], check: bool) -> t.Dict[str, t.Any]:
    """Write ``files`` (name -> text) into the directory ``dest``, created (0755) when missing.

    A file is written only when its bytes differ; a new one gets mode 0644, an existing one keeps its mode.
    In check mode nothing is written. Returns ``created`` (the directory), ``changed_files`` (names, in the
    order given) and ``diff`` (one entry per changed file, its whole text before and after). Raises ValueError
    when ``dest`` exists and is not a directory, OSError when a file cannot be written.
    """
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise ValueError("%r exists and is not a directory" % dest)
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
            diffs.append({"before_header": path, "after_header": path, "before": diff_text(before), "after": text})
            if not check:
                write_file_atomic(writer, path, content, FILE_MODE if before is None else None)
    finally:
        writer.cleanup()
    return {"created": created, "changed_files": changed, "diff": diffs}


def write_files_for_task(result: t.Dict[str, t.Any], task: t.Any, dest: str, files: t.Mapping[str, str],
                         what: str) -> bool:
    """write_files for an action plugin's ``task``: its check mode, its diff; the outcome into ``result``.

    Fills in ``changed``, ``dest``, ``files`` and ``changed_files`` (and ``diff`` when asked for), or ``failed``
    with a message naming the option ``dest`` and ``what`` could not be written. Returns whether it was written.
    """
    try:
        written = write_files(dest, files, bool(task.check_mode))
    except ValueError as exc:
        result.update(failed=True, msg="dest: %s" % exc, dest=dest)
        return False
    except OSError as exc:
        result.update(failed=True, msg="dest: cannot write %s into %s: %s" % (what, dest, exc), dest=dest)
        return False
    result.update(changed=written["created"] or bool(written["changed_files"]), dest=dest, files=list(files),
                  changed_files=written["changed_files"])
    if task.diff and written["diff"]:
        result["diff"] = written["diff"]
    return True
