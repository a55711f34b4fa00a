# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""iptables backend: chains HPSUM_PORTS_IN/OUT jumped to from INPUT/OUTPUT, ``iptables-restore --noflush``.

IPv4 and IPv6 are two tables (iptables, ip6tables) and two boot files
(/etc/iptables/rules.v4, rules.v6, as netfilter-persistent loads them). Each family is
changed by one ``iptables-restore --noflush`` transaction that touches only our chains
and our tagged jumps; if the second family fails, the first is put back from the lines
``iptables-save`` printed before. The boot files keep every foreign line: ours are
removed and inserted in place (declarations after the last declaration, the jump as the
first rule of INPUT/OUTPUT, our rules before COMMIT).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import (
    JUMP_KEY,
    Backend,
    Entry,
    FailHook,
    Runner,
    Snapshot,
    Target,
)
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

CHAINS = {"input": "HPSUM_PORTS_IN", "output": "HPSUM_PORTS_OUT"}
BASES = {"input": "INPUT", "output": "OUTPUT"}
FAMILIES = {4: ("iptables", "/etc/iptables/rules.v4"), 6: ("ip6tables", "/etc/iptables/rules.v6")}
_COMMENT = re.compile(r'--comment (?:"((?:[^"\\]|\\.)*)"|(\S+))')
_CHAIN_DECL = re.compile(r"^:(\S+) (\S+)")


def comment_of(line: str) -> t.Optional[str]:
    """The --comment text of an iptables-save line, or None."""
    match = _COMMENT.search(line)
    if not match:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def render_rule(chain: str, entry: Entry) -> str:
    """The ``-A`` line of one entry in iptables-save syntax."""
    parts = ["-A", chain]
    if entry.kind == "lo":
        parts += ["-i", "lo"]
    else:
        if entry.net and not entry.whole_family:  # the family's own table: no address match needed
            parts += ["-s" if entry.address_side == "src" else "-d", entry.net]
        parts += ["-p", entry.protocol, "-m", entry.protocol, "--sport" if entry.port_side == "src" else "--dport",
                  str(entry.port)]
        if entry.conntrack:
            parts += ["-m", "conntrack", "--ctstate", entry.conntrack.upper()]
    parts += ["-m", "comment", "--comment", '"%s"' % entry.key, "-j", entry.verdict.upper()]
    return " ".join(parts)


def jump_rule(base: str, chain: str, insert: bool = False) -> str:
    """Our tagged jump from a built-in chain."""
    return "%s %s -m comment --comment \"%s\" -j %s" % ("-I" if insert else "-A", base + (" 1" if insert else ""),
                                                        JUMP_KEY, chain)


class FilterTable:
    """The filter table of one family as ``iptables-save -t filter`` prints it."""

    def __init__(self, text: str) -> None:
        self.policies = {}  # type: t.Dict[str, str]
        self.rules = []  # type: t.List[str]
        inside = False
        for line in text.splitlines():
            if line.startswith("*filter"):
                inside = True
            elif line.startswith("COMMIT"):
                inside = False
            elif inside and line.startswith(":"):
                match = _CHAIN_DECL.match(line)
                if match:
                    self.policies[match.group(1)] = match.group(2)
            elif inside and line.startswith("-A "):
                self.rules.append(line)

    def chain_rules(self, chain: str) -> t.List[str]:
        """The -A lines of one chain, in order."""
        prefix = "-A %s " % chain
        return [line for line in self.rules if line.startswith(prefix)]

    def jumps(self) -> t.List[t.Tuple[str, str]]:
        """Our tagged jumps as (base chain, our chain)."""
        found = []
        for line in self.rules:
            if comment_of(line) == JUMP_KEY:
                fields = line.split()
                found.append((fields[1], fields[fields.index("-j") + 1] if "-j" in fields else ""))
        return found

    def filters_output(self) -> bool:
        """OUTPUT drops: policy DROP, or a DROP/REJECT rule in it."""
        return self.policies.get("OUTPUT") == "DROP" or any(
            re.search(r"-j (DROP|REJECT)\b", line) for line in self.chain_rules("OUTPUT"))


def table_lines(family: int, table: FilterTable) -> t.List[str]:
    """Our jumps and chains of one family as state lines."""
    lines = ["v%d %s: jump %s" % (family, base, chain) for base, chain in table.jumps()]
    for chain in CHAINS.values():
        if chain in table.policies:
            lines.append("v%d %s: chain" % (family, chain))
            lines.extend("v%d %s: %s" % (family, chain, comment_of(r) or "<untagged rule>")
                         for r in table.chain_rules(chain))
    return lines


def placement(table: FilterTable, family: int, entries: t.Sequence[Entry], outbound: bool
              ) -> t.Dict[str, t.List[Entry]]:
    """Our chain -> its entries, for one family."""
    chains = {}
    for hook in ("input", "output"):
        if hook == "output" and not outbound:
            continue
        fitting = [e for e in entries if e.hook == hook and e.family in (None, family)]
        if any(e.kind != "lo" for e in fitting):  # the loopback return alone guards no drop
            chains[CHAINS[hook]] = fitting
    return chains


def restore_script(table: FilterTable, chains: t.Mapping[str, t.Sequence[str]], bad_rule: bool = False) -> str:
    """One ``iptables-restore --noflush`` transaction: our chains become ``chains`` (name -> -A lines)."""
    out = ["*filter"]
    for chain in CHAINS.values():
        if chain in chains:
            out.append(":%s - [0:0]" % chain)
    existing = table.jumps()
    for base, chain in existing:
        if chain not in chains:
            out.append(jump_rule(base, chain).replace("-A ", "-D ", 1))
    for hook, chain in CHAINS.items():
        if chain in chains:
            out.append("-F %s" % chain)
            out.extend(chains[chain])
            if (BASES[hook], chain) not in existing:
                out.append(jump_rule(BASES[hook], chain, insert=True))
        elif chain in table.policies:
            out.append("-F %s" % chain)
            out.append("-X %s" % chain)
    if bad_rule:
        out.append("-A HPSUM_PORTS_IN -j HPSUM_NO_SUCH_TARGET")
    out.append("COMMIT")
    return "".join(line + "\n" for line in out)


def edit_rules_file(content: bytes, chains: t.Mapping[str, t.Sequence[str]]) -> bytes:
    """The boot file with our lines replaced by ``chains``; every other byte kept."""
    text = content.decode("utf-8")
    lines = text.splitlines(True)
    ours = re.compile(r"^(:(%s) |-A (%s) )" % ("|".join(CHAINS.values()), "|".join(CHAINS.values())))
    kept = [line for line in lines if not ours.match(line) and comment_of(line) != JUMP_KEY]
    if not chains:
        return "".join(kept).encode("utf-8")
    try:
        start = next(i for i, line in enumerate(kept) if line.startswith("*filter"))
    except StopIteration:
        if kept and not kept[-1].endswith("\n"):
            kept[-1] += "\n"
        start = len(kept)
        kept += ["*filter\n", ":INPUT ACCEPT [0:0]\n", ":FORWARD ACCEPT [0:0]\n", ":OUTPUT ACCEPT [0:0]\n", "COMMIT\n"]
    commit = next(i for i in range(start, len(kept)) if kept[i].startswith("COMMIT"))
    decl_end = start + 1
    for i in range(start + 1, commit):
        if kept[i].startswith(":"):
            decl_end = i + 1
    body = kept[start + 1:commit]
    head = kept[:start + 1]
    tail = kept[commit:]
    decls = [":%s - [0:0]\n" % chain for chain in CHAINS.values() if chain in chains]
    rules = []
    for chain in CHAINS.values():
        if chain in chains:
            rules.extend(line + "\n" for line in chains[chain])
    body_decl = body[:decl_end - start - 1]
    body_rest = body[decl_end - start - 1:]
    for hook, chain in reversed(list(CHAINS.items())):
        if chain not in chains:
            continue
        jump = jump_rule(BASES[hook], chain) + "\n"
        first = next((i for i, line in enumerate(body_rest) if line.startswith("-A %s " % BASES[hook])), None)
        body_rest.insert(0 if first is None else first, jump)
    return "".join(head + body_decl + decls + body_rest + rules + tail).encode("utf-8")


class IptablesBackend(Backend):
    """iptables and ip6tables through -save and -restore --noflush."""

    name = "iptables"
    stateless_replies = True

    def __init__(self, runner: Runner, files: t.Optional[t.Mapping[int, str]] = None, persist: bool = True) -> None:
        super().__init__(runner)
        self.files = dict((family, path) for family, (_cmd, path) in FAMILIES.items())
        self.files.update(files or {})
        self.persist = persist

    def _cmd(self, family: int, suffix: str) -> str:
        name = FAMILIES[family][0] + suffix
        path = self.runner.which(name)
        if not path:
            raise SumPortsError("backend: iptables needs the %s command" % name, option="backend", value="iptables")
        return path

    def families(self) -> t.List[int]:
        """The families this host has commands for (IPv4 always; IPv6 when ip6tables exists)."""
        return [4] + ([6] if self.runner.which("ip6tables-save") else [])

    def available(self) -> bool:
        """iptables-save exists."""
        return bool(self.runner.which("iptables-save"))

    def read_table(self, family: int) -> t.Tuple[str, FilterTable]:
        """``iptables-save -t filter`` of one family."""
        _rc, out, _err = self.runner.run([self._cmd(family, "-save"), "-t", "filter"])
        return out, FilterTable(out)

    def snapshot(self) -> Snapshot:
        """Lines of both families, output filtering, and the boot files."""
        lines = []
        tables = {}
        saves = {}
        for family in self.families():
            saves[family], tables[family] = self.read_table(family)
            lines.extend(table_lines(family, tables[family]))
        outbound = any(table.filters_output() for table in tables.values())
        files = {}
        if self.persist:
            files = {self.files[f]: self.runner.read(self.files[f]) for f in tables}
        return Snapshot(lines, outbound, files, tables=tables, saves=saves)

    def target(self, snapshot: Snapshot, entries: t.Sequence[Entry]) -> Target:
        """Per family: our chains' -A lines; the boot files edited to match."""
        tables = snapshot.extra["tables"]
        lines = []
        chains_by_family = {}
        files = {}
        for family, table in sorted(tables.items()):
            outbound = table.filters_output()
            placed = placement(table, family, entries, outbound)
            chains = {chain: [render_rule(chain, e) for e in es] for chain, es in placed.items()}
            chains_by_family[family] = chains
            # iptables-save lists INPUT before OUTPUT; each has at most one jump of ours.
            lines.extend("v%d %s: jump %s" % (family, BASES[h], c) for h, c in CHAINS.items() if c in chains)
            for chain in CHAINS.values():
                if chain in placed:
                    lines.append("v%d %s: chain" % (family, chain))
                    lines.extend("v%d %s: %s" % (family, chain, e.key) for e in placed[chain])
            if self.persist:
                path = self.files[family]
                current = snapshot.files.get(path)
                if current is None:
                    if not chains:
                        files[path] = None
                        continue
                    # No boot file yet: start from the live table so the foreign rules survive a reboot.
                    current = "".join(line + "\n" for line in snapshot.extra["saves"][family].splitlines()
                                      if not line.startswith("#")).encode("utf-8")
                files[path] = edit_rules_file(current, chains)
        return Target(lines, files, chains=chains_by_family)

    def _restore(self, family: int, script: str) -> None:
        self.runner.run([self._cmd(family, "-restore"), "--noflush"], data=script)

    def apply(self, snapshot: Snapshot, target: Target, hook: FailHook) -> None:
        """Files first, then one restore per family; any failure puts files and families back."""
        tables = snapshot.extra["tables"]
        done = []
        try:
            if self.persist:
                for path, content in sorted(target.files.items()):
                    if snapshot.files.get(path) != content:
                        self.runner.write(path, content)
                hook.step_done("write boot files")
            changing = []
            for family, table in sorted(tables.items()):
                chains = target.extra["chains"][family]
                current = {c: table.chain_rules(c) for c in CHAINS.values() if c in table.policies}
                jumps = {(BASES[h], c) for h, c in CHAINS.items() if c in chains}
                if current != chains or jumps != set(table.jumps()):
                    changing.append(family)
            for family in changing:
                # the test hook's bad rule goes into the last family restored (v4 when v6 has nothing to change)
                bad = hook.bad_rule and family == changing[-1]
                self._restore(family, restore_script(tables[family], target.extra["chains"][family], bad))
                done.append(family)
                hook.step_done("iptables-restore v%d" % family)
        except Exception:
            for family in done:
                # Re-read what we made, then restore our chains as they were before.
                _out, now = self.read_table(family)
                before = {c: tables[family].chain_rules(c) for c in CHAINS.values() if c in tables[family].policies}
                self._restore(family, restore_script(now, before))
            if self.persist:
                self.restore_files(snapshot, target)
            raise
