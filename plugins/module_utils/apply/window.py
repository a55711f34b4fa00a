# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The update window as the sum_firewall role reports it: every host's outcome, said once."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

# The states a host of the play ends in, in the order the summary lists them.
STATES = ("opened", "closed", "unchanged", "manual step", "not ours to change", "failed")


def outcomes(hosts_all: t.Sequence[str], hostvars: t.Any, play_hosts: t.Sequence[str],
             check_mode: bool = False, variable: str = "__sum_firewall_outcome") -> t.List[str]:
    """One line per state with its hosts; a host that left the play (failed, unreachable) is failed."""
    by_state = {}  # type: t.Dict[str, t.List[str]]
    deadlines = {}  # type: t.Dict[str, t.List[str]]
    for host in hosts_all:
        outcome = (hostvars[host].get(variable) or {}) if host in play_hosts else {}
        state = outcome.get("state") if host in play_hosts else "failed"
        if state not in STATES:
            state = "failed"
            outcome = {"detail": "no outcome: the role's tasks did not run for it"}
        by_state.setdefault(state, []).append(host + (" (%s)" % outcome["detail"] if outcome.get("detail") else ""))
        if outcome.get("expires_at") and state != "failed":
            deadlines.setdefault(str(outcome["expires_at"]), []).append(host)
    lines = ["check mode: what a real run would do" if check_mode else "the update window, per host"]
    lines.extend("%s (%d): %s" % (state, len(by_state[state]), ", ".join(by_state[state]))
                 for state in STATES if state in by_state)
    lines.extend("the window closes by itself at %s (%d): %s" % (when, len(hosts), ", ".join(hosts))
                 for when, hosts in sorted(deadlines.items()))
    return lines
