# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sum_firewall role's summary: every host of the play once, in the state it ended in."""

from __future__ import annotations

import pytest

from ansible_collections.hpsum.ports.plugins.filter.sum_firewall_outcomes import sum_firewall_outcomes
from ansible_collections.hpsum.ports.plugins.module_utils.apply import window

UNFILTERED = "out 63001/tcp: outbound is not filtered on this host"


def test_every_host_once_in_its_state() -> None:
    kinds = {"sum1": "linux", "node1": "linux", "esx1": "esxi", "win1": "windows", "ilo1": "none", "hpux1": "hpux",
             "gone": "linux", "silent": "linux"}
    results = {
        "sum1": {"changed": True, "backend": "firewalld", "expires_at": "2026-12-02T07:00:00Z",
                 "not_applied": [UNFILTERED]},
        "node1": {"changed": False, "backend": "nftables", "expires_at": None, "not_applied": [UNFILTERED]},
        "esx1": {"changed": False, "ruleset_id": "hpsumPorts"},
        "win1": {"changed": True},
        "ilo1": {},
        "hpux1": {},
        "gone": {"changed": True, "backend": "ufw"},  # left the play after its result: failed
        "silent": {},  # stayed in the play without a result: failed, with the reason
    }
    hosts = list(kinds)
    lines = window.outcomes(hosts, kinds, results, [h for h in hosts if h != "gone"])
    assert lines == [
        "the update window, per host",
        "opened (2): sum1 (firewalld, closes at 2026-12-02T07:00:00Z), win1 (Windows Firewall)",
        "unchanged (2): node1 (nftables), esx1 (ESXi ruleset hpsumPorts)",
        "manual step (1): hpux1",
        "not ours to change (1): ilo1",
        "failed (2): gone, silent (no outcome: the role's tasks did not run for it)",
        "the window closes by itself at 2026-12-02T07:00:00Z (1): sum1",
        "planned but not applied (2): %s: sum1, node1" % UNFILTERED,
    ]
    assert sum(line.count(h) for line in lines[1:-2] for h in hosts) == len(hosts)


def test_a_changed_host_is_closed_when_the_window_closes() -> None:
    lines = window.outcomes(["n1", "n2"], {"n1": "linux", "n2": "linux"},
                            {"n1": {"changed": True, "backend": "ufw"}, "n2": {"changed": False, "backend": "ufw"}},
                            ["n1", "n2"], present=False)
    assert lines == ["the update window, per host", "closed (1): n1 (ufw)", "unchanged (1): n2 (ufw)"]


def test_check_mode_says_so() -> None:
    assert window.outcomes([], {}, {}, [], check_mode=True) == ["check mode: what a real run would do"]


@pytest.mark.parametrize("where", ["facts", "inventory"])
def test_the_filter_reads_each_host_s_plan_and_result(where: str) -> None:
    def host(plan: object, result: object) -> dict:
        hvars = {"ansible_facts": {"sum_ports": plan} if where == "facts" else {}, "__sum_firewall_result": result}
        if where == "inventory":
            hvars["sum_ports"] = plan
        return hvars
    hostvars = {"n1": host({"firewall": "linux"}, {"changed": False, "backend": "iptables"}),
                "ilo1": host({"firewall": "none"}, {}),
                "stray": {"ansible_facts": {}, "__sum_firewall_result": {}}}
    assert sum_firewall_outcomes(["n1", "ilo1", "stray", "gone"], hostvars, ["n1", "ilo1", "stray"], True,
                                 "absent") == [
        "check mode: what a real run would do", "unchanged (1): n1 (iptables)",
        "not ours to change (2): ilo1, stray", "failed (1): gone"]
