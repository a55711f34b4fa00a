# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files on a host: read one (None when it is absent), show it in a diff, write it atomically (a temporary
file in the target's directory, then a rename)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import tempfile
import typing as t


def write_file_atomic(module: t.Any, path: str, content: bytes, mode: t.Optional[int] = None) -> None:
    """Replace ``path`` with ``content`` in one rename; an existing file keeps owner, mode and SELinux context.

    ``module.atomic_move`` copies the old file's attributes onto the new one; a new file
    gets ``mode`` (default 0644), and ``mode`` given for an existing file replaces its mode.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    module.add_cleanup_file(tmp)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except Exception:
        os.unlink(tmp)
        raise
    existed = os.path.exists(path)
    module.atomic_move(tmp, path, unsafe_writes=False)
    # atomic_move gives a new file the umask's mode; set the one asked for (or 0644).
    if not existed or mode is not None:
        os.chmod(path, 0o644 if mode is None else mode)


def read_file(path: str) -> t.Optional[bytes]:
    """The bytes of ``path``, or None when there is no such file."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def diff_text(content: t.Optional[bytes]) -> str:
    """File bytes as the text of a ``--diff`` entry ("" for an absent file)."""
    return "" if content is None else content.decode("utf-8", "replace")
