# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ESXi's /etc/rc.local.d/local.sh: marked blocks of the collection's own, every other byte kept."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

LOCAL_SH = "/etc/rc.local.d/local.sh"
BLOCK_BEGIN = "# BEGIN hpsum.ports esxi_firewall_rule %s"
BLOCK_END = "# END hpsum.ports esxi_firewall_rule %s"


def find_block(lines: t.List[bytes], file_name: str) -> t.Optional[t.Tuple[int, int]]:
    """(begin, end) line indexes of the block named ``file_name``, None when there is none; a damaged one fails."""
    begin_marker = (BLOCK_BEGIN % file_name).encode("utf-8")
    end_marker = (BLOCK_END % file_name).encode("utf-8")
    begins = [i for i, line in enumerate(lines) if line.rstrip(b"\r\n") == begin_marker]
    ends = [i for i, line in enumerate(lines) if line.rstrip(b"\r\n") == end_marker]
    if not begins and not ends:
        return None
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise SumPortsError(
            "%s: the hpsum.ports block for %s is damaged (%d begin, %d end markers); fix it by hand"
            % (LOCAL_SH, file_name, len(begins), len(ends))
        )
    return begins[0], ends[0]


def edit_local_sh(content: bytes, file_name: str, block: t.Optional[bytes]) -> bytes:
    """Put ``block`` (or, when None, no block) for ``file_name`` into local.sh; all other bytes stay.

    An existing block is replaced where it is; a new one goes before the last ``exit 0``
    line (ESXi's local.sh ends with it), or at the end when there is none.
    """
    lines = content.splitlines(True)
    found = find_block(lines, file_name)
    new = block.splitlines(True) if block is not None else []
    if found is not None:
        begin, end = found
        return b"".join(lines[:begin] + new + lines[end + 1 :])
    if block is None:
        return content
    exits = [i for i, line in enumerate(lines) if line.strip() == b"exit 0"]
    if exits:
        at = exits[-1]
        return b"".join(lines[:at] + new + lines[at:])
    if lines and not lines[-1].endswith(b"\n"):
        lines[-1] += b"\n"
    return b"".join(lines + new)
