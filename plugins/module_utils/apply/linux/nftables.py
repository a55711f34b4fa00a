# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nftables backend: tagged chains jumped to from the chains that filter, one ``nft -f`` transaction.

An accept in a table of our own would not override a drop in another table's base
chain, so the rules land where the filtering is: in every table that has a filter
base chain on the input hook (and on output, where output is filtered) we add a
regular chain ``hpsum_ports_in`` / ``hpsum_ports_out`` holding the tagged rules, and
insert one tagged ``jump`` at the top of each such base chain. A host without any
input base chain gets a table of its own, ``inet hpsum_ports``. Every other table,
chain and rule is untouched. /etc/nftables.conf keeps its bytes; a marked block at
its end carries the same chains and jumps for the next boot.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import json
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import (
    JUMP_KEY,
    TAG,
    Backend,
    Entry,
    FailHook,
    Runner,
    Snapshot,
    Target,
)
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

OWN_TABLE = ("inet", "hpsum_ports")
CHAINS = {"input": "hpsum_ports_in", "output": "hpsum_ports_out"}
FAMILIES = ("inet", "ip", "ip6")
BEGIN = "# BEGIN hpsum.ports host_firewall: managed block, do not edit"
BEGIN_NL = BEGIN + " (newline added)"
END = "# END hpsum.ports host_firewall"
DEFAULT_CONF = "/etc/nftables.conf"


def _quote(text: str) -> str:
    return '"%s"' % text


def render_rule(entry: Entry) -> str:
    """The nft statement of one entry (without ``add rule ...``)."""
    if entry.kind == "lo":
        return 'iifname "lo" return comment %s' % _quote(entry.key)
    parts = []
    if entry.whole_family:
        parts.append("meta nfproto %s" % ("ipv4" if entry.family == 4 else "ipv6"))
    elif entry.net:
        family = "ip" if entry.family == 4 else "ip6"
        parts.append("%s %s %s" % (family, "saddr" if entry.address_side == "src" else "daddr", entry.net))
    parts.append("%s %s %d" % (entry.protocol, "sport" if entry.port_side == "src" else "dport", entry.port))
    if entry.conntrack:
        parts.append("ct state %s" % entry.conntrack)
    parts.append(entry.verdict)
    parts.append("comment %s" % _quote(entry.key))
    return " ".join(parts)


def fits_family(entry: Entry, family: str) -> bool:
    """Whether a table of ``family`` can carry the entry (ip: IPv4 only, ip6: IPv6 only)."""
    return entry.family is None or family == "inet" or (family == "ip") == (entry.family == 4)


def _iptables_nft(key: t.Tuple[str, str, str]) -> bool:
    """A built-in chain of iptables-nft (table ip/ip6 filter, chain INPUT...): iptables' to manage, not ours."""
    return key[0] in ("ip", "ip6") and key[1] == "filter" and key[2] in ("INPUT", "FORWARD", "OUTPUT")


def _is_drop(rule: t.Mapping[str, t.Any]) -> bool:
    return any(isinstance(expr, dict) and ("drop" in expr or "reject" in expr) for expr in rule.get("expr", []))


class Ruleset:
    """The parts of ``nft -j list ruleset`` that matter here."""

    def __init__(self, data: t.Mapping[str, t.Any]) -> None:
        self.tables = []  # type: t.List[t.Tuple[str, str]]
        self.chains = {}  # type: t.Dict[t.Tuple[str, str, str], t.Dict[str, t.Any]]
        self.rules = {}  # type: t.Dict[t.Tuple[str, str, str], t.List[t.Dict[str, t.Any]]]
        for item in data.get("nftables", []):
            if "table" in item:
                self.tables.append((item["table"]["family"], item["table"]["name"]))
            elif "chain" in item:
                chain = item["chain"]
                self.chains[(chain["family"], chain["table"], chain["name"])] = chain
            elif "rule" in item:
                rule = item["rule"]
                self.rules.setdefault((rule["family"], rule["table"], rule["chain"]), []).append(rule)

    def base_chains(self, hook: str) -> t.List[t.Tuple[str, str, str]]:
        """Filter base chains on ``hook`` in ip/ip6/inet tables that are not ours, in listing order."""
        return [
            key for key, chain in self.chains.items()
            if chain.get("hook") == hook and chain.get("type") == "filter" and key[0] in FAMILIES
            and (key[0], key[1]) != OWN_TABLE and not _iptables_nft(key)
        ]

    def filters(self, key: t.Tuple[str, str, str]) -> bool:
        """Whether a base chain drops traffic: policy drop, or a drop/reject rule."""
        return self.chains[key].get("policy") == "drop" or any(_is_drop(r) for r in self.rules.get(key, []))

    def jumps(self) -> t.List[t.Tuple[t.Tuple[str, str, str], int, str]]:
        """Our tagged jumps: (base chain, handle, target chain)."""
        found = []
        for key, rules in self.rules.items():
            for rule in rules:
                if rule.get("comment") == JUMP_KEY:
                    target = ""
                    for expr in rule.get("expr", []):
                        if isinstance(expr, dict) and "jump" in expr:
                            target = expr["jump"].get("target", "")
                    found.append((key, rule["handle"], target))
        return found


class NftablesBackend(Backend):
    """nftables through ``nft -j list ruleset`` and ``nft -f -``."""

    name = "nftables"
    stateless_replies = True

    def __init__(self, runner: Runner, conf: str = DEFAULT_CONF, persist: bool = True) -> None:
        super().__init__(runner)
        self.conf = conf
        self.persist = persist

    def available(self) -> bool:
        """nft exists and the ruleset has a table (or nothing else claims the host)."""
        return bool(self.runner.which("nft"))

    def _nft(self) -> str:
        return self.command("nft")

    def read_ruleset(self) -> Ruleset:
        """The live ruleset, parsed."""
        _rc, out, _err = self.runner.run([self._nft(), "-j", "list", "ruleset"])
        try:
            return Ruleset(json.loads(out or "{}"))
        except ValueError as exc:
            raise SumPortsError("nft -j list ruleset printed no JSON: %s" % exc) from None

    def snapshot(self) -> Snapshot:
        """Our jumps and chains as lines, in the ruleset's order; the conf file."""
        ruleset = self.read_ruleset()
        lines = []
        ours = sorted({(k[0], k[1]) for k, _h, _t in ruleset.jumps()} | {
            (k[0], k[1]) for k in ruleset.chains if k[2] in CHAINS.values()
        } | ({OWN_TABLE} if OWN_TABLE in ruleset.tables else set()))
        for family, table in ours:
            lines.extend(self._table_lines_live(ruleset, family, table))
        outbound = any(ruleset.filters(key) for key in ruleset.base_chains("output"))
        files = {self.conf: self.runner.read(self.conf)} if self.persist else {}
        return Snapshot(lines, outbound, files, ruleset=ruleset)

    @staticmethod
    def _table_lines_live(ruleset: Ruleset, family: str, table: str) -> t.List[str]:
        lines = []
        if (family, table) == OWN_TABLE:
            lines.append("%s %s: table of its own" % (family, table))
        for key, _handle, target in ruleset.jumps():
            if key[:2] == (family, table):
                lines.append("%s %s %s: jump %s" % (family, table, key[2], target))
        for chain in CHAINS.values():
            if (family, table, chain) in ruleset.chains:
                lines.append("%s %s %s: chain" % (family, table, chain))
                for rule in ruleset.rules.get((family, table, chain), []):
                    lines.append("%s %s %s: %s" % (family, table, chain, rule.get("comment", "<untagged rule>")))
        return lines

    def placement(self, ruleset: Ruleset, entries: t.Sequence[Entry], outbound: bool
                  ) -> t.Dict[t.Tuple[str, str], t.Dict[str, t.Any]]:
        """Per table: which base chains jump to which of our chains, and the entries of each chain."""
        tables = {}  # type: t.Dict[t.Tuple[str, str], t.Dict[str, t.Any]]
        for hook in ("input", "output"):
            chain_entries = [e for e in entries if e.hook == hook]
            if not chain_entries:
                continue
            bases = ruleset.base_chains(hook)
            if hook == "output":
                bases = [key for key in bases if ruleset.filters(key)] if outbound else []
            elif not bases:
                bases = [(*OWN_TABLE, "input")]
            for family, table, base in bases:
                fitting = [e for e in chain_entries if fits_family(e, family)]
                if all(e.kind == "lo" for e in fitting):  # the loopback return alone guards no drop
                    continue
                slot = tables.setdefault((family, table), {"jumps": [], "chains": {}})
                slot["jumps"].append((base, CHAINS[hook]))
                slot["chains"][CHAINS[hook]] = fitting
        return tables

    def target(self, snapshot: Snapshot, entries: t.Sequence[Entry]) -> Target:
        """Lines in the order snapshot() reads them back, and the conf file with its block."""
        ruleset = snapshot.extra["ruleset"]
        tables = self.placement(ruleset, entries, snapshot.outbound_filtered)
        lines = []
        for family, table in sorted(tables):
            slot = tables[(family, table)]
            if (family, table) == OWN_TABLE:
                lines.append("%s %s: table of its own" % (family, table))
            # nft lists rules chain by chain, in the order of the chains.
            order = list(ruleset.chains)
            wanted = sorted(slot["jumps"], key=lambda j: order.index((family, table, j[0]))
                            if (family, table, j[0]) in order else len(order))
            for base, chain in wanted:
                lines.append("%s %s %s: jump %s" % (family, table, base, chain))
            for chain in CHAINS.values():
                if chain in slot["chains"]:
                    lines.append("%s %s %s: chain" % (family, table, chain))
                    lines.extend("%s %s %s: %s" % (family, table, chain, e.key) for e in slot["chains"][chain])
        files = {}
        if self.persist:
            files[self.conf] = render_conf(snapshot.files.get(self.conf), tables)
        return Target(lines, files, tables=tables)

    def script(self, snapshot: Snapshot, target: Target, bad_rule: bool = False) -> str:
        """One nft transaction from the snapshot to the target."""
        ruleset = snapshot.extra["ruleset"]
        tables = target.extra["tables"]
        out = []
        jumps = ruleset.jumps()
        for key, handle, chain in jumps:
            slot = tables.get(key[:2])
            if slot is None or (key[2], chain) not in slot["jumps"]:
                out.append("delete rule %s %s %s handle %d" % (key[0], key[1], key[2], handle))
        present = {k for k in ruleset.chains if k[2] in CHAINS.values()}
        for family, table, chain in sorted(present):
            slot = tables.get((family, table))
            if slot is None or chain not in slot["chains"]:
                out.append("flush chain %s %s %s" % (family, table, chain))
                out.append("delete chain %s %s %s" % (family, table, chain))
        if OWN_TABLE in ruleset.tables and OWN_TABLE not in tables:
            out.append("delete table %s %s" % OWN_TABLE)
        for (family, table), slot in sorted(tables.items()):
            if (family, table) == OWN_TABLE and OWN_TABLE not in ruleset.tables:
                out.append("add table %s %s" % OWN_TABLE)
                out.append("add chain %s %s input { type filter hook input priority 0 ; policy accept ; }" % OWN_TABLE)
            for chain, chain_entries in sorted(slot["chains"].items()):
                out.append("add chain %s %s %s" % (family, table, chain))
                out.append("flush chain %s %s %s" % (family, table, chain))
                out.extend("add rule %s %s %s %s" % (family, table, chain, render_rule(e)) for e in chain_entries)
            existing = {(k[2], tgt) for k, _h, tgt in jumps if k[:2] == (family, table)}
            for base, chain in slot["jumps"]:
                if (base, chain) not in existing:
                    out.append("insert rule %s %s %s jump %s comment %s"
                               % (family, table, base, chain, _quote(JUMP_KEY)))
        if bad_rule:
            out.append("add rule inet hpsum_ports_no_such_table input tcp dport 1 accept")
        return "".join(line + "\n" for line in out)

    def apply(self, snapshot: Snapshot, target: Target, hook: FailHook) -> None:
        """Check the new conf, write it, then one ``nft -f -``; a failure puts the conf back."""
        nft = self._nft()
        new_conf = target.files.get(self.conf)
        # Check the file we write for the next boot; removing our block gives back foreign bytes as they were.
        if self.persist and target.extra["tables"] and new_conf != snapshot.files.get(self.conf):
            self.runner.run([nft, "-c", "-f", "-"], data=new_conf.decode("utf-8"))
        try:
            if self.persist:
                self.runner.write(self.conf, new_conf)
                hook.step_done("write %s" % self.conf)
            if snapshot.lines != target.lines:
                self.runner.run([nft, "-f", "-"], data=self.script(snapshot, target, hook.bad_rule))
        except Exception:
            # nft -f is one transaction: when it fails nothing changed live; only the file is ours to undo.
            if self.persist:
                self.restore_files(snapshot, target)
            raise


def split_conf(content: t.Optional[bytes]) -> t.Tuple[str, bool]:
    """The conf without our block, and whether it had one."""
    if content is None:
        return "", False
    text = content.decode("utf-8")
    lines = text.splitlines(True)
    for index, line in enumerate(lines):
        if line.rstrip("\n") in (BEGIN, BEGIN_NL):
            end = index
            while end < len(lines) and lines[end].rstrip("\n") != END:
                end += 1
            head = "".join(lines[:index])
            if line.rstrip("\n") == BEGIN_NL and head.endswith("\n"):
                head = head[:-1]
            return head + "".join(lines[end + 1:]), True
    return text, False


def render_block(tables: t.Mapping[t.Tuple[str, str], t.Mapping[str, t.Any]]) -> str:
    """Our chains and jumps as an nft script for the boot-time conf."""
    out = []
    for (family, table), slot in sorted(tables.items()):
        out.append("table %s %s {" % (family, table))
        for chain, chain_entries in sorted(slot["chains"].items()):
            out.append("\tchain %s {" % chain)
            out.extend("\t\t%s" % render_rule(e) for e in chain_entries)
            out.append("\t}")
        if (family, table) == OWN_TABLE:
            out.append("\tchain input {")
            out.append("\t\ttype filter hook input priority 0; policy accept;")
            out.extend("\t\tjump %s comment %s" % (chain, _quote(JUMP_KEY)) for base, chain in slot["jumps"])
            out.append("\t}")
        else:
            # Declaring the base chains keeps the inserts below valid even if the
            # foreign part of the file stops defining them (no-op when it does).
            out.extend("\tchain %s {\n\t}" % base for base in sorted({b for b, _c in slot["jumps"]}))
        out.append("}")
        if (family, table) != OWN_TABLE:
            out.extend("insert rule %s %s %s jump %s comment %s" % (family, table, base, chain, _quote(JUMP_KEY))
                       for base, chain in slot["jumps"])
    return "".join(line + "\n" for line in out)


def render_conf(content: t.Optional[bytes], tables: t.Mapping[t.Tuple[str, str], t.Mapping[str, t.Any]]
                ) -> t.Optional[bytes]:
    """The conf with our block replaced (or removed); None when only our block made the file."""
    foreign, had_block = split_conf(content)
    if not tables:
        if not had_block:
            return content
        # A file that held only our block was made by us: remove it again.
        return foreign.encode("utf-8") if foreign else None
    begin = BEGIN
    if foreign and not foreign.endswith("\n"):
        foreign += "\n"
        begin = BEGIN_NL
    return (foreign + "%s\n# %s: the SUM ports of this host; removed by state=absent\n%s%s\n" % (
        begin, TAG, render_block(tables), END)).encode("utf-8")
