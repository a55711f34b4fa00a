"""roles/sum_firewall/tasks/{windows,esxi,hpux}.yml: syntax, and hpux.yml run for real without the host.

hpux.yml must never connect to the HP-UX host: the test host's connection points at a closed
loopback port, so any connection attempt would fail the run.
"""

from __future__ import annotations

import typing as t

import pytest
from ansible_run import Result, run_playbook

from ansible_collections.hpsum.ports.plugins.module_utils.apply.hpux import ipfilter
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan

PLAYBOOK = """\
- name: The sum_firewall role's {kind} tasks
  hosts: all
  gather_facts: false
  tasks:
    - name: The plan, as the sum_plan role leaves it (the host's own facts)
      hpsum.ports.sum_port_facts:
        use_plan: "{{{{ sum_test_plan }}}}"
      when: sum_test_plan is defined
    - name: Import them
      ansible.builtin.import_role:
        name: hpsum.ports.sum_firewall
        tasks_from: {kind}.yml
"""
# A connection that cannot succeed: loopback, port 1 (closed), one quick attempt.
INVENTORY = """\
all:
  hosts:
    hpux1:
      ansible_host: 127.0.0.1
      ansible_port: 1
      ansible_user: nobody
      ansible_ssh_common_args: -o ConnectTimeout=2 -o ConnectionAttempts=1
"""


def playbook(tmp_path: t.Any, kind: str, args: t.Sequence[str] = (), extra: t.Optional[dict] = None) -> Result:
    book = tmp_path / ("%s.yml" % kind)
    book.write_text(PLAYBOOK.format(kind=kind))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(INVENTORY)
    return run_playbook(str(book), str(inventory), extra_vars=extra, args=args, home=str(tmp_path / "home"),
                        timeout=300)


@pytest.mark.parametrize("kind", ["windows", "esxi", "hpux"])
def test_syntax(tmp_path: t.Any, kind: str) -> None:
    proc = playbook(tmp_path, kind, ["--syntax-check"])
    assert proc.rc == 0, proc.stderr + proc.stdout


PLAN = build_plan({"host_role": "node", "node_type": "hpux", "sum_server_os": "linux", "sum_version": "7.6.0",
                   "peers": ["198.18.0.10"]})


def task_results(proc: Result) -> t.Dict[str, t.Dict[str, t.Any]]:
    prefix = "hpsum.ports.sum_firewall : "
    return {task["task"]["name"][len(prefix):]: task["hosts"]["hpux1"] for task in proc.tasks()
            if task["task"]["name"].startswith(prefix)}


def test_hpux_runs_on_the_controller_only(tmp_path: t.Any) -> None:
    out = tmp_path / "ipf"
    out.mkdir()
    extra = {"sum_test_plan": PLAN, "sum_firewall_hpux_rules_dir": str(out)}
    proc = playbook(tmp_path, "hpux", extra=extra)
    assert proc.rc == 0, proc.stderr + proc.stdout
    results = task_results(proc)
    shown = results["HP-UX | Manual step - IPFilter rules to add on the node"]["msg"]
    assert shown == ipfilter.render_text(PLAN, "hpux1").splitlines()
    assert (out / "hpux1.ipf.conf").read_text() == ipfilter.render_text(PLAN, "hpux1")
    assert results["HP-UX | Write the rules on the controller"]["changed"] is True

    again = task_results(playbook(tmp_path, "hpux", extra=extra))
    assert again["HP-UX | Write the rules on the controller"]["changed"] is False

    closed = playbook(tmp_path, "hpux", extra=dict(extra, sum_firewall_state="absent"))
    assert closed.rc == 0, closed.stderr + closed.stdout
    removal = task_results(closed)["HP-UX | Manual step - IPFilter rules to remove from the node"]["msg"]
    assert removal[0].startswith("# Remove these lines") and removal[1:] == shown
    assert not (out / "hpux1.ipf.conf").exists()
