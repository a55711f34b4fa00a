# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ufw backend: rules of ufw's own format with a ``hpsum.ports:...`` comment, first in ufw's rule files.

ufw's state is the pair /etc/ufw/user.rules and user6.rules: for each rule a ``### tuple ###``
line (what ``ufw status`` lists; the comment hex-encoded) and the iptables lines ufw loads.
The apply puts our blocks first in both files (so that the drops of other sources come before
the user's own rules; every foreign byte kept) and loads each file into the live tables the way
ufw itself does after a rule change: ``iptables-restore --noflush`` of the file, whose chain
declarations empty ufw's user chains and refill them in one transaction per address family.
No ``ufw reload`` (which tears down and rebuilds every ufw chain): the rest of ufw's tables is
not touched. A file iptables refuses changes nothing; the IPv4 tables are loaded back from the
old file when the IPv6 ones fail, and the files are written only after both loaded. On any
failure the old files are loaded again and written back. ufw's before.rules already accept
loopback and established traffic, so no reply rules are needed; outbound rules are added when
ufw's default outgoing policy is deny or reject.

The snapshot runs no ufw command (each is a Python start-up): ufw is active when its ufw.conf says
``ENABLED=yes`` and its user chains are loaded (``iptables-save -t filter``, what ``ufw status``
checks), and the outgoing default is ``DEFAULT_OUTPUT_POLICY`` of /etc/default/ufw, where ufw itself
reads it.
"""


from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import binascii
import ipaddress
import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import (
    TAG,
    Backend,
    Entry,
    FailHook,
    Runner,
    Snapshot,
    Target,
)
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

USER_FILES = {4: "/etc/ufw/user.rules", 6: "/etc/ufw/user6.rules"}
CONF = "/etc/ufw/ufw.conf"
DEFAULTS = "/etc/default/ufw"
# The chain ufw loads when it is active: ``ufw status`` says inactive exactly when iptables lacks it.
USER_CHAIN = re.compile(r"^:ufw-user-input ", re.M)
_SETTING = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.M)
RESTORE = {4: "iptables-restore", 6: "ip6tables-restore"}
BEGIN, END = "### RULES ###\n", "### END RULES ###\n"
# ufw keeps one rule per match: a "deny from any" would collide with the user's own "allow 22/tcp"
# (ufw skips it as existing). Two halves of each address space match the same sources and are
# rules of their own.
HALVES = {4: ("0.0.0.0/1", "128.0.0.0/1"), 6: ("::/1", "8000::/1")}
ANY = {4: "0.0.0.0/0", 6: "::/0"}
# The test hook's rule: a port iptables-restore refuses, so that loading the file fails.
BAD_BLOCK = (b"### tuple ### allow tcp 99999 0.0.0.0/0 any 0.0.0.0/0 in\n"
             b"-A ufw-user-input -p tcp --dport 99999 -j ACCEPT\n\n")


def _addr(net: str) -> str:
    """ufw writes a host without its prefix length."""
    network = ipaddress.ip_network(net)
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else net


def ufw_rules(entry: Entry, ipv6: bool) -> t.List[t.Tuple[int, str]]:
    """(family, peer network) of the ufw rules one entry makes."""
    families = [4, 6] if ipv6 else [4]
    if entry.kind == "drop":
        return [(f, half) for f in families if entry.family in (None, f) for half in HALVES[f]]
    if entry.net:
        return [(t.cast(int, entry.family), entry.net)] if entry.family in families else []
    return [(f, ANY[f]) for f in families]


def rule_block(entry: Entry, family: int, peer: str) -> str:
    """One rule exactly as ufw 0.36 writes it to user.rules / user6.rules."""
    action = "deny" if entry.kind == "drop" else "allow"
    target = "DROP" if entry.kind == "drop" else "ACCEPT"
    prefix = "ufw6" if family == 6 else "ufw"
    comment = binascii.hexlify(entry.key.encode("utf-8")).decode("ascii")
    address = _addr(peer)
    if entry.hook == "input":
        tuple_ = "%s %s %d %s any %s in" % (action, entry.protocol, entry.port, ANY[family], address)
        match = "-p %s --dport %d" % (entry.protocol, entry.port) + ("" if peer == ANY[family] else " -s " + address)
        chain = prefix + "-user-input"
    else:
        tuple_ = "%s %s %d %s any %s out" % (action, entry.protocol, entry.port, address, ANY[family])
        match = "-p %s%s --dport %d" % (entry.protocol, "" if peer == ANY[family] else " -d " + address, entry.port)
        chain = prefix + "-user-output"
    return "### tuple ### %s comment=%s\n-A %s %s -j %s\n\n" % (tuple_, comment, chain, match, target)


def split_rules(text: str) -> t.Tuple[str, t.List[t.Tuple[t.Optional[str], str]], str]:
    """A user.rules text -> (head through the blank line after RULES, [(our key or None, block)], tail)."""
    start = text.find(BEGIN)
    end = text.find(END)
    if start < 0 or end < start:
        raise SumPortsError("ufw: no '### RULES ###' section in its rules file; is this ufw's user.rules?")
    body_start = start + len(BEGIN)
    if text.startswith("\n", body_start):
        body_start += 1
    head, body, tail = text[:body_start], text[body_start:end], text[end:]
    blocks = []  # type: t.List[t.Tuple[t.Optional[str], str]]
    for chunk in re.split(r"(?<=\n\n)", body):
        if not chunk:
            continue
        match = re.search(r"^### tuple ###.* comment=([0-9a-f]+)\s*$", chunk, re.M)
        key = None
        if match:
            try:
                text_comment = binascii.unhexlify(match.group(1)).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                text_comment = ""
            key = text_comment if text_comment.startswith(TAG) else None
        blocks.append((key, chunk))
    return head, blocks, tail


def parse_settings(content: t.Optional[bytes]) -> t.Dict[str, str]:
    """A ufw.conf or /etc/default/ufw -> {KEY: lower-case value without quotes}, as ufw reads them."""
    text = (content or b"").decode("utf-8", "replace")
    return {key: value.strip().strip("\"'").lower() for key, value in _SETTING.findall(text)}


def policy_word(value: str) -> str:
    """A DEFAULT_*_POLICY value as ``ufw status verbose`` says it: allow, reject or deny."""
    return {"accept": "allow", "reject": "reject"}.get(value, "deny")


class UfwBackend(Backend):
    """ufw through its rule files, its settings files and ``iptables-restore --noflush``."""

    name = "ufw"
    stateless_replies = False

    def __init__(self, runner: Runner, ipv6: t.Optional[bool] = None) -> None:
        super().__init__(runner)
        self._ipv6 = ipv6
        self._defaults = None  # type: t.Optional[t.Dict[str, str]]

    def available(self) -> bool:
        """ufw is installed and active (see active())."""
        return bool(self.runner.which("ufw")) and self.active()

    def active(self) -> bool:
        """ENABLED=yes in ufw.conf and ufw's user chains loaded (``ufw status`` without its Python start-up)."""
        if parse_settings(self.runner.read(CONF)).get("ENABLED") != "yes":
            return False
        save = self.runner.which("iptables-save")
        if not save:
            return False
        rc, out, _err = self.runner.run([save, "-t", "filter"], check=False)
        return rc == 0 and bool(USER_CHAIN.search(out))

    def defaults(self) -> t.Dict[str, str]:
        """/etc/default/ufw's settings (read once)."""
        if self._defaults is None:
            self._defaults = parse_settings(self.runner.read(DEFAULTS))
        return self._defaults

    def ipv6(self) -> bool:
        """Whether ufw manages IPv6 too (IPV6=yes in /etc/default/ufw, the default)."""
        if self._ipv6 is None:
            self._ipv6 = self.defaults().get("IPV6", "yes") == "yes"
        return self._ipv6

    def families(self) -> t.List[int]:
        """4, and 6 when ufw manages IPv6."""
        return [4, 6] if self.ipv6() else [4]

    def snapshot(self) -> Snapshot:
        """Our rules in file order (v4 file, then v6), the outgoing default, both files."""
        self.command("ufw")  # named but not installed: say so
        if not self.active():
            raise SumPortsError("backend: ufw is not active on this host", option="backend", value="ufw")
        files = {path: self.runner.read(path) for path in USER_FILES.values()}
        lines = []
        for family in self.families():
            content = files[USER_FILES[family]]
            if content is None:
                raise SumPortsError("ufw: %s is missing" % USER_FILES[family])
            _head, blocks, _tail = split_rules(content.decode("utf-8"))
            lines.extend("v%d: %s" % (family, key) for key, _block in blocks if key)
        outbound = policy_word(self.defaults().get("DEFAULT_OUTPUT_POLICY", "accept")) in ("deny", "reject")
        return Snapshot(lines, outbound, files)

    def target(self, snapshot: Snapshot, entries: t.Sequence[Entry]) -> Target:
        """Our blocks first in each file, the foreign ones after them, byte for byte."""
        chosen = [e for e in entries if e.kind != "lo" and (e.hook == "input" or snapshot.outbound_filtered)]
        lines = []
        files = {}  # type: t.Dict[str, t.Optional[bytes]]
        for family in self.families():
            path = USER_FILES[family]
            head, blocks, tail = split_rules((snapshot.files[path] or b"").decode("utf-8"))
            ours = [(e, peer) for e in chosen for f, peer in ufw_rules(e, self.ipv6()) if f == family]
            lines.extend("v%d: %s" % (family, e.key) for e, _peer in ours)
            body = "".join(rule_block(e, family, peer) for e, peer in ours)
            body += "".join(block for key, block in blocks if key is None)
            files[path] = (head + body + tail).encode("utf-8")
        return Target(lines, files)

    def load(self, family: int, content: bytes) -> None:
        """Load one rules file into ufw's live user chains: one transaction, as ufw does after a rule change."""
        path = self.runner.which(RESTORE[family])
        if not path:
            raise SumPortsError("backend: ufw was asked for but %s is missing" % RESTORE[family],
                                option="backend", value="ufw")
        self.runner.run([path, "--noflush"], data=content.decode("utf-8"))

    def apply(self, snapshot: Snapshot, target: Target, hook: FailHook) -> None:
        """Load each changed file into the live tables, then write the files; on failure load and write the old ones."""
        files = dict(target.files)
        if hook.bad_rule:
            files[USER_FILES[4]] = (files[USER_FILES[4]] or b"").replace(END.encode(), BAD_BLOCK + END.encode())
        changed = [(family, path) for family, path in sorted(USER_FILES.items())
                   if path in files and files[path] != snapshot.files.get(path)]
        loaded = []  # type: t.List[int]
        written = []  # type: t.List[str]
        try:
            for family, path in changed:
                self.load(family, t.cast(bytes, files[path]))
                loaded.append(family)
                hook.step_done("load %s" % path)
            for _family, path in changed:
                written.append(path)
                self.runner.write(path, files[path])
        except Exception:
            for family in reversed(loaded):
                old = snapshot.files.get(USER_FILES[family])
                if old is not None:
                    self.runner.run([t.cast(str, self.runner.which(RESTORE[family])), "--noflush"],
                                    data=old.decode("utf-8"), check=False)
            for path in written:
                self.runner.write(path, snapshot.files.get(path))
            raise
