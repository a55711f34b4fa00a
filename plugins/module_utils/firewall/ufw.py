# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ufw backend: rules with a ``hpsum.ports:...`` comment, put first with ``ufw prepend``.

ufw has no transaction of its own: its state is the pair /etc/ufw/user.rules and
user6.rules, which every ufw command rewrites and loads. The apply snapshots both
files, deletes our rules (highest number first) and prepends the wanted ones (ours
must come before the user's own rules for the drops of other sources to count); on
any failure it writes the two files back and runs ``ufw reload``, which puts the
live rules back too. ufw's before.rules already accept loopback and established
traffic, so no reply rules are needed; outbound rules are added when ufw's default
outgoing policy is deny or reject.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import ipaddress
import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.firewall.base import (
    TAG,
    Backend,
    Entry,
    FailHook,
    Runner,
    Snapshot,
    Target,
)

USER_FILES = ("/etc/ufw/user.rules", "/etc/ufw/user6.rules")
_NUMBERED = re.compile(r"^\[\s*(\d+)\]\s+(.*?)(?:\s+#\s*(.*))?$")
_DEFAULTS = re.compile(r"^Default:\s*(.*)$", re.M)


# ufw keeps one rule per match: a "deny from any" would collide with the user's own "allow 22/tcp"
# (ufw skips it as existing). Two halves of each address space match the same sources and are
# rules of their own.
HALVES = {4: ("0.0.0.0/1", "128.0.0.0/1"), 6: ("::/1", "8000::/1")}


def ufw_args(entry: Entry, source: t.Optional[str] = None) -> t.List[str]:
    """The ``ufw prepend`` arguments of one entry (after ``prepend``); ``source`` overrides the peer."""
    action = "deny" if entry.kind == "drop" else "allow"
    if entry.hook == "input":
        args = [action, "in", "proto", entry.protocol, "from", source or entry.net or "any", "to", "any", "port",
                str(entry.port)]
    else:
        args = [action, "out", "proto", entry.protocol, "to", entry.net or "any", "port", str(entry.port)]
    return [*args, "comment", entry.key]


def ufw_rules(entry: Entry, ipv6: bool) -> t.List[t.Tuple[int, t.List[str]]]:
    """(family, prepend arguments) of the ufw rules one entry makes; family 0 means both."""
    if entry.kind == "drop":
        families = [4, 6] if ipv6 else [4]
        return [(f, ufw_args(entry, half)) for f in families for half in HALVES[f]]
    if entry.family is None:
        return [(0, ufw_args(entry))]
    return [(entry.family, ufw_args(entry))]


def parse_numbered(text: str) -> t.List[t.Tuple[int, bool, str]]:
    """``ufw status numbered`` -> [(number, is_v6, comment)] for every rule."""
    rules = []
    for line in text.splitlines():
        match = _NUMBERED.match(line.strip())
        if match:
            rules.append((int(match.group(1)), _is_v6(match.group(2)), (match.group(3) or "").strip()))
    return rules


def _is_v6(text: str) -> bool:
    """ufw marks "Anywhere (v6)" rules; a rule with an IPv6 address shows only the address."""
    if "(v6)" in text:
        return True
    for word in text.split():
        try:
            if ipaddress.ip_network(word, strict=False).version == 6:
                return True
        except ValueError:
            continue
    return False


def parse_defaults(text: str) -> t.Dict[str, str]:
    """``ufw status verbose`` -> {'incoming': 'deny', 'outgoing': 'allow', 'routed': ...}."""
    match = _DEFAULTS.search(text)
    out = {}
    if match:
        for part in match.group(1).split(","):
            words = part.strip().split()
            if len(words) == 2:
                out[words[1].strip("()")] = words[0]
    return out


class UfwBackend(Backend):
    """ufw through its command line."""

    name = "ufw"
    stateless_replies = False

    def __init__(self, runner: Runner, ipv6: t.Optional[bool] = None) -> None:
        super().__init__(runner)
        self._ipv6 = ipv6

    def _cmd(self) -> str:
        path = self.runner.which("ufw")
        if not path:
            raise SumPortsError("backend: ufw was asked for but the ufw command is missing", option="backend",
                                value="ufw")
        return path

    def available(self) -> bool:
        """ufw status says active."""
        if not self.runner.which("ufw"):
            return False
        rc, out, _err = self.runner.run([self._cmd(), "status"], check=False)
        return rc == 0 and "Status: active" in out

    def ipv6(self) -> bool:
        """Whether ufw manages IPv6 too (IPV6=yes in /etc/default/ufw, the default)."""
        if self._ipv6 is None:
            content = (self.runner.read("/etc/default/ufw") or b"").decode("utf-8", "replace")
            match = re.search(r"^IPV6=(\S+)", content, re.M)
            self._ipv6 = (match.group(1).strip("\"'").lower() if match else "yes") == "yes"
        return self._ipv6

    def snapshot(self) -> Snapshot:
        """Our rules in listing order (v4 then v6), outgoing default, user files for rollback."""
        cmd = self._cmd()
        _rc, verbose, _err = self.runner.run([cmd, "status", "verbose"])
        if "Status: active" not in verbose:
            raise SumPortsError("backend: ufw is not active on this host", option="backend", value="ufw")
        _rc, numbered, _err = self.runner.run([cmd, "status", "numbered"])
        rules = parse_numbered(numbered)
        lines = ["%s: %s" % ("v6" if v6 else "v4", comment) for _n, v6, comment in rules if comment.startswith(TAG)]
        ours = [n for n, _v6, comment in rules if comment.startswith(TAG)]
        outbound = parse_defaults(verbose).get("outgoing", "allow") in ("deny", "reject")
        files = {path: self.runner.read(path) for path in USER_FILES}
        return Snapshot(lines, outbound, files, ours=ours)

    def target(self, snapshot: Snapshot, entries: t.Sequence[Entry]) -> Target:
        """Lines as ufw lists them after our prepends: v4 entries, then v6 entries."""
        chosen = [e for e in entries if e.kind != "lo" and (e.hook == "input" or snapshot.outbound_filtered)]
        rules = [rule for e in chosen for rule in ufw_rules(e, self.ipv6())]
        lines = ["v4: %s" % args[-1] for family, args in rules if family in (0, 4)]
        if self.ipv6():
            lines += ["v6: %s" % args[-1] for family, args in rules if family in (0, 6)]
        return Target(lines, {}, rules=[args for _family, args in rules])

    def apply(self, snapshot: Snapshot, target: Target, hook: FailHook) -> None:
        """Delete ours, prepend the wanted ones in reverse order; on failure restore files and reload."""
        cmd = self._cmd()
        try:
            first = True
            for number in sorted(snapshot.extra["ours"], reverse=True):
                self.runner.run([cmd, "--force", "delete", str(number)])
                if first:
                    hook.step_done("ufw delete %d" % number)
                    first = False
            for args in reversed(target.extra["rules"]):
                self.runner.run([cmd, "prepend", *args])
                if first:
                    hook.step_done("ufw prepend %s" % args[-1])
                    first = False
            if hook.bad_rule:
                self.runner.run([cmd, "prepend", "allow", "in", "proto", "tcp", "to", "any", "port", "99999"])
        except Exception:
            for path, content in snapshot.files.items():
                if content is not None:
                    self.runner.write(path, content)
            self.runner.run([cmd, "reload"], check=False)
            raise
