# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""open.yml and close.yml (the sum_firewall role) on every backend of the lab, open and locked down.

After open.yml a real TCP connection from the SUM server to each node's planned ports, and
from each node to the SUM server's callback ports, completes. Nothing is taken away: the
outsider (nobody's peer) reaches every node port it reached before (SSH included), and only
SUM's own ports on the SUM server refuse it. Ansible still reaches every host. check, real, check, real report changed,
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
SUMMARY = "hpsum.ports.sum_firewall : Every host of the play and its outcome"


def run4(lab: labutil.LabInfo, playbook: str) -> t.List[labutil.Result]:
    """check, real, check, real."""
    runs = []
    for check in (True, False, True, False):
        result = labutil.run_playbook(playbook, lab.inventory, check=check, diff=True)
        assert result.rc == 0, result.explain()
        runs.append(result)
    return runs


def in_ports(result: t.Dict[str, t.Any], kind: str = "accept") -> t.List[int]:
    """The inbound ports of a host_firewall result's wanted rules of one kind (accept, drop)."""
    return sorted({int(line.split("hpsum.ports:", 1)[1].split(":")[2]) for line in result["added"]
                   if ":in:" in line and line.endswith(":" + kind)})


def said(lab: labutil.LabInfo, run: labutil.Result) -> t.List[str]:
    """The role's one summary of the play (run once, on whichever host came first)."""
    found = [r["msg"] for h in lab.hosts for r in run.results(h, SUMMARY) if "msg" in r]
    assert len(found) == 1, found
    return found[0]


def reach(lab: labutil.LabInfo, ports: t.Mapping[str, t.Sequence[int]], source: str) -> t.Dict[t.Tuple[str, int], str]:
    """Outcome of a TCP connection from ``source`` to every (host, port), with a listener where sshd is not."""
    outcomes = {}
    for host, host_ports in ports.items():
        for port in host_ports:
            with labutil.listening(host, port, lab=lab) if port != 22 else _sshd():
                outcomes[(host, port)] = labutil.connect(lab.address(host), port, source=source, lab=lab)
    return outcomes


@pytest.fixture(scope="module")
def opened(lab: labutil.LabInfo) -> t.Iterator[t.Dict[str, t.Any]]:
    """States and the outsider's reach before, the four open.yml runs; close.yml afterwards whatever happened."""
    hosts = fw.linux_hosts(lab) + [fw.one(lab, "outsider")]
    before = {h: fw.state(h, lab) for h in hosts}
    try:
        check = labutil.run_playbook("playbooks/open.yml", lab.inventory, check=True, diff=True)
        assert check.rc == 0, check.explain()
        # every planned inbound port, and SSH, as the outsider reaches them before the window
        ports = {h: sorted(set(in_ports(check.result(h, TASK))) | {22}) for h in fw.linux_hosts(lab)}
        outsider_before = reach(lab, ports, fw.one(lab, "outsider"))
        runs = [check]
        for again in (False, True, False):
            runs.append(labutil.run_playbook("playbooks/open.yml", lab.inventory, check=again, diff=True))
            assert runs[-1].rc == 0, runs[-1].explain()
        yield {"before": before, "runs": runs, "hosts": hosts, "ports": ports, "outsider_before": outsider_before}
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
    # management processors and the outsider (no plan of its own) are never touched, and said so once
    summary = said(lab, runs[1])
    for host, spec in lab.hosts.items():
        if spec.get("role") in ("management", "outsider", "esxi"):
            assert not runs[1].results(host, TASK), host
    untouched = sorted(h for h, spec in lab.hosts.items() if spec.get("role") in ("management", "outsider"))
    assert "not ours to change (%d): %s" % (len(untouched), ", ".join(
        h for h in lab.hosts if h in untouched)) in summary, summary
    assert [line for line in summary if line.startswith("opened")], summary
    # the second real run: every host with a firewall of ours (Linux and ESXi) is unchanged
    ours = fw.linux_hosts(lab) + [h for h, spec in lab.hosts.items() if spec.get("role") == "esxi"]
    assert [line for line in said(lab, runs[3])
            if line.startswith("unchanged (%d)" % len(ours))], ("second run: all unchanged", said(lab, runs[3]))


def test_nodes_answer_the_sum_server(lab: labutil.LabInfo, opened: t.Dict[str, t.Any]) -> None:
    server = fw.one(lab, "sum_server")
    ports = {h: p for h, p in opened["ports"].items() if h != server}
    assert all(in_ports(opened["runs"][1].result(h, TASK)) for h in ports)
    outcomes = reach(lab, {h: in_ports(opened["runs"][1].result(h, TASK)) for h in ports}, server)
    assert {k: o for k, o in outcomes.items() if o != labutil.OPEN} == {}


def test_nodes_take_no_access_away(lab: labutil.LabInfo, opened: t.Dict[str, t.Any]) -> None:
    """Default restrict (sum_ports): a node's ports get accepts only; the outsider reaches what it reached before."""
    server, outsider = fw.one(lab, "sum_server"), fw.one(lab, "outsider")
    for host in opened["ports"]:
        if host != server:
            assert in_ports(opened["runs"][1].result(host, TASK), "drop") == [], host
    # the premise: the outsider had SSH to every node before the window
    ssh_before = {h: o for (h, port), o in opened["outsider_before"].items() if port == 22 and h != server}
    assert set(ssh_before.values()) == {labutil.OPEN}, ssh_before
    after = reach(lab, {h: p for h, p in opened["ports"].items() if h != server}, outsider)
    before = {k: o for k, o in opened["outsider_before"].items() if k[0] != server}
    assert after == before


def test_sum_ports_on_the_sum_server_answer_only_peers(lab: labutil.LabInfo, opened: t.Dict[str, t.Any]) -> None:
    """SUM's own ports on the SUM server drop the outsider; the nodes reach them; every other port is as before."""
    server, outsider = fw.one(lab, "sum_server"), fw.one(lab, "outsider")
    result = opened["runs"][1].result(server, TASK)
    dropped = in_ports(result, "drop")
    assert dropped and set(dropped) <= set(in_ports(result)), result["added"]
    # a drop covers a family only where the port has a peer of that family (HTTPS: ::1, so IPv6 too; HTTP: IPv4)
    keys = [line.split(": ", 1)[-1] for line in result["added"] if "hpsum.ports:" in line]
    for key in (k for k in keys if k.endswith(":drop")):
        port, family = key.split(":")[3], "::" if ":::/0:" in key else "."
        assert any(k.split(":")[3] == port and k.endswith(":accept") and family in k.split(":", 4)[4]
                   for k in keys), key
    nodes = [h for h in fw.linux_hosts(lab) if h != server]
    failures = []
    for port in opened["ports"][server]:
        with labutil.listening(server, port, lab=lab) if port != 22 else _sshd():
            if port in in_ports(result):
                failures.extend((node, port, o) for node in nodes
                                for o in [labutil.connect(lab.address(server), port, source=node, lab=lab)]
                                if o != labutil.OPEN)
            outcome = labutil.connect(lab.address(server), port, source=outsider, lab=lab)
        expected_blocked = port in dropped
        if (expected_blocked and not fw.blocked(outcome)) or \
                (not expected_blocked and outcome != opened["outsider_before"][(server, port)]):
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
