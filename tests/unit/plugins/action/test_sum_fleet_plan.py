# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sum_fleet_plan action plugin (and sum_port_facts' deprecated fleet options) on a small fleet."""

from __future__ import annotations

import typing as t
from unittest import mock

import pytest
from _actions import run_action
from _fleet import DEFAULTS, GROUPS, HOSTVARS, fleet
from ansible.errors import AnsibleActionFail

from ansible_collections.hpsum.ports.plugins.action.sum_fleet_plan import ActionModule
from ansible_collections.hpsum.ports.plugins.action.sum_port_facts import ActionModule as FactsAction
from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import settings_from_variables, variables_of

SETTINGS = settings_from_variables(DEFAULTS)


def _run(args: t.Dict[str, t.Any], task_vars: t.Optional[t.Dict[str, t.Any]] = None, action: t.Any = ActionModule,
         name: str = "hpsum.ports.sum_fleet_plan") -> t.Dict[str, t.Any]:
    variables = {"hostvars": HOSTVARS, "groups": GROUPS, "inventory_hostname": "sum1"}
    variables.update(task_vars or {})
    return run_action(action, name, args, variables)


def test_hosts_are_planned_in_one_pass_as_each_host_alone() -> None:
    result = _run(dict(SETTINGS, hosts=list(HOSTVARS)))
    assert result["plans"] == fleet() and result["inventory_plans"] is False
    assert "ansible_facts" not in result and result["changed"] is False


def test_a_server_s_own_variables_override_the_task_s_settings_and_its_nodes_follow() -> None:
    hostvars = {host: dict(hvars) for host, hvars in HOSTVARS.items()}
    hostvars["sum1"]["sum_plan_http_port"] = "8080"  # as an INI inventory gives it
    hostvars["lnx1"]["sum_plan_http_port"] = 9999  # a node's own setting is not read
    plans = _run(dict(SETTINGS, hosts=["sum1", "lnx1"], http_port=63005), {"hostvars": hostvars})["plans"]
    assert plans["sum1"]["http_port"] == 8080 and plans["lnx1"]["http_port"] == 8080
    plans = _run(dict(SETTINGS, hosts=["sum1", "lnx1"], http_port=63005))["plans"]
    assert plans["sum1"]["http_port"] == 63005 and plans["lnx1"]["http_port"] == 63005


def test_nothing_is_planned_when_the_inventory_planned_with_these_settings() -> None:
    planned = {"sum_plan_inventory_settings": variables_of(SETTINGS)}
    result = _run(dict(SETTINGS, hosts=list(HOSTVARS)), planned)
    assert result["plans"] == {} and result["inventory_plans"] is True
    other = _run(dict(SETTINGS, hosts=list(HOSTVARS), https_port=63009), planned)
    assert other["inventory_plans"] is False and other["plans"]["sum1"]["https_port"] == 63009


def test_a_plan_is_published_as_the_fact_after_its_shape_is_checked() -> None:
    plan = fleet()["esx1"]
    assert _run({"plan": plan})["ansible_facts"] == {"sum_ports": plan}
    bad = _run({"plan": {"rules": []}})
    assert bad["failed"] and bad["msg"].startswith("plan: ") and "is not a plan from sum_port_facts" in bad["msg"]


@pytest.mark.parametrize("args", [{}, {"hosts": ["sum1"], "plan": {}}, {"plan": {}, "http_port": 80}])
def test_hosts_or_plan_exactly_and_no_setting_with_a_plan(args: t.Dict[str, t.Any]) -> None:
    with pytest.raises(AnsibleActionFail):
        _run(args)


def test_contract_errors_name_variable_value_and_host() -> None:
    hostvars = {host: dict(hvars) for host, hvars in HOSTVARS.items()}
    hostvars["sum1"]["sum_plan_https_port"] = "https"
    result = _run(dict(SETTINGS, hosts=list(HOSTVARS)), {"hostvars": hostvars})
    assert result["failed"] and result["msg"].startswith("sum_plan_https_port: 'https' (host sum1) cannot be converted")


def test_sum_port_facts_deprecated_fleet_options_still_work_and_warn() -> None:
    with mock.patch("ansible_collections.hpsum.ports.plugins.action.sum_port_facts.display") as display:
        result = _run(dict(SETTINGS, from_inventory=True, hosts=list(HOSTVARS)), action=FactsAction,
                      name="hpsum.ports.sum_port_facts")
        assert result["plans"] == fleet()
        published = _run({"use_plan": result["plans"]["lnx1"]}, action=FactsAction, name="hpsum.ports.sum_port_facts")
        assert published["ansible_facts"] == {"sum_ports": fleet()["lnx1"]}
    calls = display.deprecated.call_args_list
    assert [c.kwargs["version"] for c in calls] == ["2.0.0", "2.0.0"]
    assert all(c.kwargs["collection_name"] == "hpsum.ports" for c in calls)
    assert "hosts" in calls[0].args[0] and "use_plan" in calls[1].args[0]
    assert all("hpsum.ports.sum_fleet_plan" in c.args[0] for c in calls)


def test_sum_port_facts_from_inventory_plans_this_host_only() -> None:
    result = _run(dict(SETTINGS, from_inventory=True), {"inventory_hostname": "esx1"}, action=FactsAction,
                  name="hpsum.ports.sum_port_facts")
    assert result["ansible_facts"] == {"sum_ports": fleet()["esx1"]}
