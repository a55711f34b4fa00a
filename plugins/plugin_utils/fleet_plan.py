# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet in controller-side plugins: the inventory as a task sees it -> each host's plan, and the plans back."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import (
    SETTING_OPTIONS,
    plan_fleet,
    settings_from_variables,
)

INVENTORY_PLANNED = ("every host has its plan from the inventory (hpsum.ports.sum_plan), made with these fleet "
                     "settings: nothing to plan")


class CachedHostVars:
    """hostvars, each host's variables templated once per task instead of once per lookup."""

    def __init__(self, hostvars: t.Any) -> None:
        self._hostvars = hostvars
        self._cache: t.Dict[str, t.Mapping[str, t.Any]] = {}

    def __contains__(self, host: object) -> bool:
        return host in self._hostvars

    def __getitem__(self, host: str) -> t.Mapping[str, t.Any]:
        if host not in self._cache:
            self._cache[host] = self._hostvars[host]
        return self._cache[host]


def fleet_settings(args: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """The fleet settings among a task's validated options."""
    return {option: args[option] for option in SETTING_OPTIONS}


def inventory_planned(settings: t.Mapping[str, t.Any], task_vars: t.Mapping[str, t.Any]) -> bool:
    """Whether the inventory plugin hpsum.ports.sum_plan planned every host with these fleet settings."""
    planned = task_vars.get("sum_plan_inventory_settings")
    if not isinstance(planned, dict):
        return False
    return settings_from_variables(planned) == dict(settings)


def plan_hosts(task_vars: t.Mapping[str, t.Any], settings: t.Mapping[str, t.Any],
               hosts: t.Sequence[str]) -> t.Dict[str, t.Dict[str, t.Any]]:
    """The plan of each of ``hosts`` that is planned, from the inventory contract (docs/inventory.md)."""
    return plan_fleet(CachedHostVars(task_vars["hostvars"]), task_vars["groups"], settings, hosts)


# The sum_plan role registers its planning task's result under this name. Ansible gives a run_once task's result
# to every host of the play, so a host that has it was considered by a plan of this run (a bystander, neither SUM
# server nor node, is left without a plan on purpose and has nothing to plan).
PLAN_RESULT = "__sum_plan_fleet"


def considered(hvars: t.Mapping[str, t.Any]) -> bool:
    """Whether a plan of this run (the sum_plan role) considered the host, whether or not it planned it."""
    result = hvars.get(PLAN_RESULT)
    return isinstance(result, t.Mapping) and isinstance(result.get("plans"), t.Mapping)


def plan_of(hvars: t.Mapping[str, t.Any]) -> t.Optional[t.Mapping[str, t.Any]]:
    """A host's plan from its variables: its facts (the sum_plan role), else its inventory variable (the plugin)."""
    return (hvars.get("ansible_facts") or {}).get("sum_ports") or hvars.get("sum_ports") or None


def plans_of(hostvars: t.Any, hosts: t.Sequence[str],
             inventory_plans: bool = False) -> t.Tuple[t.Dict[str, t.Any], t.Dict[str, t.List[str]]]:
    """The plans of ``hosts`` that have one and their groups: the facts, or the inventory's own (sum_plan plugin)."""
    plans = {}
    group_names = {}
    inventory = getattr(hostvars, "_inventory", None) if inventory_plans else None
    if inventory is not None:
        # The plans are the inventory's own (hpsum.ports.sum_plan): read them from the inventory's hosts instead
        # of computing every variable of every host (hostvars), which is most of the time for a large fleet.
        for host in hosts:
            entry = inventory.get_host(host)
            plan = entry.vars.get("sum_ports") if entry is not None else None
            if plan:
                plans[host] = plan
                group_names[host] = sorted(g.name for g in entry.get_groups() if g.name != "all")
        return plans, group_names
    for host in hosts:
        hvars = hostvars[host]
        plan = plan_of(hvars)
        if plan:
            plans[host] = plan
            group_names[host] = list(hvars.get("group_names") or [])
    return plans, group_names
