# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A window that closes itself: at the deadline the host's own systemd runs host_firewall state=absent.

At ``state=present`` with ``expires``, host_firewall leaves on the host everything the removal
needs without the controller: the module's own code (the zip Ansible shipped it in, so the
removal is exactly the code of ``close.yml``), its arguments for ``state=absent``, and a
systemd service with a timer (``OnCalendar=`` at the deadline in UTC, ``Persistent=true``,
enabled: a unit file on disk, so it survives a reboot, and a deadline missed while the host
was off fires at the next boot). ``state=absent`` (``close.yml``, or the timer itself)
removes the rules, then the timer, the service and every file of the schedule.

A duration counts from the first open that asked for a deadline: a second run with the same
duration finds the deadline on the host and keeps it (no change). An absolute deadline that
differs from the one found is a change.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import contextlib
import datetime
import json
import os
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.apply import window
from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import Runner
from ansible_collections.hpsum.ports.plugins.module_utils.apply.window import parse_stamp, stamp, utc_now
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

UNIT = "hpsum-ports-expire"
STATE_DIR = "/var/lib/hpsum_ports"
SYSTEMD_DIR = "/etc/systemd/system"
MODULE_FQN = "ansible_collections.hpsum.ports.plugins.modules.host_firewall"
# The host_firewall options the removal repeats (where the backend keeps its boot files).
CARRIED = ("backend", "persist", "nftables_conf", "iptables_rules_v4", "iptables_rules_v6")


def payload_source() -> t.Optional[str]:
    """The zip Ansible shipped this module in (it holds the module and every module_utils it imports)."""
    return getattr(globals().get("__loader__"), "archive", None)


class Expiry:
    """The host's schedule: read it, compute the wanted one, write or cancel it."""

    def __init__(self, runner: Runner, params: t.Mapping[str, t.Any], state_dir: str = STATE_DIR,
                 systemd_dir: str = SYSTEMD_DIR, python: str = "/usr/bin/python3",
                 payload: t.Optional[str] = None) -> None:
        self.runner = runner
        self.params = params
        self.python = python
        self.payload = payload
        self.paths = {
            "state": os.path.join(state_dir, "expire.json"),
            "args": os.path.join(state_dir, "expire-args.json"),
            "payload": os.path.join(state_dir, "host_firewall.zip"),
            "service": os.path.join(systemd_dir, UNIT + ".service"),
            "timer": os.path.join(systemd_dir, UNIT + ".timer"),
        }

    def current(self) -> t.Optional[t.Dict[str, t.Any]]:
        """The schedule found on the host ({deadline, first_open}), or None."""
        return window.read_record(self.runner.read(self.paths["state"]))

    def deadline(self, expires: t.Any, found: t.Optional[t.Mapping[str, t.Any]],
                 now: datetime.datetime) -> t.Tuple[datetime.datetime, datetime.datetime]:
        """(deadline, first open) for ``expires``; a duration counts from the schedule's first open."""
        return window.deadline(expires, found, now)

    def files(self, when: datetime.datetime, first: datetime.datetime, backend: str) -> t.Dict[str, bytes]:
        """The schedule's files (the payload aside) for a deadline."""
        args = {key: self.params.get(key) for key in CARRIED}
        args.update(state="absent", backend=backend, expiry_state_dir=os.path.dirname(self.paths["state"]),
                    expiry_systemd_dir=os.path.dirname(self.paths["timer"]))
        state = dict(window.record(when, first), unit=UNIT + ".timer")
        calendar = when.strftime("%Y-%m-%d %H:%M:%S UTC")
        service = (
            "[Unit]\n"
            "Description=hpsum.ports: close the SUM update window (remove the collection's firewall rules)\n"
            "After=network-pre.target firewalld.service ufw.service nftables.service netfilter-persistent.service\n"
            "\n[Service]\nType=oneshot\nEnvironment=HOME=/root PYTHONPATH=%s\n"
            # The module cannot remove the zip it runs from: the shell does once it has succeeded.
            "ExecStart=/bin/sh -c \"%s -m %s %s && rm -f %s %s && rmdir %s\"\n"
            % (self.paths["payload"], self.python, MODULE_FQN, self.paths["args"], self.paths["payload"],
               self.paths["args"], os.path.dirname(self.paths["state"])))
        timer = (
            "[Unit]\nDescription=hpsum.ports: the SUM update window closes at %s\n"
            "\n[Timer]\nOnCalendar=%s\nPersistent=true\nAccuracySec=1s\nUnit=%s.service\n"
            "\n[Install]\nWantedBy=timers.target\n" % (stamp(when), calendar, UNIT))
        return {
            self.paths["state"]: (json.dumps(state, sort_keys=True) + "\n").encode("utf-8"),
            self.paths["args"]: (json.dumps({"ANSIBLE_MODULE_ARGS": args}, sort_keys=True) + "\n").encode("utf-8"),
            self.paths["service"]: service.encode("utf-8"),
            self.paths["timer"]: timer.encode("utf-8"),
        }

    def plan(self, state: str, expires: t.Any, backend: str) -> t.Dict[str, t.Any]:
        """What ``state`` and ``expires`` ask of the schedule: changed, when the window closes, the diff lines."""
        found = self.current()
        found_at = parse_stamp((found or {}).get("deadline"))
        before = ["closes at %s (systemd timer %s.timer)" % (stamp(found_at), UNIT)] if found_at else []
        if state == "absent":
            present = [p for p in self.paths.values() if self.runner.read(p) is not None]
            return {"changed": bool(present), "expires_at": None, "before": before, "after": [], "files": None}
        if expires is None or str(expires).strip() == "":
            # No deadline asked for: a deadline set by an earlier run stays as it is.
            return {"changed": False, "expires_at": stamp(found_at) if found_at else None,
                    "before": before, "after": before, "files": None}
        when, first = self.deadline(expires, found, utc_now())
        wanted = self.files(when, first, backend)
        changed = any(self.runner.read(p) != c for p, c in wanted.items()) \
            or self.runner.read(self.paths["payload"]) is None
        after = ["closes at %s (systemd timer %s.timer)" % (stamp(when), UNIT)]
        return {"changed": changed, "expires_at": stamp(when), "before": before, "after": after, "files": wanted}

    def apply(self, plan: t.Mapping[str, t.Any]) -> None:
        """Install the planned schedule, or cancel the one there is."""
        if not plan["changed"]:
            return
        if plan["files"] is None:
            self.cancel()
        else:
            self.install(plan["files"])

    def preflight(self) -> t.Tuple[str, str]:
        """(payload source, systemctl): what an install needs, checked before any change."""
        source = self.payload or payload_source()
        if not source:
            raise SumPortsError("expires: the module does not run from Ansible's module zip, so there is no code to "
                                "leave on the host for the removal", option="expires")
        systemctl = self.runner.which("systemctl")
        if not systemctl:
            raise SumPortsError("expires: the host has no systemctl; a deadline needs systemd's timers",
                                option="expires")
        return source, systemctl

    def install(self, wanted: t.Mapping[str, bytes]) -> None:
        """Write the files and the payload, then (re)start the enabled timer."""
        source, systemctl = self.preflight()
        state_dir = os.path.dirname(self.paths["state"])
        if not os.path.isdir(state_dir):
            os.makedirs(state_dir, 0o700)
        with open(source, "rb") as handle:
            self.runner.write(self.paths["payload"], handle.read())
        for path, content in wanted.items():
            self.runner.write(path, content)
        self.runner.run([systemctl, "daemon-reload"])
        self.runner.run([systemctl, "enable", UNIT + ".timer"])
        self.runner.run([systemctl, "restart", UNIT + ".timer"])

    def cancel(self) -> None:
        """Stop and disable the timer, remove every file of the schedule.

        Run by the timer itself, the module runs from the payload: the zip and its arguments are
        left to the service's shell, which removes them once the module has exited with success.
        """
        systemctl = self.runner.which("systemctl")
        if systemctl:
            self.runner.run([systemctl, "disable", "--now", UNIT + ".timer"], check=False)
        from_payload = payload_source() == self.paths["payload"]
        for key in ("timer", "service", "state") + (() if from_payload else ("args", "payload")):
            self.runner.write(self.paths[key], None)
        if systemctl:
            self.runner.run([systemctl, "daemon-reload"], check=False)
        if not from_payload:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(self.paths["state"]))  # ours, and empty now
