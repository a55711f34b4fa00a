# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""firewalld: policy files, rich-rule parsing, outbound detection, drift refusal, reload rollback."""

from __future__ import annotations

import typing as t
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux import firewalld
from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import (
    Entry,
    FailHook,
    HostFirewall,
    Options,
    SumPortsError,
)

CMD = "/usr/sbin/firewall-cmd"
IN_XML = "/etc/firewalld/policies/hpsum_ports_in.xml"
OUT_XML = "/etc/firewalld/policies/hpsum_ports_out.xml"
POLICIES = """allow-host-ipv6
  priority: -15000
  target: CONTINUE
  ingress-zones: ANY
  egress-zones: HOST
  rich rules:
\trule family="ipv6" icmp-type name="neighbour-advertisement" accept
"""
OURS = POLICIES + """hpsum_ports_in (active)
  priority: -100
  target: CONTINUE
  ingress-zones: ANY
  egress-zones: HOST
  rich rules:
\trule priority="-2" family="ipv4" source address="198.18.0.10/32" port port="22" protocol="tcp" accept
\trule priority="-1" family="ipv4" port port="22" protocol="tcp" drop
"""
LOCK_OUT = POLICIES + """lockout (active)
  priority: -1
  target: DROP
  ingress-zones: HOST
  egress-zones: ANY
"""
ALL = Options(restrict="all_planned")
ZONES = "public (active)\n  target: DROP\n  interfaces: eth0\n  services: ssh\n"
RULES = [{"direction": "in", "port": 22, "peers": ["198.18.0.10"]},
         {"direction": "out", "port": 63001, "peers": ["198.18.0.10"]}]
RICH_IN = [
    'rule priority="-1" family="ipv4" port port="22" protocol="tcp" drop',
    'rule priority="-2" family="ipv4" source address="198.18.0.10/32" port port="22" protocol="tcp" accept',
]


def make(replay: t.Any, policies: str = POLICIES, files: t.Optional[dict] = None,
         permanent_zones: str = ZONES, reload: t.Any = (0, "success", "")
         ) -> t.Tuple[firewalld.FirewalldBackend, t.Any]:
    table = {
        (CMD, "--list-all-policies"): (0, policies, ""),
        (CMD, "--permanent", "--list-all-policies"): (0, policies.replace(" (active)", ""), ""),
        (CMD, "--list-all-zones"): (0, ZONES, ""),
        (CMD, "--permanent", "--list-all-zones"): (0, permanent_zones, ""),
        (CMD, "--check-config"): (0, "success", ""),
        (CMD, "--reload"): reload,
        (CMD, "--state"): (0, "running\n", ""),
    }
    runner = replay(table, files=files or {}, commands=["firewall-cmd"])
    return firewalld.FirewalldBackend(runner), runner


def test_policy_xml_is_valid_and_tagged() -> None:
    entries = [Entry("in", "tcp", 22, "198.18.0.1/32", "mgmt"), Entry("in", "tcp", 22, "2001:db8::1/128", "accept"),
               Entry("in", "tcp", 22, "", "drop"), Entry("in", "tcp", 22, "::/0", "drop")]
    root = ET.fromstring(firewalld.policy_xml("input", entries))
    assert root.tag == "policy" and root.get("priority") == "-100" and root.get("target") == "CONTINUE"
    assert root.find("ingress-zone").get("name") == "ANY" and root.find("egress-zone").get("name") == "HOST"
    rules = root.findall("rule")
    assert [r.get("priority") for r in rules] == ["-3", "-2", "-1", "-1"]
    assert rules[1].get("family") == "ipv6" and rules[1].find("source").get("address") == "2001:db8::1/128"
    assert rules[2].get("family") is None and rules[2].find("drop") is not None
    # a drop of one family says so with the family attribute, without an address
    assert rules[3].get("family") == "ipv6" and rules[3].find("source") is None
    out = ET.fromstring(firewalld.policy_xml("output", [Entry("out", "tcp", 63001, "198.18.0.10/32", "accept")]))
    assert out.find("ingress-zone").get("name") == "HOST"
    assert out.find("rule/destination").get("address") == "198.18.0.10/32"


@pytest.mark.parametrize(
    ("text", "hook", "key"),
    [
        (RICH_IN[1], "input", "hpsum.ports:in:tcp:22:198.18.0.10/32:accept"),
        ('rule priority="-2" family="ipv4" source address="198.18.0.10" port port="22" protocol="tcp" accept', "input",
         "hpsum.ports:in:tcp:22:198.18.0.10/32:accept"),
        (RICH_IN[0], "input", "hpsum.ports:in:tcp:22:0.0.0.0/0:drop"),
        ('rule priority="-1" family="ipv6" port port="443" protocol="tcp" drop', "input",
         "hpsum.ports:in:tcp:443:::/0:drop"),
        ('rule priority="-1" port port="22" protocol="tcp" drop', "input", "hpsum.ports:in:tcp:22:any:drop"),
        ('rule priority="-3" family="ipv6" source address="2001:db8::1" port port="2222" protocol="tcp" accept',
         "input",
         "hpsum.ports:in:tcp:2222:2001:db8::1/128:mgmt"),
        ('rule priority="-2" family="ipv4" destination address="198.18.0.10/32" port port="63001" protocol="tcp" '
         'accept',
         "output", "hpsum.ports:out:tcp:63001:198.18.0.10/32:accept"),
        ('rule family="ipv4" source address="1.2.3.4" accept', "input", None),
        ('rule priority="-1" port port="22" protocol="tcp" accept', "input", None),
    ],
)
def test_parse_rich_rule(text: str, hook: str, key: t.Optional[str]) -> None:
    assert firewalld.parse_rich_rule(text, hook) == key


def test_parse_policies_and_outbound() -> None:
    parsed = firewalld.parse_policies(LOCK_OUT)
    assert parsed["lockout"]["target"] == "DROP" and parsed["allow-host-ipv6"]["priority"] == "-15000"
    assert parsed["allow-host-ipv6"]["rich"] == 'rule family="ipv6" icmp-type name="neighbour-advertisement" accept\n'
    assert firewalld.parse_policies(OURS)["hpsum_ports_in"]["rich"].splitlines() == sorted(RICH_IN, reverse=True)


def test_open_host_check_real(replay: t.Any) -> None:
    be, runner = make(replay)
    # check reads once, the real run reads, reloads and reads back what firewalld loaded
    runner.table[(CMD, "--list-all-policies")] = [(0, POLICIES, ""), (0, POLICIES, ""), (0, OURS, "")]
    check = HostFirewall(be, RULES, ALL, check_mode=True).run()
    assert check["changed"] and check["files"] == [IN_XML] and runner.writes == []
    assert check["added"] == ["policy hpsum_ports_in",
                              "policy hpsum_ports_in: hpsum.ports:in:tcp:22:0.0.0.0/0:drop",
                              "policy hpsum_ports_in: hpsum.ports:in:tcp:22:198.18.0.10/32:accept"]
    assert check["not_applied"] == ["out 63001/tcp: outbound is not filtered on this host"]
    real = HostFirewall(be, RULES, ALL, check_mode=False).run()
    assert real["diff"] == check["diff"]
    # the rich rules are read from the policy listing itself: one firewall-cmd call reads everything back
    assert runner.argvs()[-3:] == [(CMD, "--check-config"), (CMD, "--reload"), (CMD, "--list-all-policies")]
    assert ET.fromstring(runner.files[IN_XML]).findall("rule")
    assert OUT_XML not in runner.files


def test_applied_is_not_changed_and_absent_removes(replay: t.Any) -> None:
    entries = [Entry("in", "tcp", 22, "198.18.0.10/32", "accept"), Entry("in", "tcp", 22, "0.0.0.0/0", "drop")]
    be, runner = make(replay, policies=OURS, files={IN_XML: firewalld.policy_xml("input", entries)})
    runner.table[(CMD, "--list-all-policies")] = [(0, OURS, ""), (0, OURS, ""), (0, POLICIES, "")]
    again = HostFirewall(be, RULES, ALL, check_mode=False).run()
    assert again["changed"] is False
    assert (CMD, "--reload") not in runner.argvs()
    closed = HostFirewall(be, RULES, Options(state="absent"), check_mode=False).run()
    assert closed["changed"] and IN_XML not in runner.files and (CMD, "--reload") in runner.argvs()


def test_outbound_filtered_by_a_policy(replay: t.Any) -> None:
    be, runner = make(replay, policies=LOCK_OUT)
    ours_out = ("hpsum_ports_out (active)\n  target: CONTINUE\n  ingress-zones: HOST\n  egress-zones: ANY\n"
                "  rich rules:\n\trule priority=\"-2\" family=\"ipv4\" destination address=\"198.18.0.10/32\" "
                "port port=\"63001\" protocol=\"tcp\" accept\n")
    loaded = OURS.replace(POLICIES, LOCK_OUT) + ours_out
    runner.table[(CMD, "--list-all-policies")] = [(0, LOCK_OUT, ""), (0, loaded, "")]
    result = HostFirewall(be, RULES, ALL, check_mode=False).run()
    assert result["outbound_filtered"] and OUT_XML in runner.files
    assert "hpsum.ports:out:tcp:63001:198.18.0.10/32:accept" in "\n".join(result["added"])


def test_runtime_drift_refuses_before_any_change(replay: t.Any) -> None:
    be, runner = make(replay, permanent_zones="public\n  target: DROP\n  services: ssh http\n")
    with pytest.raises(SumPortsError, match="runtime configuration differs"):
        HostFirewall(be, RULES, Options(), check_mode=False).run()
    assert runner.writes == []


def test_rules_firewalld_did_not_load_roll_back(replay: t.Any) -> None:
    be, runner = make(replay)
    dropped = OURS.replace("\t" + RICH_IN[1] + "\n", "")  # firewalld dropped the accept with a warning
    runner.table[(CMD, "--list-all-policies")] = [(0, POLICIES, ""), (0, dropped, ""), (0, POLICIES, "")]
    with pytest.raises(SumPortsError, match="firewalld loaded other rules than written"):
        HostFirewall(be, RULES, Options(), check_mode=False).run()
    assert IN_XML not in runner.files and runner.argvs().count((CMD, "--reload")) == 2


def test_failed_reload_restores_files_and_reloads(replay: t.Any) -> None:
    be, runner = make(replay, reload=[(1, "", "Error"), (0, "success", "")])
    with pytest.raises(SumPortsError, match="--reload failed"):
        HostFirewall(be, RULES, Options(), check_mode=False).run()
    assert IN_XML not in runner.files
    assert runner.argvs().count((CMD, "--reload")) == 2


def test_injected_failures(replay: t.Any) -> None:
    be, runner = make(replay)
    with pytest.raises(SumPortsError, match="injected"):
        HostFirewall(be, RULES, Options(), check_mode=False, hook=FailHook("after_first_step")).run()
    assert IN_XML not in runner.files and (CMD, "--reload") not in runner.argvs()
    be, runner = make(replay)
    runner.table[(CMD, "--check-config")] = (1, "", "Error: INVALID_PORT: 99999")
    with pytest.raises(SumPortsError, match="check-config failed"):
        HostFirewall(be, RULES, Options(), check_mode=False, hook=FailHook("bad_rule")).run()
    assert IN_XML not in runner.files
    assert list(runner.writes) == [IN_XML, IN_XML, firewalld.DEFAULT_DIR + "/hpsum_ports_out.xml"]


def test_available(replay: t.Any) -> None:
    be, _runner = make(replay)
    assert be.available()
    assert not firewalld.FirewalldBackend(replay({}, commands=[])).available()
