# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sum_firewall role's summary: every host of the play once, in the state it ended in."""

from __future__ import annotations

from ansible_collections.hpsum.ports.plugins.module_utils.apply import window

V = "__sum_firewall_outcome"


def test_every_host_once_in_its_state() -> None:
    hostvars = {
        "sum1": {V: {"state": "opened", "changed": True, "detail": "firewalld", "expires_at": "2026-12-02T07:00:00Z"}},
        "node1": {V: {"state": "unchanged", "changed": False, "detail": "nftables"}},
        "ilo1": {V: {"state": "not ours to change"}},
        "hpux1": {V: {"state": "manual step"}},
        "gone": {V: {"state": "opened"}},  # left the play after its outcome: failed
        "silent": {V: {}},  # stayed in the play without an outcome: failed, with the reason
    }
    hosts = list(hostvars)
    lines = window.outcomes(hosts, hostvars, [h for h in hosts if h != "gone"])
    assert lines == [
        "the update window, per host",
        "opened (1): sum1 (firewalld)",
        "unchanged (1): node1 (nftables)",
        "manual step (1): hpux1",
        "not ours to change (1): ilo1",
        "failed (2): gone, silent (no outcome: the role's tasks did not run for it)",
        "the window closes by itself at 2026-12-02T07:00:00Z (1): sum1",
    ]
    assert sum(line.count(h) for line in lines[1:-1] for h in hosts) == len(hosts)


def test_check_mode_says_so() -> None:
    assert window.outcomes([], {}, [], check_mode=True) == ["check mode: what a real run would do"]
