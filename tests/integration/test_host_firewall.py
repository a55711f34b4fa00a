# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""host_firewall called directly with a rule list of the test's own, on every backend of the lab.

Every Linux node (firewalld, ufw, nftables, iptables; open and locked down) gets: 8080/tcp and
22/tcp from the SUM server only (restrict=all_planned), and 8443/tcp out to it. Then: real TCP from the SUM server
passes, from the outsider it does not, Ansible (not a peer of 22) still connects; check, real,
check, real; an injected failure (after the first step, or a rule the backend rejects) leaves
every view and boot file as it was; a new plan removes what it no longer has; absent gives back
the host as it was, byte for byte.

Runs on the default lab, or the lab HPSUM_LAB_FILE names (tests/lab/labs/firewall.yml has the
same firewall cases).
"""

from __future__ import annotations

import typing as t

import firewall_state as fw
import labutil
import pytest

pytestmark = pytest.mark.lab

PLAYBOOK = "tests/integration/playbooks/firewall_direct.yml"
TASK = "Apply the rules in one call"


@pytest.fixture(scope="module")
def nodes(lab: labutil.LabInfo) -> t.List[str]:
    server = fw.one(lab, "sum_server")
    return [h for h in fw.linux_hosts(lab) if h != server]


def rules(lab: labutil.LabInfo, port: int) -> t.List[t.Dict[str, t.Any]]:
    server = lab.address(fw.one(lab, "sum_server"))
    return [
        {"direction": "in", "protocol": "tcp", "port": port, "peers": [server], "reason": "test"},
        {"direction": "in", "protocol": "tcp", "port": 22, "peers": [server], "reason": "test: SSH from SUM only"},
        {"direction": "out", "protocol": "tcp", "port": 8443, "peers": [server], "reason": "test"},
    ]


def apply(lab: labutil.LabInfo, nodes: t.Sequence[str], check: bool = False, **extra: t.Any) -> labutil.Result:
    extra_vars = {"fw_hosts": ",".join(nodes), "fw_rules": rules(lab, 8080)}
    extra_vars.update(extra)
    return labutil.run_playbook(PLAYBOOK, lab.inventory, extra_vars=extra_vars, check=check, diff=True)


@pytest.fixture(scope="module")
def applied(lab: labutil.LabInfo, nodes: t.List[str]) -> t.Iterator[t.Dict[str, t.Any]]:
    before = {h: fw.state(h, lab) for h in nodes}
    try:
        runs = [apply(lab, nodes, check=check) for check in (True, False, True, False)]
        yield {"before": before, "runs": runs}
    finally:
        apply(lab, nodes, fw_state="absent")


def test_check_real_check_real(nodes: t.List[str], applied: t.Dict[str, t.Any]) -> None:
    runs = applied["runs"]
    for run in runs:
        assert run.rc == 0, run.explain()
    for host in nodes:
        assert [r.result(host, TASK)["changed"] for r in runs] == [True, True, False, False], host
        assert runs[0].result(host, TASK)["diff"] == runs[1].result(host, TASK)["diff"], host


def test_source_restricted_and_management_kept(lab: labutil.LabInfo, nodes: t.List[str],
                                               applied: t.Dict[str, t.Any]) -> None:
    server, outsider = fw.one(lab, "sum_server"), fw.one(lab, "outsider")
    failures = []
    for node in nodes:
        with labutil.listening(node, 8080, lab=lab):
            for port in (8080, 22):
                ok = labutil.connect(lab.address(node), port, source=server, lab=lab)
                no = labutil.connect(lab.address(node), port, source=outsider, lab=lab)
                if ok != labutil.OPEN or not fw.blocked(no):
                    failures.append((node, port, ok, no))
    assert failures == []
    # 22 answers only the SUM server now, yet Ansible (the controller) still gets in
    ping = labutil.run_module("ansible.builtin.ping", lab.inventory, hosts=",".join(nodes))
    assert ping.rc == 0 and ping.failed_hosts == [], ping.explain()


def test_out_rules_where_outbound_is_filtered(lab: labutil.LabInfo, nodes: t.List[str],
                                              applied: t.Dict[str, t.Any]) -> None:
    server = fw.one(lab, "sum_server")
    filtered = [h for h in nodes if applied["runs"][1].result(h, TASK)["outbound_filtered"]]
    assert filtered, "the lab has no host that filters outbound"
    with labutil.listening(server, 8443, lab=lab):
        outcomes = {h: labutil.connect(lab.address(server), 8443, source=h, lab=lab) for h in filtered}
    # sum1's own firewall may refuse 8443 (not opened there): what matters is that the node let it out
    assert all(o in (labutil.OPEN, labutil.UNREACHABLE) for o in outcomes.values()), outcomes


# Reload each backend from its boot-time files only: the live state must come back the same.
RELOAD = {
    "nftables": ["nft", "-f", "/etc/nftables.conf"],
    "iptables": ["sh", "-c", "iptables-restore < /etc/iptables/rules.v4 && ip6tables-restore < /etc/iptables/rules.v6"],
    "firewalld": ["firewall-cmd", "--reload"],
    "ufw": ["ufw", "reload"],
}


def test_boot_files_load_the_same_live_state(lab: labutil.LabInfo, nodes: t.List[str],
                                             applied: t.Dict[str, t.Any]) -> None:
    for host in nodes:
        live = fw.state(host, lab)
        labutil.host_exec(host, RELOAD[lab.hosts[host]["backend"]], lab=lab, check=True)
        assert fw.differences(live, fw.state(host, lab)) == [], host


@pytest.mark.parametrize("hook", ["after_first_step", "bad_rule"])
def test_injected_failure_leaves_everything_as_it_was(lab: labutil.LabInfo, nodes: t.List[str],
                                                      applied: t.Dict[str, t.Any], hook: str) -> None:
    states = {h: fw.state(h, lab) for h in nodes}
    result = apply(lab, nodes, fw_rules=rules(lab, 8081), fw_fail=hook)
    assert sorted(result.failed_hosts) == sorted(nodes), result.explain()
    for host in nodes:
        assert fw.differences(states[host], fw.state(host, lab)) == [], (host, hook)


def test_new_plan_removes_what_it_no_longer_has(lab: labutil.LabInfo, nodes: t.List[str],
                                                applied: t.Dict[str, t.Any]) -> None:
    result = apply(lab, nodes, fw_rules=rules(lab, 8081))
    assert result.rc == 0, result.explain()
    server = fw.one(lab, "sum_server")
    for host in nodes:
        res = result.result(host, TASK)
        assert res["changed"] and any(":8080:" in line for line in res["removed"]), host
        assert not any(":8080:" in line for line in res["added"]) and any(":8081:" in line for line in res["added"])
        with labutil.listening(host, 8081, lab=lab):
            assert labutil.connect(lab.address(host), 8081, source=server, lab=lab) == labutil.OPEN, host


def test_absent_restores_byte_for_byte(lab: labutil.LabInfo, nodes: t.List[str], applied: t.Dict[str, t.Any]) -> None:
    runs = [apply(lab, nodes, check=check, fw_state="absent") for check in (True, False, True, False)]
    for host in nodes:
        assert [r.result(host, TASK)["changed"] for r in runs] == [True, True, False, False], host
        assert fw.differences(applied["before"][host], fw.state(host, lab)) == [], host


def test_a_drop_covers_only_the_families_with_peers(lab: labutil.LabInfo, nodes: t.List[str],
                                                    applied: t.Dict[str, t.Any]) -> None:
    """Read back from every backend: 8082 has an IPv6 peer and gets an IPv6 drop; 22 (IPv4 peers only) has none.

    The lab carries no IPv6 traffic, so the family rule is proven on the rulesets as each backend
    lists them (nft, ip6tables-save, ufw's user6.rules, firewalld's policies), then closed again.
    """
    server = lab.address(fw.one(lab, "sum_server"))
    dual = [{"direction": "in", "port": 8082, "peers": [server, "2001:db8::10"]},
            {"direction": "in", "port": 22, "peers": [server]}]
    try:
        result = apply(lab, nodes, fw_rules=dual)
        assert result.rc == 0, result.explain()
        for host in nodes:
            added = result.result(host, TASK)["added"]
            assert any("hpsum.ports:in:tcp:8082:::/0:drop" in line for line in added), (host, added)
            assert not any("hpsum.ports:in:tcp:22:::/0:drop" in line or ":22:any:drop" in line for line in added)
            view = fw.state(host, lab)
            v6 = {"nftables": view["nft list ruleset"], "iptables": view["ip6tables-save"],
                  "ufw": view["/etc/ufw/user6.rules"], "firewalld": view["firewall-cmd --list-all-policies"]}
            text = v6[lab.hosts[host]["backend"]]
            if lab.hosts[host]["backend"] == "firewalld":
                drops = [line for line in text.splitlines() if line.strip().endswith("drop")]
                assert any('family="ipv6"' in d and 'port="8082"' in d for d in drops), (host, drops)
                assert not any('port="22"' in d and 'family="ipv4"' not in d for d in drops), (host, drops)
            elif lab.hosts[host]["backend"] == "nftables":
                assert "meta nfproto ipv6 tcp dport 8082 ct state new drop" in text, host
                assert "tcp dport 22 ct state new drop" not in text.replace("meta nfproto ipv4 tcp dport 22", ""), host
            else:
                assert "8082" in text and not any("--dport 22" in line and "DROP" in line
                                                  for line in text.splitlines()), (host, text)
    finally:
        result = apply(lab, nodes)  # back to the module's fixture state
        assert result.rc == 0, result.explain()
