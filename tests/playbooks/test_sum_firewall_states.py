"""The sum_firewall role never does nothing silently: every host ends in one visible state, without a lab.

The play holds only hosts the role never connects to (HP-UX, iLO, a bystander) and a Windows
node whose tasks are skipped by tag; every connection would fail. Runs with fact injection on
and off: the role reads the plan from the hosts' facts, matched by inventory name.
"""
from __future__ import annotations

import pathlib
import shutil
import typing as t

import ansible_run
import pytest

INVENTORY = pathlib.Path(__file__).resolve().parent / "files" / "window_inventory.yml"
SUMMARY = "hpsum.ports.sum_firewall : Every host of the play and its outcome"


def run(tmp_path: pathlib.Path, inject: str, limit: str, *args: str) -> ansible_run.Result:
    return ansible_run.run_playbook("playbooks/open.yml", str(INVENTORY), limit=limit, args=args,
                                    home=str(tmp_path), env={"ANSIBLE_INJECT_FACT_VARS": inject}, timeout=300)


def task(res: ansible_run.Result, name: str) -> t.Dict[str, t.Any]:
    return {h: r for tk in res.tasks() if tk["task"]["name"] == name for h, r in tk["hosts"].items()}


@pytest.mark.parametrize("inject", ["True", "False"])
def test_every_host_ends_in_one_visible_state(tmp_path: pathlib.Path, inject: str) -> None:
    res = run(tmp_path, inject, "hpux1,ilo1,bystander")
    assert res.rc == 0, res.explain()
    summary = next(iter(task(res, SUMMARY).values()))["msg"]
    assert summary == ["the update window, per host", "manual step (1): hpux1",
                       "not ours to change (2): ilo1, bystander"]
    # the HP-UX node's plan is its own although its ansible_host is not the planner's form of the address
    shown = task(res, "hpsum.ports.sum_firewall : HP-UX | Manual step - IPFilter rules to add on the node")
    assert "198.18.0.10" in "\n".join(shown["hpux1"]["msg"])


@pytest.mark.parametrize("inject", ["True", "False"])
def test_a_host_that_should_have_been_opened_but_was_skipped_fails(tmp_path: pathlib.Path, inject: str) -> None:
    res = run(tmp_path, inject, "win1,ilo1", "--skip-tags", "sum_firewall_windows")
    assert res.rc == 2, res.explain()
    failure = task(res, "hpsum.ports.sum_firewall : A host whose firewall should have been changed but was skipped "
                         "fails")["win1"]
    assert failure["failed"] and "its plan has a windows firewall, but no task applied it" in failure["msg"]
    summary = next(iter(task(res, SUMMARY).values()))["msg"]
    assert "failed (1): win1" in summary and "not ours to change (1): ilo1" in summary


def test_the_option_1_0_0_had_is_refused_before_anything_changes(tmp_path: pathlib.Path) -> None:
    res = run(tmp_path, "True", "hpux1,ilo1,bystander", "-e", "sum_firewall_restrict_to_peers=true")
    assert res.rc == 2, res.explain()
    started = task(res, "hpsum.ports.sum_firewall : Start with no result, and refuse the 1.0.0 option that this "
                        "version replaced")
    assert sorted(started) == ["bystander", "hpux1", "ilo1"]
    for result in started.values():
        assert result["failed"]
        assert "sum_firewall_restrict_to_peers=true is gone: set sum_firewall_restrict instead" in result["msg"]
    # nothing after it ran: no manual step was shown, no summary
    assert not task(res, "hpsum.ports.sum_firewall : HP-UX | Manual step - IPFilter rules to add on the node")
    assert not task(res, SUMMARY)


@pytest.mark.parametrize("inject", ["True", "False"])
def test_the_inventory_plugin_s_plan_is_the_host_s_plan(tmp_path: pathlib.Path, inject: str) -> None:
    # the plans are inventory variables here (hpsum.ports.sum_plan), not facts: the role uses them as they are
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    shutil.copy(INVENTORY, inventory / "hosts.yml")
    (inventory / "zz_sum_plan.yml").write_text("plugin: hpsum.ports.sum_plan\n")
    res = ansible_run.run_playbook("playbooks/open.yml", str(inventory), limit="hpux1,ilo1,bystander",
                                   home=str(tmp_path / "home"), env={"ANSIBLE_INJECT_FACT_VARS": inject}, timeout=300)
    assert res.rc == 0, res.explain()
    summary = next(iter(task(res, SUMMARY).values()))["msg"]
    assert summary == ["the update window, per host", "manual step (1): hpux1",
                       "not ours to change (2): ilo1, bystander"]
