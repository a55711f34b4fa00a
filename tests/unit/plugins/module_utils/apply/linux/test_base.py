# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules -> entries, tags, management detection, and the manager's changed/diff/check-mode logic."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux import base
from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import Entry, Options
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

SUM = "198.18.0.10"
RULES = [
    {"direction": "in", "protocol": "tcp", "port": 22, "peers": [SUM], "phases": ["inventory"], "required": True,
     "reason": "to target"},
    {"direction": "out", "protocol": "tcp", "port": 63001, "peers": [SUM]},
]


def keys(entries: t.Sequence[Entry]) -> t.List[str]:
    return [e.key for e in entries]


@pytest.mark.parametrize(
    ("rules", "allow_any", "message"),
    [
        ([{"direction": "sideways", "port": 1, "peers": [SUM]}], False, "rules[0].direction: 'sideways' is not one of"),
        ([{"direction": "in", "protocol": "sctp", "port": 1, "peers": [SUM]}], False, "rules[0].protocol: 'sctp'"),
        ([{"direction": "in", "port": 70000, "peers": [SUM]}], False, "rules[0].port: 70000 is outside 1-65535"),
        ([{"direction": "in", "port": "http", "peers": [SUM]}], False, "rules[0].port: 'http' is not a port number"),
        ([{"direction": "in", "port": 22, "peers": ["10.0.0.300"]}], False, "rules[0].peers[0]: '10.0.0.300' is not"),
        ([{"direction": "in", "port": 22, "peers": ["198.18.0.1/24"]}], False, "rules[0].peers[0]: '198.18.0.1/24'"),
        ([{"direction": "in", "port": 22, "peers": []}], False, "rules[0].peers: [] leaves in 22/tcp open"),
        ([{"direction": "in", "port": 22, "peers": ["0.0.0.0/0"]}], False,
         "rules[0].peers: ['0.0.0.0/0'] cover every IPv4 address: that opens in 22/tcp to everyone"),
        ([{"direction": "in", "port": 22, "peers": [SUM, "::/0"]}], False, "rules[0].peers: ['198.18.0.10', '::/0'] "
         "cover every IPv6 address"),
        ([{"direction": "out", "port": 1, "peers": ["0.0.0.0/1", "128.0.0.0/1"]}], False,
         "rules[0].peers: ['0.0.0.0/1', '128.0.0.0/1'] cover every IPv4 address"),
        ([{"direction": "in", "port": 22, "peers": ["fe80::1%eth0"]}], False,
         "rules[0].peers[0]: 'fe80::1%eth0' has an IPv6 zone"),
        (["nope"], False, "rules[0]: 'nope' is not a mapping"),
    ],
)
def test_bad_rules_name_the_option(rules: t.List[t.Any], allow_any: bool, message: str) -> None:
    with pytest.raises(SumPortsError) as exc:
        base.normalize_rules(rules, allow_any)
    assert str(exc.value).startswith(message)


def test_rules_merge_and_normalize() -> None:
    rules = [
        {"direction": "in", "port": 443, "peers": [SUM]},
        {"direction": "in", "protocol": "tcp", "port": "443", "peers": ["198.18.0.11", SUM, "2001:DB8::1"]},
        {"direction": "in", "port": 22, "peers": "198.18.0.0/26"},
    ]
    assert base.normalize_rules(rules, False) == [
        {"direction": "in", "protocol": "tcp", "port": 22, "peers": ["198.18.0.0/26"]},
        {"direction": "in", "protocol": "tcp", "port": 443,
         "peers": ["198.18.0.10/32", "198.18.0.11/32", "2001:db8::1/128"]},
    ]


def test_empty_peers_allowed_with_allow_any_source() -> None:
    assert base.normalize_rules([{"direction": "in", "port": 22}], True)[0]["peers"] == []


def plan(rules: t.Optional[t.Sequence[t.Mapping[str, t.Any]]] = None, outbound: bool = False,
         stateless: bool = False, **options: t.Any) -> t.List[str]:
    rules = RULES if rules is None else rules
    return keys(base.plan_entries(base.normalize_rules(rules, options.get("allow_any_source", False)),
                                  Options(**options), outbound, stateless))


def test_entries_open_host_firewalld_like() -> None:
    # out rules are left out where outbound is not filtered; by default a node's port gets accepts only
    assert plan() == ["hpsum.ports:in:tcp:22:198.18.0.10/32:accept"]
    # all_planned: a drop follows the accepts, for the family the peers are in only
    assert plan(restrict="all_planned") == ["hpsum.ports:in:tcp:22:198.18.0.10/32:accept",
                                            "hpsum.ports:in:tcp:22:0.0.0.0/0:drop"]


def test_sum_ports_drops_only_the_listed_ports() -> None:
    rules = [{"direction": "in", "port": 22, "peers": [SUM]}, {"direction": "in", "port": 443, "peers": [SUM]},
             {"direction": "in", "port": 8080, "peers": [SUM]}]
    assert plan(rules, restrict_ports=(443, 8080)) == [
        "hpsum.ports:in:tcp:22:198.18.0.10/32:accept", "hpsum.ports:in:tcp:443:198.18.0.10/32:accept",
        "hpsum.ports:in:tcp:8080:198.18.0.10/32:accept",
        "hpsum.ports:in:tcp:443:0.0.0.0/0:drop", "hpsum.ports:in:tcp:8080:0.0.0.0/0:drop"]
    assert plan(rules, restrict="none", restrict_ports=(443,)) == plan(rules, restrict_ports=())


def test_a_drop_covers_only_families_with_accepts() -> None:
    rules = [{"direction": "in", "port": 443, "peers": [SUM, "127.0.0.1", "::1"]},
             {"direction": "in", "port": 80, "peers": ["2001:db8::/64"]}]
    assert plan(rules, restrict="all_planned") == [
        "hpsum.ports:in:tcp:80:2001:db8::/64:accept", "hpsum.ports:in:tcp:443:127.0.0.1/32:accept",
        "hpsum.ports:in:tcp:443:198.18.0.10/32:accept", "hpsum.ports:in:tcp:443:::1/128:accept",
        "hpsum.ports:in:tcp:80:::/0:drop", "hpsum.ports:in:tcp:443:0.0.0.0/0:drop", "hpsum.ports:in:tcp:443:::/0:drop"]
    drops = [e for e in base.plan_entries(base.normalize_rules(rules, False), Options(restrict="all_planned"),
                                          False, False) if e.kind == "drop"]
    assert [(e.family, e.whole_family) for e in drops] == [(6, True), (4, True), (6, True)]
    assert drops[1].describe() == "in 443/tcp: drop new IPv4 connections from other sources"


def test_entries_stateless_outbound_filtered() -> None:
    assert plan(outbound=True, stateless=True, management_sources=("198.18.0.1/32",), management_port=22,
                restrict="all_planned") == [
        "hpsum.ports:lo",
        "hpsum.ports:in:tcp:22:198.18.0.1/32:mgmt",
        "hpsum.ports:in:tcp:22:198.18.0.10/32:accept",
        "hpsum.ports:out:tcp:63001:198.18.0.10/32:accept",
        "hpsum.ports:in:tcp:22:198.18.0.10/32:reply",
        "hpsum.ports:out:tcp:63001:198.18.0.10/32:reply",
        "hpsum.ports:in:tcp:22:0.0.0.0/0:drop",
    ]


def test_management_only_where_a_drop_could_hit_it() -> None:
    rules = [{"direction": "in", "port": 443, "peers": [SUM]}]
    assert plan(rules, management_sources=("198.18.0.1/32",), management_port=22, restrict_ports=(443,)) == [
        "hpsum.ports:in:tcp:443:198.18.0.10/32:accept", "hpsum.ports:in:tcp:443:0.0.0.0/0:drop"]
    assert plan(rules, management_sources=("198.18.0.1/32",), management_port=443, restrict_ports=(443,))[0] == \
        "hpsum.ports:in:tcp:443:198.18.0.1/32:mgmt"


def test_no_restrict_and_allow_any_and_absent() -> None:
    assert plan(restrict="none") == ["hpsum.ports:in:tcp:22:198.18.0.10/32:accept"]
    assert plan(allow_any_source=True, outbound=True, restrict="all_planned") == [
        "hpsum.ports:in:tcp:22:any:accept", "hpsum.ports:out:tcp:63001:any:accept"]
    assert plan(state="absent") == []


@pytest.mark.parametrize(
    "entry",
    [Entry("in", "tcp", 22, "198.18.0.10/32", "accept"), Entry("out", "udp", 137, "2001:db8::/64", "reply"),
     Entry("in", "tcp", 22, "", "drop"), Entry("in", "tcp", 0, "", "lo"), Entry("in", "tcp", 22, "::/0", "drop"),
     Entry("in", "tcp", 22, "0.0.0.0/0", "drop"),
     Entry("in", "tcp", 22, "198.18.0.1/32", "mgmt")],
)
def test_key_round_trip_and_fits_comment(entry: Entry) -> None:
    assert base.parse_key(entry.key) == entry
    assert len(entry.key) <= 128  # nftables' comment limit


def test_longest_key_fits() -> None:
    entry = Entry("out", "tcp", 65535, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "reply")
    assert len(entry.key) <= 128


@pytest.mark.parametrize("text", ["", "hpsum.ports", "other:in:tcp:22:any:drop", "hpsum.ports:in:tcp:x:any:drop"])
def test_parse_key_rejects_foreign(text: str) -> None:
    assert base.parse_key(text) is None


def test_entry_geometry() -> None:
    reply = Entry("in", "tcp", 22, "198.18.0.10/32", "reply")
    assert (reply.hook, reply.address_side, reply.port_side, reply.conntrack) == ("output", "dst", "src", "established")
    drop = Entry("in", "udp", 137, "", "drop")
    assert (drop.hook, drop.family, drop.conntrack, drop.verdict) == ("input", None, "new", "drop")
    assert Entry("out", "tcp", 1, "198.18.0.10/32", "accept").hook == "output"
    assert "management" in Entry("in", "tcp", 22, "198.18.0.1/32", "mgmt").describe()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("198.18.0.1 50000 198.18.0.15 22", (("198.18.0.1/32",), 22)),
        ("::ffff:198.18.0.1 50000 ::ffff:198.18.0.15 2222", (("198.18.0.1/32",), 2222)),
        ("2001:db8::1 50000 2001:db8::2 22", (("2001:db8::1/128",), 22)),
        ("", ((), None)),
        ("garbage here", ((), None)),
        ("x 1 y z", ((), None)),
    ],
)
def test_management_from_env(value: str, expected: t.Tuple[t.Any, ...]) -> None:
    assert base.management_from_env({"SSH_CONNECTION": value}) == expected


class MemoryBackend(base.Backend):
    """A backend whose state is a list of lines in memory."""

    name = "memory"

    def __init__(self) -> None:
        super().__init__(runner=None)  # type: ignore[arg-type]
        self.state = []  # type: t.List[str]
        self.applied = 0

    def snapshot(self) -> base.Snapshot:
        return base.Snapshot(list(self.state), False)

    def target(self, snapshot: base.Snapshot, entries: t.Sequence[Entry]) -> base.Target:
        return base.Target([e.key for e in entries])

    def apply(self, snapshot: base.Snapshot, target: base.Target, hook: base.FailHook) -> None:
        self.applied += 1
        self.state = list(target.lines)


def test_manager_check_real_check_real_and_absent() -> None:
    backend = MemoryBackend()
    runs = [base.HostFirewall(backend, RULES, Options(), check).run() for check in (True, False, True, False)]
    assert [r["changed"] for r in runs] == [True, True, False, False]
    assert backend.applied == 1
    assert runs[0]["added"] == runs[1]["added"] == backend.state
    assert runs[0]["diff"] == runs[1]["diff"]
    assert runs[1]["not_applied"] == ["out 63001/tcp: outbound is not filtered on this host"]
    closed = base.HostFirewall(backend, RULES, Options(state="absent"), False).run()
    assert closed["changed"] and closed["removed"] and backend.state == []
    assert closed["diff"]["after"] == ""


def test_manager_rejects_bad_rules_before_reading_anything() -> None:
    with pytest.raises(SumPortsError):
        base.HostFirewall(MemoryBackend(), [{"direction": "in", "port": 0, "peers": [SUM]}], Options(), False)


def test_fail_hook() -> None:
    base.FailHook("").step_done("x")
    assert base.FailHook("bad_rule").bad_rule
    with pytest.raises(SumPortsError, match="injected failure after step 'x'"):
        base.FailHook("after_first_step").step_done("x")


def test_management_port_without_known_source_is_never_restricted() -> None:
    # no SSH_CONNECTION and no management_sources: dropping other sources of 22 could cut Ansible off
    assert plan(management_port=22, restrict="all_planned") == ["hpsum.ports:in:tcp:22:198.18.0.10/32:accept"]
    result = base.HostFirewall(MemoryBackend(), RULES, Options(management_port=22, restrict="all_planned"),
                               True).run()
    assert any(note.startswith("in 22/tcp: other sources are not dropped") for note in result["not_applied"])


def test_missing_program_names_the_backend() -> None:
    from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.nftables import NftablesBackend
    from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

    class _NoPrograms:
        def which(self, program: str) -> None:
            return None

    backend = NftablesBackend.__new__(NftablesBackend)
    backend.runner = _NoPrograms()
    with pytest.raises(SumPortsError, match=r"^backend: nftables was asked for but nft is missing$") as info:
        backend.command("nft")
    assert info.value.details == {"option": "backend", "value": "nftables"}
