# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter: the inventory contract -> the options of hpsum.ports.sum_port_facts for one host."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import plan_args, settings_from_variables
from ansible_collections.hpsum.ports.plugins.plugin_utils.fleet_plan import considered, plan_of


def sum_plan_args(hostvars: t.Any, host: str, groups: t.Mapping[str, t.Sequence[str]],
                  settings: t.Mapping[str, t.Any]) -> t.Optional[t.Dict[str, t.Any]]:
    """Options for sum_port_facts, or None for a host that is neither SUM server nor node.

    ``settings`` are keyed by the sum_plan_* variable names (the filter's public interface).
    """
    try:
        return plan_args(host, hostvars, groups, settings_from_variables(settings))
    except SumPortsError as exc:
        raise AnsibleFilterError(str(exc)) from None


def sum_unplanned(hosts: t.Sequence[str], hostvars: t.Any) -> t.List[str]:
    """The hosts among ``hosts`` with no plan: none in their facts (the sum_plan role) nor in the inventory, and
    not considered by a plan of this run (which leaves a host that is neither SUM server nor node without one)."""
    unplanned = []
    for host in hosts:
        hvars = hostvars[host]
        if not plan_of(hvars) and not considered(hvars):
            unplanned.append(host)
    return unplanned


class FilterModule:
    """hpsum.ports planning filters."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        """Map filter names to functions."""
        return {"sum_plan_args": sum_plan_args, "sum_unplanned": sum_unplanned}
