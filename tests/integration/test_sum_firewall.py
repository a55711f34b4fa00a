# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""open.yml and close.yml (the sum_firewall role) on every backend of the lab, open and locked down.

After open.yml a real TCP connection from the SUM server to each node's planned ports, and
from each node to the SUM server's callback ports, completes; from the outsider (nobody's
peer) none does. Ansible still reaches every host. check, real, check, real report changed,
changed, unchanged, unchanged. After close.yml every firewall view and boot file of every
host equals the one before open.yml, byte for byte.

Runs on the default lab, or the lab HPSUM_LAB_FILE names (tests/lab/labs/firewall.yml has the
same firewall cases).
"""

from __future__ import annotations

import typing as t

import firewall_state as fw
import labutil
import pytest

pytestmark = pytest.mark.lab

TASK = "hpsum.ports.sum_firewall : Linux | Apply this host's SUM rules on its firewall"


@pytest.fixture(scope="module")
def lab() -> labutil.LabInfo:
    return labutil.require_lab()


def run4(lab: labutil.LabInfo, playbook: str) -> t.List[labutil.Result]:
    """check, real, check, real."""
    runs = []
    for check in (True, False, True, False):
        result = labutil.run_playbook(playbook, lab.inventory, check=check, diff=True)
        assert result.rc == 0, result.explain()
        runs.append(result)
    return runs


@pytest.fixture(scope="module")
def opened(lab: labutil.LabInfo) -> t.Iterator[t.Dict[str, t.Any]]:
    """States before, the four open.yml runs; close.yml afterwards whatever happened."""
    hosts = fw.linux_hosts(lab) + [fw.one(lab, "outsider")]
    before = {h: fw.state(h, lab) for h in hosts}
    try:
        runs = run4(lab, "playbooks/open.yml")
        yield {"before": before, "runs": runs, "hosts": hosts}
    finally:
        labutil.run_playbook("playbooks/close.yml", lab.inventory)


def test_open_check_real_check_real(lab: labutil.LabInfo, opened: t.Dict[str, t.Any]) -> None:
    runs = opened["runs"]
    for host in fw.linux_hosts(lab):
        changed = [r.result(host, TASK)["changed"] for r in runs]
        assert changed == [True, True, False, False], (host, changed)
        check, real = runs[0].result(host, TASK), runs[1].result(host, TASK)
        assert check["diff"] == real["diff"], host  # check mode predicted the real run
        assert check["added"] == real["added"] and real["removed"] == []
    # management processors and the outsider (no plan of its own) are never touched
    for host, spec in lab.hosts.items():
        if spec.get("role") in ("management", "outsider", "esxi"):
            assert not runs[1].results(host, TASK), host


def test_nodes_answer_the_sum_server_only(lab: labutil.LabInfo, opened: t.Dict[str, t.Any]) -> None:
    server, outsider = fw.one(lab, "sum_server"), fw.one(lab, "outsider")
    failures = []
    for node in fw.linux_hosts(lab):
        if node == server:
            continue
        plan = opened["runs"][1].result(node, TASK)
        ports = sorted({int(line.split(":")[4]) for line in plan["added"]
                        if ":in:" in line and line.endswith(":accept")})
        assert ports, node
        for port in ports:
            with labutil.listening(node, port, lab=lab) if port != 22 else _sshd():
                from_server = labutil.connect(lab.address(node), port, source=server, lab=lab)
                from_outsider = labutil.connect(lab.address(node), port, source=outsider, lab=lab)
            if from_server != labutil.OPEN or not fw.blocked(from_outsider):
                failures.append((node, port, from_server, from_outsider))
    assert failures == []


def test_callback_ports_on_the_sum_server(lab: labutil.LabInfo, opened: t.Dict[str, t.Any]) -> None:
    """Nodes reach the SUM server's HTTP/HTTPS ports (their out rule, its in rule); the outsider does not."""
    server, outsider = fw.one(lab, "sum_server"), fw.one(lab, "outsider")
    plan = opened["runs"][1].result(server, TASK)
    ports = sorted({int(line.split(":")[4]) for line in plan["added"] if ":in:" in line and line.endswith(":accept")})
    assert ports
    failures = []
    for port in ports:
        with labutil.listening(server, port, lab=lab):
            for node in fw.linux_hosts(lab):
                if node != server:
                    outcome = labutil.connect(lab.address(server), port, source=node, lab=lab)
                    if outcome != labutil.OPEN:
                        failures.append((node, port, outcome))
            outcome = labutil.connect(lab.address(server), port, source=outsider, lab=lab)
            if not fw.blocked(outcome):
                failures.append((outsider, port, outcome))
    assert failures == []


def test_ansible_still_reaches_every_host(lab: labutil.LabInfo, opened: t.Dict[str, t.Any]) -> None:
    result = labutil.run_module("ansible.builtin.ping", lab.inventory, hosts=",".join(fw.linux_hosts(lab)))
    assert result.rc == 0 and result.failed_hosts == [], result.explain()


def test_close_restores_every_host_byte_for_byte(lab: labutil.LabInfo, opened: t.Dict[str, t.Any]) -> None:
    runs = run4(lab, "playbooks/close.yml")
    for host in fw.linux_hosts(lab):
        changed = [r.result(host, TASK)["changed"] for r in runs]
        assert changed == [True, True, False, False], (host, changed)
    for host in opened["hosts"]:
        after = fw.state(host, lab)
        assert fw.differences(opened["before"][host], after) == [], host


class _sshd:
    """sshd already listens on 22 on every lab host: no extra listener."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: t.Any) -> None:
        return None
