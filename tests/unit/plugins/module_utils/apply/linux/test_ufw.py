# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ufw: rule blocks in ufw's own format, file round trips byte for byte, one load per family, rollback."""

from __future__ import annotations

import pathlib
import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux import ufw
from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import (
    Entry,
    FailHook,
    HostFirewall,
    Options,
    SumPortsError,
)

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
UFW = "/usr/sbin/ufw"
V4, V6 = "/etc/ufw/user.rules", "/etc/ufw/user6.rules"
# ufw's files on the lab's locked ufw host (deny in and out, 22/tcp allowed), as ufw wrote them
USER4 = (FIXTURES / "ufw_user.rules").read_bytes()
USER6 = (FIXTURES / "ufw_user6.rules").read_bytes()
# ufw's settings on the lab's locked ufw host (deny in and out), and the chains iptables has when ufw is active
DEFAULTS_LOCKED = b'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\nDEFAULT_OUTPUT_POLICY="DROP"\n'
CONF_ENABLED = b"# /etc/ufw/ufw.conf\nENABLED=yes\nLOGLEVEL=low\n"
SAVE = "/usr/sbin/iptables-save"
SAVE_ACTIVE = "*filter\n:INPUT DROP [0:0]\n:ufw-user-input - [0:0]\n:ufw-user-output - [0:0]\nCOMMIT\n"
RULES = [{"direction": "in", "port": 22, "peers": ["198.18.0.10"]},
         {"direction": "out", "port": 63001, "peers": ["198.18.0.10"]}]
LOAD4 = ("/usr/sbin/iptables-restore", "--noflush")
LOAD6 = ("/usr/sbin/ip6tables-restore", "--noflush")


def make(replay: t.Any, files: t.Optional[t.Dict[str, bytes]] = None, save: str = SAVE_ACTIVE,
         load4: t.Any = (0, "", ""), load6: t.Any = (0, "", "")) -> t.Tuple[ufw.UfwBackend, t.Any]:
    # no ufw command in the table: the snapshot must not run one (each is a Python start-up)
    table = {(SAVE, "-t", "filter"): (0, save, ""), LOAD4: load4, LOAD6: load6}
    files = files or {V4: USER4, V6: USER6, ufw.DEFAULTS: DEFAULTS_LOCKED, ufw.CONF: CONF_ENABLED}
    runner = replay(table, files=files, commands=["ufw", "iptables-save", "iptables-restore", "ip6tables-restore"])
    return ufw.UfwBackend(runner), runner


def loads(runner: t.Any) -> t.List[t.Tuple[str, t.Optional[str]]]:
    """(program, file text) of every load into the live tables, in order."""
    return [(argv[0].rsplit("/", 1)[1], data) for argv, data in runner.calls if argv in (LOAD4, LOAD6)]


@pytest.mark.parametrize(
    ("entry", "family", "peer", "block"),
    [
        # the texts ufw 0.36.2 itself wrote for these rules in the lab
        (Entry("in", "tcp", 22, "198.18.0.70/32", "accept"), 4, "198.18.0.70/32",
         "### tuple ### allow tcp 22 0.0.0.0/0 any 198.18.0.70 in comment=687073756d2e706f7274733a696e3a7463703a32323a"
         "3139382e31382e302e37302f33323a616363657074\n"
         "-A ufw-user-input -p tcp --dport 22 -s 198.18.0.70 -j ACCEPT\n\n"),
        (Entry("out", "tcp", 63001, "198.18.0.70/32", "accept"), 4, "198.18.0.70/32",
         "### tuple ### allow tcp 63001 198.18.0.70 any 0.0.0.0/0 out comment=687073756d2e706f7274733a6f75743a7463703a"
         "36333030313a3139382e31382e302e37302f33323a616363657074\n"
         "-A ufw-user-output -p tcp -d 198.18.0.70 --dport 63001 -j ACCEPT\n\n"),
        (Entry("in", "tcp", 22, "", "drop"), 4, "0.0.0.0/1",
         "### tuple ### deny tcp 22 0.0.0.0/0 any 0.0.0.0/1 in comment=687073756d2e706f7274733a696e3a7463703a32323a616e"
         "793a64726f70\n-A ufw-user-input -p tcp --dport 22 -s 0.0.0.0/1 -j DROP\n\n"),
        (Entry("in", "tcp", 22, "", "drop"), 6, "::/1",
         "### tuple ### deny tcp 22 ::/0 any ::/1 in comment=687073756d2e706f7274733a696e3a7463703a32323a616e793a64726f"
         "70\n-A ufw6-user-input -p tcp --dport 22 -s ::/1 -j DROP\n\n"),
    ],
)
def test_rule_block_is_what_ufw_writes(entry: Entry, family: int, peer: str, block: str) -> None:
    assert ufw.rule_block(entry, family, peer) == block


def test_any_source_and_udp() -> None:
    block = ufw.rule_block(Entry("in", "udp", 137, "", "accept"), 6, "::/0")
    assert block.splitlines()[1] == "-A ufw6-user-input -p udp --dport 137 -j ACCEPT"


def test_drops_are_address_halves() -> None:
    # ufw would skip "deny from any port 22" as a duplicate of the user's own "allow 22/tcp"
    assert ufw.ufw_rules(Entry("in", "tcp", 22, "", "drop"), ipv6=True) == [
        (4, "0.0.0.0/1"), (4, "128.0.0.0/1"), (6, "::/1"), (6, "8000::/1")]
    assert len(ufw.ufw_rules(Entry("in", "tcp", 22, "", "drop"), ipv6=False)) == 2
    assert ufw.ufw_rules(Entry("in", "tcp", 22, "2001:db8::1/128", "accept"), ipv6=False) == []
    assert ufw.ufw_rules(Entry("in", "tcp", 22, "", "accept"), ipv6=True) == [(4, "0.0.0.0/0"), (6, "::/0")]
    assert ufw.ufw_rules(Entry("in", "tcp", 22, "::/0", "drop"), ipv6=True) == [(6, "::/1"), (6, "8000::/1")]
    assert ufw.ufw_rules(Entry("in", "tcp", 22, "::/0", "drop"), ipv6=False) == []


ALL = Options(restrict="all_planned")


def test_settings_as_ufw_reads_them() -> None:
    settings = ufw.parse_settings(DEFAULTS_LOCKED + b"# DEFAULT_OUTPUT_POLICY=ACCEPT\nIPT_MODULES=\"\"\n")
    assert settings == {"IPV6": "yes", "DEFAULT_INPUT_POLICY": "drop", "DEFAULT_OUTPUT_POLICY": "drop",
                        "IPT_MODULES": ""}
    assert [ufw.policy_word(v) for v in ("drop", "accept", "reject")] == ["deny", "allow", "reject"]


def test_outgoing_default_from_the_defaults_file(replay: t.Any) -> None:
    be, runner = make(replay)
    runner.files[ufw.DEFAULTS] = b'IPV6=yes\nDEFAULT_OUTPUT_POLICY="ACCEPT"\n'
    snap = be.snapshot()
    assert not snap.outbound_filtered and runner.argvs() == [(SAVE, "-t", "filter")]
    be, runner = make(replay)
    runner.files[ufw.DEFAULTS] = b"DEFAULT_OUTPUT_POLICY=reject\n"
    assert be.snapshot().outbound_filtered


def test_locked_check_real_check_real_absent(replay: t.Any) -> None:
    be, runner = make(replay)
    check = HostFirewall(be, RULES, ALL, check_mode=True).run()
    assert check["changed"] and check["outbound_filtered"] and runner.writes == []
    # the drop covers IPv4 only: no peer is IPv6, so IPv6 keeps the access it had
    assert check["added"] == ["v4: hpsum.ports:in:tcp:22:198.18.0.10/32:accept",
                              "v4: hpsum.ports:out:tcp:63001:198.18.0.10/32:accept",
                              "v4: hpsum.ports:in:tcp:22:0.0.0.0/0:drop", "v4: hpsum.ports:in:tcp:22:0.0.0.0/0:drop"]
    real = HostFirewall(be, RULES, ALL, check_mode=False).run()
    # one load of the new IPv4 file (IPv6 did not change), no ufw reload, then the file written
    assert real["diff"] == check["diff"] and (UFW, "reload") not in runner.argvs()
    assert loads(runner) == [("iptables-restore", runner.files[V4].decode())] and runner.writes == [V4]
    text = runner.files[V4].decode()
    # ours first, then the user's own rule, every foreign byte kept
    user_rule = "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n"
    assert text.index("198.18.0.10") < text.index("0.0.0.0/1") < text.index(user_rule)
    assert runner.files[V6] == USER6
    assert HostFirewall(be, RULES, ALL, check_mode=False).run()["changed"] is False
    assert len(loads(runner)) == 1
    closed = HostFirewall(be, RULES, Options(state="absent"), check_mode=False).run()
    assert closed["changed"] and runner.files[V4] == USER4 and runner.files[V6] == USER6


def test_failed_ipv6_load_loads_ipv4_back(replay: t.Any) -> None:
    be, runner = make(replay, load6=(2, "", "ip6tables-restore: line 3 failed"))
    with pytest.raises(SumPortsError, match="ip6tables-restore --noflush failed"):
        HostFirewall(be, RULES, Options(restrict="all_planned", allow_any_source=True), check_mode=False).run()
    # the new IPv4 file was live, the IPv6 one refused: IPv4 gets its old file again, no file was written
    assert [program for program, _data in loads(runner)] == ["iptables-restore", "ip6tables-restore",
                                                             "iptables-restore"]
    assert loads(runner)[-1][1] == USER4.decode() and runner.writes == []
    assert runner.files[V4] == USER4 and runner.files[V6] == USER6


def test_failed_write_loads_both_back_and_restores_files(replay: t.Any) -> None:
    be, runner = make(replay)
    original = runner.write

    def write(path: str, content: t.Optional[bytes]) -> None:
        if path == V6 and content != USER6:
            raise OSError("No space left on device")
        original(path, content)

    runner.write = write  # type: ignore[method-assign]
    with pytest.raises(OSError):
        HostFirewall(be, RULES, Options(allow_any_source=True), check_mode=False).run()
    assert [program for program, _data in loads(runner)][-2:] == ["ip6tables-restore", "iptables-restore"]
    assert loads(runner)[-2][1] == USER6.decode() and loads(runner)[-1][1] == USER4.decode()
    assert runner.files[V4] == USER4 and runner.files[V6] == USER6


def test_injected_failures(replay: t.Any) -> None:
    be, runner = make(replay)
    with pytest.raises(SumPortsError, match="injected"):
        HostFirewall(be, RULES, Options(), check_mode=False, hook=FailHook("after_first_step")).run()
    assert runner.files[V4] == USER4 and runner.writes == []
    assert loads(runner)[-1] == ("iptables-restore", USER4.decode()) and len(loads(runner)) == 2


def test_inactive_ufw_and_foreign_file(replay: t.Any) -> None:
    # ufw's chains not loaded (what "ufw status" calls inactive), or ufw.conf says it is disabled
    be, _runner = make(replay, save="*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n")
    with pytest.raises(SumPortsError, match="ufw is not active"):
        be.snapshot()
    assert not be.available()
    be, runner = make(replay)
    runner.files[ufw.CONF] = b"ENABLED=no\n"
    with pytest.raises(SumPortsError, match="ufw is not active"):
        be.snapshot()
    be, runner = make(replay)
    runner.commands.discard("ufw")
    with pytest.raises(SumPortsError, match="ufw was asked for but ufw is missing"):
        be.snapshot()
    be, _runner = make(replay, files={V4: b"not ufw\n", V6: USER6, ufw.CONF: CONF_ENABLED})
    with pytest.raises(SumPortsError, match="no '### RULES ###' section"):
        be.snapshot()


def test_ipv6_off(replay: t.Any) -> None:
    be, runner = make(replay)
    runner.files["/etc/default/ufw"] = b"IPV6=no\n"
    result = HostFirewall(be, RULES, Options(), check_mode=False).run()
    assert not any(line.startswith("v6:") for line in result["added"]) and runner.files[V6] == USER6


def test_a_file_iptables_refuses_changes_nothing(replay: t.Any) -> None:
    be, runner = make(replay, load4=(2, "", "invalid port/service `99999'"))
    with pytest.raises(SumPortsError, match="iptables-restore --noflush failed"):
        HostFirewall(be, RULES, Options(), check_mode=False, hook=FailHook("bad_rule")).run()
    # iptables-restore loads a file all or nothing: nothing to load back, nothing was written
    assert runner.writes == [] and (UFW, "reload") not in runner.argvs() and len(loads(runner)) == 1
    assert ufw.BAD_BLOCK.decode() in t.cast(str, loads(runner)[0][1])


def test_missing_restore_program_is_an_error(replay: t.Any) -> None:
    be, runner = make(replay)
    runner.commands.discard("iptables-restore")
    with pytest.raises(SumPortsError, match="iptables-restore is missing"):
        HostFirewall(be, RULES, Options(), check_mode=False).run()
    assert runner.writes == []
