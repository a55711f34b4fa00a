# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter: every host of the play and the state the sum_firewall role left it in, said once."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.apply.window import outcomes
from ansible_collections.hpsum.ports.plugins.plugin_utils.fleet_plan import plan_of

RESULT = "__sum_firewall_result"


def sum_firewall_outcomes(hosts_all: t.Sequence[str], hostvars: t.Any, play_hosts: t.Sequence[str],
                          check_mode: bool = False, state: str = "present") -> t.List[str]:
    """Lines: a header, then each state with its hosts, each deadline and each set of rules not applied."""
    kinds, results = {}, {}
    for host in play_hosts:
        hvars = hostvars[host]
        plan = plan_of(hvars)
        kinds[host] = str(plan.get("firewall") or "none") if plan else "none"
        results[host] = hvars.get(RESULT)
    return outcomes(list(hosts_all), kinds, results, list(play_hosts), state != "absent", bool(check_mode))


class FilterModule:
    """hpsum.ports window filter."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        """Map filter names to functions."""
        return {"sum_firewall_outcomes": sum_firewall_outcomes}
