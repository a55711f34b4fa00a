# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ufw: command rendering, status parsing, prepend order, rollback from the user files."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.firewall import ufw
from ansible_collections.hpsum.ports.plugins.module_utils.firewall.base import (
    Entry,
    FailHook,
    HostFirewall,
    Options,
    SumPortsError,
)

UFW = "/usr/sbin/ufw"
VERBOSE_LOCKED = """Status: active
Logging: on (low)
Default: deny (incoming), deny (outgoing), disabled (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
22/tcp                     ALLOW IN    Anywhere
22/tcp (v6)                ALLOW IN    Anywhere (v6)
"""
NUMBERED_LOCKED = """Status: active

     To                         Action      From
     --                         ------      ----
[ 1] 22/tcp                     ALLOW IN    Anywhere
[ 2] 22/tcp (v6)                ALLOW IN    Anywhere (v6)
"""
# As ufw 0.36.2 (Debian 12) prints it in the lab: IPv6 rules with an address carry no "(v6)".
NUMBERED_APPLIED = """Status: active

     To                         Action      From
     --                         ------      ----
[ 1] 22/tcp                     ALLOW IN    198.18.0.10                # hpsum.ports:in:tcp:22:198.18.0.10/32:accept
[ 2] 198.18.0.10 63001/tcp      ALLOW OUT   Anywhere                   (out) \
# hpsum.ports:out:tcp:63001:198.18.0.10/32:accept
[ 3] 22/tcp                     DENY IN     0.0.0.0/1                  # hpsum.ports:in:tcp:22:any:drop
[ 4] 22/tcp                     DENY IN     128.0.0.0/1                # hpsum.ports:in:tcp:22:any:drop
[ 5] 22/tcp                     ALLOW IN    Anywhere
[ 6] 22/tcp                     DENY IN     ::/1                       # hpsum.ports:in:tcp:22:any:drop
[ 7] 22/tcp                     DENY IN     8000::/1                   # hpsum.ports:in:tcp:22:any:drop
[ 8] 22/tcp (v6)                ALLOW IN    Anywhere (v6)
"""
RULES = [{"direction": "in", "port": 22, "peers": ["198.18.0.10"]},
         {"direction": "out", "port": 63001, "peers": ["198.18.0.10"]}]
USER = {"/etc/ufw/user.rules": b"*filter\n# v4\nCOMMIT\n", "/etc/ufw/user6.rules": b"*filter\n# v6\nCOMMIT\n",
        "/etc/default/ufw": b'IPV6=yes\nDEFAULT_OUTPUT_POLICY="DROP"\n'}


def make(replay: t.Any, numbered: str, verbose: str = VERBOSE_LOCKED) -> t.Tuple[ufw.UfwBackend, t.Any]:
    table = {(UFW, "status", "verbose"): (0, verbose, ""), (UFW, "status", "numbered"): (0, numbered, ""),
             (UFW, "status"): (0, "Status: active\n", ""), (UFW, "reload"): (0, "Firewall reloaded\n", "")}
    runner = replay(table, files=USER, commands=["ufw"])
    return ufw.UfwBackend(runner), runner


@pytest.mark.parametrize(
    ("entry", "args"),
    [
        (Entry("in", "tcp", 22, "198.18.0.10/32", "accept"),
         "allow in proto tcp from 198.18.0.10/32 to any port 22 comment hpsum.ports:in:tcp:22:198.18.0.10/32:accept"),
        (Entry("out", "udp", 137, "198.18.0.10/32", "accept"),
         "allow out proto udp to 198.18.0.10/32 port 137 comment hpsum.ports:out:udp:137:198.18.0.10/32:accept"),
        (Entry("in", "tcp", 22, "", "drop"),
         "deny in proto tcp from any to any port 22 comment hpsum.ports:in:tcp:22:any:drop"),
        (Entry("in", "tcp", 22, "198.18.0.1/32", "mgmt"),
         "allow in proto tcp from 198.18.0.1/32 to any port 22 comment hpsum.ports:in:tcp:22:198.18.0.1/32:mgmt"),
    ],
)
def test_ufw_args(entry: Entry, args: str) -> None:
    assert " ".join(ufw.ufw_args(entry)) == args


def test_drops_are_address_halves() -> None:
    # ufw would skip "deny from any port 22" as a duplicate of the user's own "allow 22/tcp"
    rules = ufw.ufw_rules(Entry("in", "tcp", 22, "", "drop"), ipv6=True)
    assert [(family, args[5]) for family, args in rules] == [(4, "0.0.0.0/1"), (4, "128.0.0.0/1"), (6, "::/1"),
                                                             (6, "8000::/1")]
    assert len(ufw.ufw_rules(Entry("in", "tcp", 22, "", "drop"), ipv6=False)) == 2
    assert ufw.ufw_rules(Entry("in", "tcp", 22, "", "accept"), ipv6=True)[0][0] == 0


def test_parsers() -> None:
    assert ufw.parse_defaults(VERBOSE_LOCKED) == {"incoming": "deny", "outgoing": "deny", "routed": "disabled"}
    rules = ufw.parse_numbered(NUMBERED_APPLIED)
    assert rules[0] == (1, False, "hpsum.ports:in:tcp:22:198.18.0.10/32:accept")
    assert rules[1] == (2, False, "hpsum.ports:out:tcp:63001:198.18.0.10/32:accept")
    assert rules[5] == (6, True, "hpsum.ports:in:tcp:22:any:drop") and rules[7] == (8, True, "")


def test_locked_check_real(replay: t.Any) -> None:
    be, runner = make(replay, NUMBERED_LOCKED)
    check = HostFirewall(be, RULES, Options(), check_mode=True).run()
    assert check["changed"] and check["outbound_filtered"]
    assert check["added"] == ["v4: hpsum.ports:in:tcp:22:198.18.0.10/32:accept",
                              "v4: hpsum.ports:out:tcp:63001:198.18.0.10/32:accept",
                              "v4: hpsum.ports:in:tcp:22:any:drop", "v4: hpsum.ports:in:tcp:22:any:drop",
                              "v6: hpsum.ports:in:tcp:22:any:drop", "v6: hpsum.ports:in:tcp:22:any:drop"]
    allow_prepends(runner)
    assert not [a for a in runner.argvs() if "prepend" in a]
    HostFirewall(be, RULES, Options(), check_mode=False).run()
    prepends = [a for a in runner.argvs() if "prepend" in a]
    # reversed, so that the first ends on top
    assert [a[7] for a in prepends] == ["8000::/1", "::/1", "128.0.0.0/1", "0.0.0.0/1", "198.18.0.10/32",
                                        "198.18.0.10/32"]


def allow_prepends(runner: t.Any, fail: t.Optional[str] = None) -> None:
    """Table entries for every prepend of RULES (the one whose source is ``fail`` fails)."""
    for entry in [Entry("in", "tcp", 22, "", "drop"), Entry("out", "tcp", 63001, "198.18.0.10/32", "accept"),
                  Entry("in", "tcp", 22, "198.18.0.10/32", "accept")]:
        for _family, args in ufw.ufw_rules(entry, ipv6=True):
            runner.table[(UFW, "prepend", *args)] = (1, "", "ERROR") if fail in args else (0, "Rule inserted\n", "")


def test_applied_no_change_then_absent_deletes_highest_first(replay: t.Any) -> None:
    be, runner = make(replay, NUMBERED_APPLIED)
    assert HostFirewall(be, RULES, Options(), check_mode=False).run()["changed"] is False
    for number in (1, 2, 3, 4, 6, 7):
        runner.table[(UFW, "--force", "delete", str(number))] = (0, "Rule deleted\n", "")
    closed = HostFirewall(be, RULES, Options(state="absent"), check_mode=False).run()
    assert closed["changed"]
    assert [a[-1] for a in runner.argvs() if "delete" in a] == ["7", "6", "4", "3", "2", "1"]


def test_failure_restores_user_files_and_reloads(replay: t.Any) -> None:
    be, runner = make(replay, NUMBERED_LOCKED)
    allow_prepends(runner, fail="198.18.0.10/32")
    with pytest.raises(SumPortsError):
        HostFirewall(be, RULES, Options(), check_mode=False).run()
    assert runner.argvs()[-1] == (UFW, "reload")
    assert sorted(runner.writes) == ["/etc/ufw/user.rules", "/etc/ufw/user6.rules"]
    assert runner.files["/etc/ufw/user.rules"] == USER["/etc/ufw/user.rules"]


def test_injected_failure_after_first_step(replay: t.Any) -> None:
    be, runner = make(replay, NUMBERED_LOCKED)
    allow_prepends(runner)
    with pytest.raises(SumPortsError, match="injected"):
        HostFirewall(be, RULES, Options(), check_mode=False, hook=FailHook("after_first_step")).run()
    assert runner.argvs()[-1] == (UFW, "reload")


def test_inactive_ufw_is_an_error(replay: t.Any) -> None:
    be, _runner = make(replay, NUMBERED_LOCKED, verbose="Status: inactive\n")
    with pytest.raises(SumPortsError, match="ufw is not active"):
        be.snapshot()


def test_ipv6_off(replay: t.Any) -> None:
    be, runner = make(replay, NUMBERED_LOCKED)
    runner.files["/etc/default/ufw"] = b"IPV6=no\n"
    result = HostFirewall(be, RULES, Options(), check_mode=True).run()
    assert not any(line.startswith("v6:") for line in result["added"])
