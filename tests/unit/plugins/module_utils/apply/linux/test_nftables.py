# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nftables: rule rendering, ruleset parsing (real ``nft -j`` output), the transaction, the boot file."""

from __future__ import annotations

import pathlib
import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux import nftables
from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import (
    Entry,
    FailHook,
    HostFirewall,
    Options,
    SumPortsError,
)

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
NFT = "/usr/sbin/nft"
LIST = (NFT, "-j", "list", "ruleset")
CONF = "/etc/nftables.conf"
RULES = [
    {"direction": "in", "protocol": "tcp", "port": 22, "peers": ["198.18.0.10"]},
    {"direction": "in", "protocol": "tcp", "port": 443, "peers": ["198.18.0.10", "2001:db8::10"]},
    {"direction": "out", "protocol": "tcp", "port": 63001, "peers": ["198.18.0.10"]},
]
OPTIONS = Options(management_sources=("198.18.0.1/32",), management_port=22, restrict="all_planned")
FOREIGN_CONF = (b"#!/usr/sbin/nft -f\nflush ruleset\n\ntable inet filter {\n\tchain input {\n"
                b"\t\ttype filter hook input priority 0; policy drop;\n\t}\n}\n")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        (Entry("in", "tcp", 22, "198.18.0.10/32", "accept"),
         'ip saddr 198.18.0.10/32 tcp dport 22 accept comment "hpsum.ports:in:tcp:22:198.18.0.10/32:accept"'),
        (Entry("out", "udp", 138, "2001:db8::/64", "accept"),
         'ip6 daddr 2001:db8::/64 udp dport 138 accept comment "hpsum.ports:out:udp:138:2001:db8::/64:accept"'),
        (Entry("in", "tcp", 443, "198.18.0.10/32", "reply"),
         'ip daddr 198.18.0.10/32 tcp sport 443 ct state established accept comment '
         '"hpsum.ports:in:tcp:443:198.18.0.10/32:reply"'),
        (Entry("in", "tcp", 22, "", "drop"), 'tcp dport 22 ct state new drop comment "hpsum.ports:in:tcp:22:any:drop"'),
        (Entry("in", "tcp", 22, "::/0", "drop"),
         'meta nfproto ipv6 tcp dport 22 ct state new drop comment "hpsum.ports:in:tcp:22:::/0:drop"'),
        (Entry("in", "tcp", 0, "", "lo"), 'iifname "lo" return comment "hpsum.ports:lo"'),
    ],
)
def test_render_rule(entry: Entry, text: str) -> None:
    assert nftables.render_rule(entry) == text


@pytest.mark.parametrize(
    ("family", "entry", "fits"),
    [("inet", Entry("in", "tcp", 1, "2001:db8::1/128", "accept"), True),
     ("ip", Entry("in", "tcp", 1, "2001:db8::1/128", "accept"), False),
     ("ip6", Entry("in", "tcp", 1, "2001:db8::1/128", "accept"), True),
     ("ip", Entry("in", "tcp", 1, "", "drop"), True),
     ("ip6", Entry("in", "tcp", 1, "198.18.0.1/32", "accept"), False)],
)
def test_fits_family(family: str, entry: Entry, fits: bool) -> None:
    assert nftables.fits_family(entry, family) is fits


def test_parse_locked_ruleset() -> None:
    import json

    ruleset = nftables.Ruleset(json.loads(fixture("nft_locked.json")))
    assert ruleset.base_chains("input") == [("inet", "filter", "input")]
    assert ruleset.filters(("inet", "filter", "input"))
    assert not ruleset.filters(("inet", "filter", "output"))
    assert ruleset.jumps() == []
    applied = nftables.Ruleset(json.loads(fixture("nft_locked_applied.json")))
    assert [(k, target) for k, _h, target in applied.jumps()] == [(("inet", "filter", "input"), "hpsum_ports_in")]


def backend(ruleset_json: str, conf: t.Optional[bytes], replay: t.Any, nft_reply: t.Any = (0, "", "")):
    files = {CONF: conf} if conf is not None else {}
    runner = replay({LIST: (0, ruleset_json, ""), (NFT, "-f", "-"): nft_reply, (NFT, "-c", "-f", "-"): (0, "", "")},
                    files=files, commands=["nft"])
    return nftables.NftablesBackend(runner), runner


def test_locked_host_check_then_real(replay: t.Any) -> None:
    be, runner = backend(fixture("nft_locked.json"), FOREIGN_CONF, replay)
    check = HostFirewall(be, RULES, OPTIONS, check_mode=True).run()
    assert check["changed"] and check["outbound_filtered"] is False
    assert (NFT, "-f", "-") not in runner.argvs() and runner.writes == []
    assert check["added"][:3] == ["inet filter input: jump hpsum_ports_in", "inet filter hpsum_ports_in: chain",
                                  "inet filter hpsum_ports_in: hpsum.ports:lo"]
    # the accept lands in the table that drops, never in a table of our own
    assert not any("hpsum_ports:" in line or "table of its own" in line for line in check["added"])
    assert check["not_applied"] == ["out 63001/tcp: outbound is not filtered on this host"]
    real = HostFirewall(be, RULES, OPTIONS, check_mode=False).run()
    assert real["diff"] == check["diff"]
    script = dict(runner.calls)[(NFT, "-f", "-")]
    assert script.splitlines()[:3] == [
        "add chain inet filter hpsum_ports_in", "flush chain inet filter hpsum_ports_in",
        'add rule inet filter hpsum_ports_in iifname "lo" return comment "hpsum.ports:lo"']
    assert script.splitlines()[-1] == 'insert rule inet filter input jump hpsum_ports_in comment "hpsum.ports:jump"'
    conf = runner.files[CONF]
    assert conf.startswith(FOREIGN_CONF) and conf.rstrip().endswith(nftables.END.encode())


def test_applied_state_is_unchanged_and_absent_removes(replay: t.Any) -> None:
    conf = nftables.render_conf(FOREIGN_CONF, {("inet", "filter"): {
        "jumps": [("input", "hpsum_ports_in")],
        "chains": {"hpsum_ports_in": [Entry("in", "tcp", 0, "", "lo"),
                                      Entry("in", "tcp", 22, "198.18.0.1/32", "mgmt"),
                                      Entry("in", "tcp", 22, "198.18.0.10/32", "accept"),
                                      Entry("in", "tcp", 443, "198.18.0.10/32", "accept"),
                                      Entry("in", "tcp", 443, "2001:db8::10/128", "accept"),
                                      Entry("in", "tcp", 22, "0.0.0.0/0", "drop"),
                                      Entry("in", "tcp", 443, "0.0.0.0/0", "drop"),
                                      Entry("in", "tcp", 443, "::/0", "drop")]}}})
    be, runner = backend(fixture("nft_locked_applied.json"), conf, replay)
    again = HostFirewall(be, RULES, OPTIONS, check_mode=False).run()
    assert again["changed"] is False and again["added"] == again["removed"] == []
    assert runner.argvs() == [LIST]
    closed = HostFirewall(be, RULES, Options(state="absent"), check_mode=False).run()
    assert closed["changed"] and closed["added"] == []
    script = dict(runner.calls)[(NFT, "-f", "-")].splitlines()
    assert script[0].startswith("delete rule inet filter input handle ")
    assert script[1:] == ["flush chain inet filter hpsum_ports_in", "delete chain inet filter hpsum_ports_in"]
    assert runner.files[CONF] == FOREIGN_CONF  # the foreign bytes, exactly


def test_open_host_without_input_chain_gets_a_table_of_its_own(replay: t.Any) -> None:
    be, runner = backend(fixture("nft_empty.json"), None, replay)
    result = HostFirewall(be, RULES[:1], Options(), check_mode=False).run()
    assert result["added"][0] == "inet hpsum_ports: table of its own"
    script = dict(runner.calls)[(NFT, "-f", "-")].splitlines()
    assert script[:2] == ["add table inet hpsum_ports",
                          "add chain inet hpsum_ports input { type filter hook input priority 0 ; policy accept ; }"]
    text = runner.files[CONF].decode()
    assert text.startswith(nftables.BEGIN + "\n") and "table inet hpsum_ports {" in text
    # absent removes the file it made
    assert nftables.render_conf(runner.files[CONF], {}) is None


def test_failed_transaction_puts_the_conf_back(replay: t.Any) -> None:
    be, runner = backend(fixture("nft_locked.json"), FOREIGN_CONF, replay, nft_reply=(1, "", "Error: boom"))
    with pytest.raises(SumPortsError, match="nft -f - failed"):
        HostFirewall(be, RULES, OPTIONS, check_mode=False).run()
    assert runner.files[CONF] == FOREIGN_CONF


def test_injected_failure_after_first_step(replay: t.Any) -> None:
    be, runner = backend(fixture("nft_locked.json"), FOREIGN_CONF, replay)
    with pytest.raises(SumPortsError, match="injected failure"):
        HostFirewall(be, RULES, OPTIONS, check_mode=False, hook=FailHook("after_first_step")).run()
    assert runner.files[CONF] == FOREIGN_CONF
    assert (NFT, "-f", "-") not in runner.argvs()


def test_bad_rule_hook_adds_a_rejected_statement(replay: t.Any) -> None:
    be, _runner = backend(fixture("nft_locked.json"), None, replay)
    snapshot = be.snapshot()
    target = be.target(snapshot, [Entry("in", "tcp", 22, "198.18.0.10/32", "accept")])
    assert "hpsum_ports_no_such_table" in be.script(snapshot, target, bad_rule=True)


@pytest.mark.parametrize(
    "content",
    [b"", b"flush ruleset", b"flush ruleset\n", b"# a\r\n\r\ntable inet t {\r\n}\r\n", b"x\n\n\n"],
)
def test_conf_block_round_trip_is_byte_exact(content: bytes) -> None:
    tables = {("inet", "filter"): {"jumps": [("input", "hpsum_ports_in")],
                                   "chains": {"hpsum_ports_in": [Entry("in", "tcp", 22, "", "drop")]}}}
    with_block = nftables.render_conf(content, tables)
    assert with_block is not None and with_block.startswith(content)
    assert nftables.render_conf(with_block, tables) == with_block
    assert nftables.render_conf(with_block, {}) == (content or None)


def test_missing_conf_stays_missing() -> None:
    assert nftables.render_conf(None, {}) is None
    assert nftables.render_conf(b"foreign\n", {}) == b"foreign\n"


def test_missing_nft_is_an_error_naming_backend(replay: t.Any) -> None:
    be = nftables.NftablesBackend(replay({}, commands=[]))
    with pytest.raises(SumPortsError, match="backend: nftables"):
        be.snapshot()
