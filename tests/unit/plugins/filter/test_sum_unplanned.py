# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sum_unplanned: the hosts of a play whose plan is neither a fact nor an inventory variable."""

from __future__ import annotations

from ansible_collections.hpsum.ports.plugins.filter.sum_plan import FilterModule, sum_unplanned

PLAN = {"firewall": "linux", "rules": []}


def test_a_plan_in_the_facts_or_in_the_inventory_counts_and_nothing_else() -> None:
    hostvars = {
        "by_role": {"ansible_facts": {"sum_ports": PLAN}},
        "by_plugin": {"ansible_facts": {}, "sum_ports": PLAN},
        "none_yet": {"ansible_facts": {}},
        "empty": {"ansible_facts": {"sum_ports": {}}, "sum_ports": None},
        "no_facts": {},
    }
    assert sum_unplanned(["no_facts", "by_role", "none_yet", "by_plugin", "empty"], hostvars) == [
        "no_facts", "none_yet", "empty"]
    assert sum_unplanned([], hostvars) == []


def test_a_host_a_plan_of_this_run_considered_is_not_planned_again() -> None:
    considered = {"changed": False, "plans": {"srv": PLAN}, "inventory_plans": False}
    hostvars = {
        "bystander": {"__sum_plan_fleet": considered},
        "srv": {"__sum_plan_fleet": considered, "ansible_facts": {"sum_ports": PLAN}},
        "added_later": {},
        "failed_plan": {"__sum_plan_fleet": {"failed": True, "msg": "sum_version: ..."}},
        "not_a_result": {"__sum_plan_fleet": "text"},
    }
    assert sum_unplanned(list(hostvars), hostvars) == ["added_later", "failed_plan", "not_a_result"]


def test_the_filter_is_published() -> None:
    assert FilterModule().filters()["sum_unplanned"] is sum_unplanned
