# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A window that closes itself on ESXi: busybox crond runs a small removal script at the deadline.

ESXi has no systemd. Its scheduler is busybox crond, reading ``/var/spool/cron/crontabs/root``;
ESXi re-creates that file at every boot and keeps nothing under ``/etc`` but its backed-up
configuration files, of which ``/etc/rc.local.d/local.sh`` is the one meant for local boot
commands. So a deadline is three things on the host:

- the removal script (``/etc/hpsum_ports/expire-<file>.sh``): removes the collection's ruleset
  file, runs ``esxcli network firewall refresh`` and takes the module's local.sh blocks out, as
  ``state=absent`` does, then removes its own crontab line and itself. It does nothing before
  the deadline (crontab lines carry no year);
- one line in root's crontab at the deadline's minute (UTC: ESXi's clock), crond restarted the
  way VMware documents it (kill the pid in ``/var/run/crond.pid``, start
  ``/usr/lib/vmware/busybox/bin/busybox crond``);
- a block of its own in local.sh that re-creates the script at boot and puts the line back, or,
  when the deadline passed while the host was off, runs the script at once.

The deadline and the first open it counts from are kept in the script's header (the record the
Linux schedule keeps too, apply/window.py), so a second open keeps the deadline it finds.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import contextlib
import datetime
import json
import os
import re
import signal
import time
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.apply import window
from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi.local_sh import (
    BLOCK_BEGIN,
    BLOCK_END,
    edit_local_sh,
    find_block,
)
from ansible_collections.hpsum.ports.plugins.module_utils.common._io import diff_text, read_file, write_file_atomic
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError, option_error

CRONTAB = "/var/spool/cron/crontabs/root"
CROND_PID = "/var/run/crond.pid"
BUSYBOX = "/usr/lib/vmware/busybox/bin/busybox"
EXPIRY_DIR = "/etc/hpsum_ports"
HEREDOC = "HPSUM_PORTS_EXPIRE_SH"
RECORD_PREFIX = "# window: "
_SAFE = re.compile(r"\A[A-Za-z0-9_./:#* -]+\Z")


def utc_now() -> datetime.datetime:
    """The current time (a name of its own so tests can set it)."""
    return window.utc_now()


def block_key(file_name: str) -> str:
    """The local.sh block name of a ruleset file's deadline (never a file name: those end in .xml)."""
    return "%s expiry" % file_name


def _quoted(value: str) -> str:
    """``value`` in single quotes; only values built from validated parts get here."""
    if not _SAFE.match(value):  # pragma: no cover - callers pass validated values only
        raise SumPortsError("refusing to write %r into a shell script" % value)
    return "'%s'" % value


def cron_line(when: datetime.datetime, script: str) -> str:
    """Root's crontab line for the deadline's minute (crontab lines have no year: the script checks it)."""
    return "%d %d %d %d * /bin/sh %s" % (when.minute, when.hour, when.day, when.month, script)


def ours(line: bytes, script: str) -> bool:
    """Whether a crontab line runs this removal script (whatever its time)."""
    fields = line.rstrip(b"\r\n").split()
    return len(fields) == 7 and fields[5:] == [b"/bin/sh", script.encode("utf-8")]


def edit_crontab(content: bytes, line: t.Optional[str], script: str) -> bytes:
    """Root's crontab with our line (or, when None, none of ours); every other byte stays."""
    lines = [item for item in content.splitlines(True) if not ours(item, script)]
    if line is not None:
        if lines and not lines[-1].endswith(b"\n"):
            lines[-1] += b"\n"
        lines.append(line.encode("utf-8") + b"\n")
    return b"".join(lines)


class EsxiExpiry:
    """The deadline of one ruleset file: read it, compute the wanted schedule, write or cancel it."""

    # Class attributes so tests can point them at a temporary directory.
    crontab = CRONTAB
    crond_pid = CROND_PID
    busybox = BUSYBOX
    expiry_dir = EXPIRY_DIR

    def __init__(self, module: t.Any, file_name: str, ruleset_path: str, local_sh: str, esxcli: str) -> None:
        self.module = module
        self.file_name = file_name
        self.ruleset_path = ruleset_path
        self.local_sh = local_sh
        self.esxcli = esxcli
        self.script = os.path.join(self.expiry_dir, "expire-%s.sh" % file_name)

    # ------------------------------------------------------------------ what goes on the host

    def script_text(self, when: datetime.datetime, first: datetime.datetime) -> bytes:
        """The removal script: the ruleset as close.yml removes it, then the schedule itself."""
        line = cron_line(when, self.script)
        ruleset_block = (BLOCK_BEGIN % self.file_name, BLOCK_END % self.file_name)
        expiry_block = (BLOCK_BEGIN % block_key(self.file_name), BLOCK_END % block_key(self.file_name))
        lines = [
            "#!/bin/sh",
            "# hpsum.ports esxi_firewall_rule: the SUM update window closes at %s." % window.stamp(when),
            RECORD_PREFIX + json.dumps(window.record(when, first), sort_keys=True),
            "# Run by crond at the deadline, or by local.sh at boot once it has passed: removes the ruleset",
            "# %s as state=absent does (file, refresh, local.sh blocks), then this schedule." % self.file_name,
            '[ "$(date -u +%%s)" -ge %d ] || exit 0' % int(when.timestamp()),
            "cut_block() {  # FILE BEGIN END: take out the one block between the marker lines, keep every other byte",
            '  b=$(grep -nxF -e "$2" "$1" | cut -d: -f1)',
            '  e=$(grep -nxF -e "$3" "$1" | cut -d: -f1)',
            '  case "$b:$e" in *[!0-9:]* | :* | *:) return 0 ;; esac',
            '  [ "$b" -lt "$e" ] && sed -i -e "$b,${e}d" "$1"',
            "}",
            "rm -f %s" % _quoted(self.ruleset_path),
            "%s network firewall refresh" % _quoted(self.esxcli),
            "if [ -f %s ]; then" % _quoted(self.local_sh),
            "  cut_block %s %s %s" % (_quoted(self.local_sh), _quoted(ruleset_block[0]), _quoted(ruleset_block[1])),
            "  cut_block %s %s %s" % (_quoted(self.local_sh), _quoted(expiry_block[0]), _quoted(expiry_block[1])),
            "fi",
            "while n=$(grep -nxF -e %s %s | head -n 1 | cut -d: -f1) && [ -n \"$n\" ]; do"
            % (_quoted(line), _quoted(self.crontab)),
            '  sed -i -e "${n}d" %s || break' % _quoted(self.crontab),
            "done",
            "kill $(cat %s) 2>/dev/null" % _quoted(self.crond_pid),
            "%s crond" % _quoted(self.busybox),
            "rm -f %s" % _quoted(self.script),
            "rmdir %s 2>/dev/null" % _quoted(self.expiry_dir),
            "logger -t hpsum_ports 'the SUM update window closed: %s removed' 2>/dev/null" % self.file_name,
            "exit 0",
        ]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def boot_block(self, when: datetime.datetime, script: bytes) -> bytes:
        """local.sh's block: re-create the script, then re-arm crond, or run it when the deadline has passed."""
        line = cron_line(when, self.script)
        lines = [
            BLOCK_BEGIN % block_key(self.file_name),
            "# The SUM update window closes at %s: ESXi keeps neither the script nor the crontab line."
            % window.stamp(when),
            "mkdir -p %s" % _quoted(self.expiry_dir),
            "cat > %s <<'%s'" % (_quoted(self.script), HEREDOC),
            script.decode("utf-8").rstrip("\n"),
            HEREDOC,
            'if [ "$(date -u +%%s)" -ge %d ]; then' % int(when.timestamp()),
            "  /bin/sh %s" % _quoted(self.script),
            "else",
            "  grep -qxF -e %s %s || echo %s >> %s" % (_quoted(line), _quoted(self.crontab), _quoted(line),
                                                       _quoted(self.crontab)),
            "  kill $(cat %s) 2>/dev/null" % _quoted(self.crond_pid),
            "  %s crond" % _quoted(self.busybox),
            "fi",
            BLOCK_END % block_key(self.file_name),
        ]
        return ("\n".join(lines) + "\n").encode("utf-8")

    # ------------------------------------------------------------------ reading the host

    def found(self, local: t.Optional[bytes]) -> t.Optional[t.Dict[str, t.Any]]:
        """The record of a schedule on the host (script, else local.sh's block), or None."""
        for content in (read_file(self.script), local):
            for raw in (content or b"").splitlines():
                text = raw.decode("utf-8", "replace")
                if text.startswith(RECORD_PREFIX):
                    return window.read_record(text[len(RECORD_PREFIX):])
        return None

    def crond_running(self) -> bool:
        """Whether the crond of /var/run/crond.pid runs."""
        try:
            pid = int((read_file(self.crond_pid) or b"").strip())
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError, PermissionError):
            return False
        return True

    # ------------------------------------------------------------------ plan and apply

    def plan(self, present: bool, expires: t.Any, local: t.Optional[bytes]) -> t.Dict[str, t.Any]:
        """What ``expires`` asks of the schedule, given local.sh as the ruleset part leaves it (``local``)."""
        found = self.found(local)
        found_at = window.parse_stamp((found or {}).get("deadline"))
        before = ["closes at %s (busybox crond, %s)" % (window.stamp(found_at), self.crontab)] if found_at else []
        crontab_before = read_file(self.crontab)
        script_before = read_file(self.script)
        key = block_key(self.file_name)
        keep = present and (expires is None or str(expires).strip() == "")
        if not present:
            when = None
            crontab_after, script_after = edit_crontab(crontab_before or b"", None, self.script), None
            if crontab_before is None:
                crontab_after = None
            local_after = edit_local_sh(local, key, None) if local is not None else None
        elif keep:
            # No deadline asked for: a deadline set by an earlier run stays as it is.
            when, crontab_after, script_after, local_after = found_at, crontab_before, script_before, local
        else:
            when, first = window.deadline(expires, found, utc_now(), step=60)
            script_after = self.script_text(when, first)
            crontab_after = edit_crontab(crontab_before or b"", cron_line(when, self.script), self.script)
            if local is None:
                raise option_error("expires", expires, "needs %s (it brings the deadline back after a reboot), "
                                                       "which does not exist" % self.local_sh)
            local_after = edit_local_sh(local, key, self.boot_block(when, script_after))
        if local_after is not None and find_block(local_after.splitlines(True), key) is not None:
            local_after = self._last(local_after, key)
        crontab_changed = crontab_after != crontab_before
        restart = crontab_changed or (when is not None and not keep and not self.crond_running())
        after = ["closes at %s (busybox crond, %s)" % (window.stamp(when), self.crontab)] if when else []
        return {
            "changed": crontab_changed or script_after != script_before or restart,
            "expires_at": window.stamp(when) if when else None,
            "before": before,
            "after": after,
            "crontab": (crontab_before, crontab_after),
            "script": (script_before, script_after),
            "local": local_after,
            "restart": restart,
            "install": present and not keep,
        }

    def _last(self, local: bytes, key: str) -> bytes:
        """local.sh with the deadline's block after the ruleset's own (at boot the ruleset comes back first)."""
        lines = local.splitlines(True)
        mine = find_block(lines, key)
        ruleset = find_block(lines, self.file_name)
        if mine is None or ruleset is None or ruleset[0] < mine[0]:
            return local
        block = b"".join(lines[mine[0]: mine[1] + 1])
        return edit_local_sh(edit_local_sh(local, key, None), key, block)

    def diff(self, plan: t.Mapping[str, t.Any]) -> t.List[t.Dict[str, str]]:
        """The diff entries of the schedule: the deadline, root's crontab, the script (when they change)."""
        entries = [{"before_header": "expiry", "after_header": "expiry",
                    "before": "".join(line + "\n" for line in plan["before"]),
                    "after": "".join(line + "\n" for line in plan["after"])}]
        for path, (before, after) in ((self.crontab, plan["crontab"]), (self.script, plan["script"])):
            if before != after:
                entries.append({"before_header": path, "after_header": path, "before": diff_text(before),
                                "after": diff_text(after)})
        return entries

    def preflight(self, plan: t.Mapping[str, t.Any]) -> None:
        """What an install needs is there, checked before any change."""
        if not plan["install"] or not plan["changed"]:
            return
        if not os.access(self.busybox, os.X_OK):
            raise SumPortsError("expires: %s (ESXi's busybox, which runs crond) is not on this host" % self.busybox,
                                option="expires")
        if not os.path.isdir(os.path.dirname(self.crontab)):
            raise SumPortsError("expires: %s does not exist: this host has no busybox crond"
                                % os.path.dirname(self.crontab), option="expires")

    def apply(self, plan: t.Mapping[str, t.Any]) -> None:
        """Write the script and the crontab, restart crond (local.sh is written with the ruleset's block)."""
        script_before, script_after = plan["script"]
        if script_after is not None and script_after != script_before:
            if not os.path.isdir(self.expiry_dir):
                os.makedirs(self.expiry_dir, 0o700)
            write_file_atomic(self.module, self.script, script_after, mode=0o700)
        crontab_before, crontab_after = plan["crontab"]
        if crontab_after is not None and crontab_after != crontab_before:
            write_file_atomic(self.module, self.crontab, crontab_after, mode=None if crontab_before else 0o600)
        if plan["restart"]:
            self.restart_crond()
        if script_after is None and script_before is not None:
            os.unlink(self.script)
            with contextlib.suppress(OSError):
                os.rmdir(self.expiry_dir)  # ours, and empty now

    def restart_crond(self) -> None:
        """Restart crond as VMware documents it: kill the running one, start busybox crond again."""
        try:
            pid = int((read_file(self.crond_pid) or b"").strip())
        except ValueError:
            pid = 0
        if pid > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
                for _i in range(50):  # never two crond at once
                    os.kill(pid, 0)
                    time.sleep(0.1)
        if os.access(self.busybox, os.X_OK):
            rc, out, err = self.module.run_command([self.busybox, "crond"])
            if rc != 0:
                raise SumPortsError("busybox crond failed (rc=%d): %s" % (rc, (err or out).strip()), option="expires")
