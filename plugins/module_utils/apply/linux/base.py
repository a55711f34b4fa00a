# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backend-neutral half of host_firewall: rules -> tagged entries, snapshots, diff, the manager.

A plan rule ``{direction, protocol, port, peers}`` becomes *entries*: one accept per
peer network, the reply half where the backend filters the other direction without
a global "established" accept, a drop of other sources when the host must answer
only its peers, and an accept for the management connection that keeps Ansible's
own port reachable. Every entry carries its key as the backend's comment (the tag):
``hpsum.ports:in:tcp:22:198.18.0.10/32:accept``. A backend reads its tagged state as
ordered *lines*, renders the wanted lines from the entries, and ``changed`` is the
difference of the two (plus its persistent files); check mode and ``--diff`` come
from the same values.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import ipaddress
import os
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common import checks, rule_schema
from ansible_collections.hpsum.ports.plugins.module_utils.common._io import write_file_atomic
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

TAG = "hpsum.ports"
JUMP_KEY = TAG + ":jump"
LOOPBACK_KEY = TAG + ":lo"
DIRECTIONS = checks.DIRECTIONS
PROTOCOLS = checks.PROTOCOLS
BACKENDS = ("firewalld", "ufw", "nftables", "iptables")
# Order of entries inside a chain: management first, drops last.
KIND_ORDER = {"lo": 0, "mgmt": 1, "accept": 2, "reply": 3, "drop": 4}
# What gets a drop of other sources after the accepts of an inbound port (see Options.restrict).
RESTRICT_MODES = ("sum_ports", "all_planned", "none")
# A drop covers one address family: the network of every address of that family.
WHOLE_FAMILY = {4: "0.0.0.0/0", 6: "::/0"}
# Test hook (environment of the module): "after_first_step" raises once the first step of
# an apply is done, "bad_rule" makes the backend's live transaction carry a rule it rejects.
FAIL_ENV = "HPSUM_PORTS_TEST_FAIL"


class Entry(t.NamedTuple):
    """One tagged rule of the collection, independent of the backend."""

    direction: str  # in | out: the plan rule's direction (mgmt and drops are "in")
    protocol: str
    port: int
    net: str  # a network with prefix length, or "" for any source / destination
    kind: str  # lo | mgmt | accept | reply | drop

    @property
    def key(self) -> str:
        """The tag: the comment the backend stores with the rule; unique per entry."""
        if self.kind == "lo":
            return LOOPBACK_KEY
        return "%s:%s:%s:%d:%s:%s" % (TAG, self.direction, self.protocol, self.port, self.net or "any", self.kind)

    @property
    def hook(self) -> str:
        """input or output: where the packet this entry matches is filtered."""
        if self.kind in ("lo", "mgmt", "drop"):
            return "input"
        if self.kind == "accept":
            return "input" if self.direction == "in" else "output"
        return "output" if self.direction == "in" else "input"  # reply: the other way

    @property
    def family(self) -> t.Optional[int]:
        """4 or 6 for an address-restricted entry; None when it matches both families."""
        return ipaddress.ip_network(self.net).version if self.net else None

    @property
    def whole_family(self) -> bool:
        """The entry matches every address of one family (a drop of one family's other sources)."""
        return bool(self.net) and ipaddress.ip_network(self.net).prefixlen == 0

    @property
    def address_side(self) -> str:
        """'src' or 'dst': which address of the packet is the peer."""
        return "src" if self.hook == "input" else "dst"

    @property
    def port_side(self) -> str:
        """'dst' for new connections, 'src' for the replies of the other direction."""
        return "src" if self.kind == "reply" else "dst"

    @property
    def conntrack(self) -> t.Optional[str]:
        """Connection state matched: replies only for established flows, drops only new ones."""
        return {"reply": "established", "drop": "new"}.get(self.kind)

    @property
    def verdict(self) -> str:
        """accept, drop or return (loopback skips the drops)."""
        return {"drop": "drop", "lo": "return"}.get(self.kind, "accept")

    def sort_key(self) -> t.Tuple[t.Any, ...]:
        """Canonical order: by kind, then protocol, port, direction, family, address."""
        net = ipaddress.ip_network(self.net) if self.net else None
        return (
            KIND_ORDER[self.kind],
            self.protocol,
            self.port,
            self.direction,
            net.version if net else 0,
            int(net.network_address) if net else 0,
            net.prefixlen if net else 0,
        )

    def describe(self) -> str:
        """Human text for diffs and returns."""
        if self.kind == "lo":
            return "loopback: skip the drops"
        who = self.net or "any"
        what = "%s/%s" % (self.port, self.protocol)
        if self.kind == "drop":
            family = " IPv%d" % self.family if self.family else ""
            return "in %s: drop new%s connections from other sources" % (what, family)
        if self.kind == "mgmt":
            return "in %s from %s: accept (management connection)" % (what, who)
        if self.kind == "reply":
            return "%s %s %s %s: accept replies" % (self.direction, what, "from" if self.hook == "input" else "to", who)
        return "%s %s %s %s: accept" % (self.direction, what, "from" if self.direction == "in" else "to", who)


def parse_key(key: str) -> t.Optional[Entry]:
    """The entry a tag stands for, or None when the text is not one of ours."""
    if key == LOOPBACK_KEY:
        return Entry("in", "tcp", 0, "", "lo")
    parts = key.split(":", 4)  # an IPv6 network has colons: split it off from the right
    if len(parts) != 5 or parts[0] != TAG or ":" not in parts[4]:
        return None
    net, kind = parts[4].rsplit(":", 1)
    if kind not in KIND_ORDER:
        return None
    try:
        return Entry(parts[1], parts[2], int(parts[3]), "" if net == "any" else net, kind)
    except ValueError:
        return None


def normalize_peer(option: str, value: t.Any) -> str:
    """An address or network as a canonical network with prefix length; errors name the option."""
    return checks.network(option, value).with_prefixlen


def normalize_rules(rules: t.Sequence[t.Mapping[str, t.Any]], allow_any_source: bool) -> t.List[t.Dict[str, t.Any]]:
    """Validate the plan rules and merge them to one rule per (direction, protocol, port)."""
    merged = {}  # type: t.Dict[t.Tuple[str, str, int], t.List[str]]
    for index, rule in enumerate(rules):
        where = "rules[%d]" % index
        if not isinstance(rule, t.Mapping):
            raise SumPortsError("%s: %r is not a mapping" % (where, rule), option=where, value=rule)
        direction = checks.choice(where + ".direction", rule.get("direction"), DIRECTIONS)
        protocol = checks.choice(where + ".protocol", rule.get("protocol", rule_schema.DEFAULT_PROTOCOL), PROTOCOLS)
        port = checks.port(where + ".port", rule.get("port"), coerce=True)
        peers = rule.get("peers") or []
        if isinstance(peers, str):
            peers = [peers]
        nets = [normalize_peer("%s.peers[%d]" % (where, i), peer) for i, peer in enumerate(peers)]
        if not nets and not allow_any_source:
            raise SumPortsError(
                "%s.peers: [] leaves %s %s/%s open to every address; list its peers or set allow_any_source: true"
                % (where, direction, port, protocol), option=where + ".peers", value=[])
        everyone = covered_families(nets)
        if everyone and not allow_any_source:
            raise SumPortsError(
                "%s.peers: %r cover every %s address: that opens %s %s/%s to everyone; list its peers or set "
                "allow_any_source: true" % (where, list(peers), " and ".join("IPv%d" % f for f in everyone),
                                            direction, port, protocol),
                option=where + ".peers", value=list(peers))
        bucket = merged.setdefault((direction, protocol, port), [])
        bucket.extend(net for net in nets if net not in bucket)
    return [
        {"direction": d, "protocol": p, "port": n, "peers": peers}
        for (d, p, n), peers in sorted(merged.items())
    ]


def covered_families(nets: t.Sequence[str]) -> t.List[int]:
    """The address families (4, 6) whose every address the networks cover together."""
    covered = []
    for family, whole in sorted(WHOLE_FAMILY.items()):
        mine = [ipaddress.ip_network(n) for n in nets if ipaddress.ip_network(n).version == family]
        if mine and [str(n) for n in ipaddress.collapse_addresses(mine)] == [whole]:  # type: ignore[type-var]
            covered.append(family)
    return covered


class Options(t.NamedTuple):
    """What the manager needs besides the rules.

    ``restrict``: which planned inbound ports also get a drop of new connections from other
    sources: ``sum_ports`` only the ports in ``restrict_ports`` (SUM's own listening ports on a
    SUM server), ``all_planned`` every one, ``none`` none (accepts only).
    """

    state: str = "present"
    allow_any_source: bool = False
    restrict: str = "sum_ports"
    management_sources: t.Tuple[str, ...] = ()
    management_port: t.Optional[int] = None
    restrict_ports: t.Tuple[int, ...] = ()


def plan_entries(
    rules: t.Sequence[t.Mapping[str, t.Any]],
    options: Options,
    outbound_filtered: bool,
    stateless_replies: bool,
) -> t.List[Entry]:
    """The tagged entries for normalized rules, in canonical order.

    ``outbound_filtered``: the backend drops outbound traffic, so ``out`` rules apply.
    ``stateless_replies``: the backend has no global accept of established traffic of
    its own (nftables, iptables), so each direction gets the reply half and drops are
    preceded by a loopback return.
    """
    if options.state == "absent":
        return []
    entries = set()  # type: t.Set[Entry]
    dropped_ports = set()  # type: t.Set[t.Tuple[str, int]]
    for rule in rules:
        direction, protocol, port = rule["direction"], rule["protocol"], rule["port"]
        if direction == "out" and not outbound_filtered:
            continue
        nets = [""] if options.allow_any_source else list(rule["peers"])
        for net in nets:
            entries.add(Entry(direction, protocol, port, net, "accept"))
            if stateless_replies and ((direction == "in" and outbound_filtered) or direction == "out"):
                entries.add(Entry(direction, protocol, port, net, "reply"))
        if direction == "in" and drops(options, protocol, port):
            # One drop per address family the accepts cover: a family without an accept of
            # these peers keeps whatever access it had (a dual-stack host keeps IPv6 as it was).
            for family in sorted({ipaddress.ip_network(net).version for net in rule["peers"]}):
                entries.add(Entry("in", protocol, port, WHOLE_FAMILY[family], "drop"))
            dropped_ports.add((protocol, port))
    if options.management_port is not None and ("tcp", options.management_port) in dropped_ports:
        for source in options.management_sources:
            entries.add(Entry("in", "tcp", options.management_port, source, "mgmt"))
    if dropped_ports and stateless_replies:
        entries.add(Entry("in", "tcp", 0, "", "lo"))
    return sorted(entries, key=Entry.sort_key)


def drops(options: Options, protocol: str, port: int) -> bool:
    """Whether a planned inbound port gets a drop of other sources after its accepts."""
    return wanted_drop(options, protocol, port) and not unprotected(options, protocol, port)


def wanted_drop(options: Options, _protocol: str, port: int) -> bool:
    """Whether the restrict mode asks for a drop on this port (before the management check)."""
    if options.allow_any_source:
        return False
    return options.restrict == "all_planned" or (options.restrict == "sum_ports" and port in options.restrict_ports)


def unprotected(options: Options, protocol: str, port: int) -> bool:
    """The management port with no known management source: dropping other sources could cut Ansible off."""
    return protocol == "tcp" and port == options.management_port and not options.management_sources


def management_from_env(environ: t.Mapping[str, str]) -> t.Tuple[t.Tuple[str, ...], t.Optional[int]]:
    """The management connection from SSH_CONNECTION: ((client network,), server port)."""
    fields = environ.get("SSH_CONNECTION", "").split()
    if len(fields) != 4:
        return (), None
    try:
        client = ipaddress.ip_address(fields[0].split("%")[0])
        port = int(fields[3])
    except ValueError:
        return (), None
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped:
        client = client.ipv4_mapped
    return (ipaddress.ip_network(client).with_prefixlen,), port


class CommandError(SumPortsError):
    """A command failed: carries cmd, rc, stdout and stderr for fail_json."""


class Runner:
    """The one way backends touch the host: commands as argv lists, and whole files."""

    def __init__(self, module: t.Any) -> None:
        self.module = module

    def which(self, name: str) -> t.Optional[str]:
        """Path of a command, or None."""
        return self.module.get_bin_path(name, required=False)

    def run(self, argv: t.Sequence[str], data: t.Optional[str] = None, check: bool = True) -> t.Tuple[int, str, str]:
        """Run argv (never a shell); a non-zero rc raises CommandError when ``check``."""
        rc, out, err = self.module.run_command(list(argv), data=data, binary_data=data is not None,
                                               environ_update={"LC_ALL": "C"})
        if check and rc != 0:
            raise CommandError("%s failed (rc=%d): %s" % (" ".join(argv), rc, (err or out).strip()),
                               cmd=list(argv), rc=rc, stdout=out, stderr=err)
        return rc, out, err

    def read(self, path: str) -> t.Optional[bytes]:
        """A file's bytes, or None when it does not exist."""
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def write(self, path: str, content: t.Optional[bytes]) -> None:
        """Replace a file atomically, or remove it when ``content`` is None."""
        if content is None:
            if os.path.exists(path):
                os.unlink(path)
            return
        write_file_atomic(self.module, path, content)

    def environ(self) -> t.Mapping[str, str]:
        """The module's environment (SSH_CONNECTION, the test hook)."""
        return os.environ

    def programs(self) -> t.Optional[t.Set[str]]:
        """Names of the running programs (process names and the scripts interpreters run), from /proc;
        None when /proc cannot tell (not mounted, or this process is not in it)."""
        found = set()  # type: t.Set[str]
        try:
            pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]
        except OSError:
            return None
        if str(os.getpid()) not in pids:
            return None
        for pid in pids:
            try:
                with open("/proc/%s/comm" % pid, "rb") as handle:
                    found.add(handle.read().decode("utf-8", "replace").strip())
                with open("/proc/%s/cmdline" % pid, "rb") as handle:
                    argv = handle.read().split(b"\0")[:2]
            except OSError:  # the process ended meanwhile
                continue
            found.update(os.path.basename(arg.decode("utf-8", "replace")) for arg in argv if arg)
        return found


class Snapshot:
    """A backend's tagged state as read: ordered lines, and whatever it needs to change it."""

    def __init__(self, lines: t.List[str], outbound_filtered: bool,
                 files: t.Optional[t.Dict[str, t.Optional[bytes]]] = None, **extra: t.Any) -> None:
        self.lines = lines
        self.outbound_filtered = outbound_filtered
        self.files = files or {}
        self.extra = extra


class Target:
    """What a backend will make of the entries: lines to compare, files to write, private data."""

    def __init__(self, lines: t.List[str], files: t.Optional[t.Dict[str, t.Optional[bytes]]] = None,
                 **extra: t.Any) -> None:
        self.lines = lines
        self.files = files or {}
        self.extra = extra


class FailHook:
    """Injected failures for tests (see FAIL_ENV); inert unless the environment names one."""

    def __init__(self, value: str = "") -> None:
        self.value = value

    def step_done(self, step: str) -> None:
        """Called after each step of an apply; raises after the first when asked to."""
        if self.value == "after_first_step":
            raise SumPortsError("injected failure after step %r (%s)" % (step, FAIL_ENV), step=step)

    @property
    def bad_rule(self) -> bool:
        """Whether the live transaction must carry a rule the backend rejects."""
        return self.value == "bad_rule"


class Backend:
    """The interface every firewall backend implements."""

    name = ""
    #: True when the backend has no accept of established traffic and loopback of its own.
    stateless_replies = False

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def command(self, program: str) -> str:
        """The path of one of the backend's programs; its absence is an error naming the backend."""
        path = self.runner.which(program)
        if not path:
            raise SumPortsError("backend: %s was asked for but %s is missing" % (self.name, program),
                                option="backend", value=self.name)
        return path

    def available(self) -> bool:
        """Whether this backend is the active firewall of the host."""
        raise NotImplementedError

    def snapshot(self) -> Snapshot:
        """Read the tagged state, live and persistent."""
        raise NotImplementedError

    def target(self, snapshot: Snapshot, entries: t.Sequence[Entry]) -> Target:
        """The lines and files that the entries make, given what is there."""
        raise NotImplementedError

    def apply(self, snapshot: Snapshot, target: Target, hook: FailHook) -> None:
        """Make live and persistent state equal the target; on failure leave both as they were."""
        raise NotImplementedError

    def restore_files(self, snapshot: Snapshot, target: Target) -> None:
        """Put back every file of the snapshot that the target changes (rollback helper)."""
        for path in target.files:
            self.runner.write(path, snapshot.files.get(path))


def file_changes(snapshot: Snapshot, target: Target) -> t.List[str]:
    """Paths whose content the target changes."""
    return sorted(path for path, content in target.files.items() if snapshot.files.get(path) != content)


def diff_text(lines: t.Sequence[str]) -> str:
    """Lines as diff text (one per line, final newline when not empty)."""
    return "".join(line + "\n" for line in lines)


class HostFirewall:
    """Read the backend's tagged state, compute the wanted one, apply the difference."""

    def __init__(self, backend: Backend, rules: t.Sequence[t.Mapping[str, t.Any]], options: Options,
                 check_mode: bool, hook: t.Optional[FailHook] = None) -> None:
        self.backend = backend
        self.rules = normalize_rules(rules, options.allow_any_source) if options.state == "present" else []
        self.options = options
        self.check_mode = check_mode
        self.hook = hook or FailHook()

    def run(self) -> t.Dict[str, t.Any]:
        """Snapshot, target, diff; apply when changed and not in check mode."""
        snapshot = self.backend.snapshot()
        entries = plan_entries(self.rules, self.options, snapshot.outbound_filtered, self.backend.stateless_replies)
        target = self.backend.target(snapshot, entries)
        before, after = snapshot.lines, target.lines
        files = file_changes(snapshot, target)
        changed = before != after or bool(files)
        if changed and not self.check_mode:
            self.backend.apply(snapshot, target, self.hook)
        added = [line for line in after if line not in before]
        removed = [line for line in before if line not in after]
        not_applied = [
            "out %s/%s: outbound is not filtered on this host" % (r["port"], r["protocol"])
            for r in self.rules if r["direction"] == "out" and not snapshot.outbound_filtered
        ] + [
            "in %s/%s: other sources are not dropped: it is the management port and the management source is "
            "unknown (no SSH_CONNECTION; set management_sources)" % (r["port"], r["protocol"])
            for r in self.rules
            if r["direction"] == "in" and wanted_drop(self.options, r["protocol"], r["port"])
            and unprotected(self.options, r["protocol"], r["port"])
        ]
        return {
            "changed": changed,
            "backend": self.backend.name,
            "outbound_filtered": snapshot.outbound_filtered,
            "rules": [e.describe() for e in entries],
            "added": added,
            "removed": removed,
            "files": files,
            "not_applied": not_applied,
            "management": {"sources": list(self.options.management_sources), "port": self.options.management_port},
            "diff": {
                "before": diff_text(before),
                "after": diff_text(after),
                "before_header": "%s: tagged rules before" % self.backend.name,
                "after_header": "%s: tagged rules after" % self.backend.name,
            },
        }
