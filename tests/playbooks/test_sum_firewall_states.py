"""The sum_firewall role never does nothing silently: every host ends in one visible state, without a lab.

The play holds only hosts the role never connects to (HP-UX, iLO, a bystander) and a Windows
node whose tasks are skipped by tag; every connection would fail. Runs with fact injection on
and off: the role reads the plan from the hosts' facts, matched by inventory name.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import typing as t

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = pathlib.Path(__file__).resolve().parent / "files" / "window_inventory.yml"
SUMMARY = "hpsum.ports.sum_firewall : Every host of the play and its outcome"


def run(tmp_path: pathlib.Path, inject: str, *args: str) -> t.Tuple[int, t.Dict[str, t.Any]]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_INJECT_FACT_VARS=inject,
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(INVENTORY), *args,
           "playbooks/open.yml"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, json.loads(proc.stdout[proc.stdout.index("{"):])


def task(data: t.Dict[str, t.Any], name: str) -> t.Dict[str, t.Any]:
    return {h: r for play in data["plays"] for tk in play["tasks"] if tk["task"]["name"] == name
            for h, r in tk["hosts"].items()}


@pytest.mark.parametrize("inject", ["True", "False"])
def test_every_host_ends_in_one_visible_state(tmp_path: pathlib.Path, inject: str) -> None:
    rc, data = run(tmp_path, inject, "--limit", "hpux1,ilo1,bystander")
    assert rc == 0, json.dumps(data["stats"])
    summary = next(iter(task(data, SUMMARY).values()))["msg"]
    assert summary == ["the update window, per host", "manual step (1): hpux1",
                       "not ours to change (2): ilo1, bystander"]
    # the HP-UX node's plan is its own although its ansible_host is not the planner's form of the address
    shown = task(data, "hpsum.ports.sum_firewall : HP-UX | Manual step - IPFilter rules to add on the node")
    assert "198.18.0.10" in "\n".join(shown["hpux1"]["msg"])


@pytest.mark.parametrize("inject", ["True", "False"])
def test_a_host_that_should_have_been_opened_but_was_skipped_fails(tmp_path: pathlib.Path, inject: str) -> None:
    rc, data = run(tmp_path, inject, "--limit", "win1,ilo1", "--skip-tags", "sum_firewall_windows")
    assert rc == 2
    failure = task(data, "hpsum.ports.sum_firewall : A host whose firewall should have been changed but was skipped "
                         "fails")["win1"]
    assert failure["failed"] and "its plan has a windows firewall, but no task applied it" in failure["msg"]
    summary = next(iter(task(data, SUMMARY).values()))["msg"]
    assert "failed (1): win1" in summary and "not ours to change (1): ilo1" in summary
