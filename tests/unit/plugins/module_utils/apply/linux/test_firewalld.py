# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""firewalld: policy files, rich rules, outbound detection, runtime changes over D-Bus, reload path, rollbacks."""

from __future__ import annotations

import json
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


BUSCTL = "/usr/sbin/busctl"
DBUS = ("org.fedoraproject.FirewallD1", "/org/fedoraproject/FirewallD1", "org.fedoraproject.FirewallD1.policy")
GET_IN = (BUSCTL, "--json=short", "call") + DBUS + ("getPolicySettings", "s", "hpsum_ports_in")


def set_in(*rules: str) -> t.Tuple[str, ...]:
    """The busctl argv that sets the rich rules of hpsum_ports_in at runtime."""
    return (BUSCTL, "call") + DBUS + ("setPolicySettings", "sa{sv}", "hpsum_ports_in", "1", "rich_rules", "as",
                                      str(len(rules))) + rules


def settings(*rules: str) -> t.Tuple[int, str, str]:
    """A getPolicySettings reply as busctl --json=short prints it."""
    return (0, json.dumps({"type": "a{sv}", "data": [{"target": {"type": "s", "data": "CONTINUE"},
                                                      "rich_rules": {"type": "as", "data": list(rules)}}]}), "")


def make(replay: t.Any, policies: str = POLICIES, files: t.Optional[dict] = None,
         permanent_zones: str = ZONES, reload: t.Any = (0, "success", ""), busctl: bool = True
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
    runner = replay(table, files=files or {}, commands=["firewall-cmd"] + (["busctl"] if busctl else []))
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


IN_ENTRIES = [Entry("in", "tcp", 22, "198.18.0.10/32", "accept"), Entry("in", "tcp", 22, "0.0.0.0/0", "drop")]
# the rich rules of RULES with restrict=all_planned, as the module sets them
SET_22 = ('rule family="ipv4" priority="-2" source address="198.18.0.10/32" port port="22" protocol="tcp" accept',
          'rule family="ipv4" priority="-1" port port="22" protocol="tcp" drop')
RULES_8081 = [{"direction": "in", "port": 8081, "peers": ["198.18.0.10"]}]
SET_8081 = ('rule family="ipv4" priority="-2" source address="198.18.0.10/32" port port="8081" protocol="tcp" accept',)


def existing(replay: t.Any, **kwargs: t.Any) -> t.Tuple[firewalld.FirewalldBackend, t.Any]:
    """A host where our input policy exists at runtime and permanently, with the 22/tcp rules of RULES."""
    return make(replay, policies=OURS, files={IN_XML: firewalld.policy_xml("input", IN_ENTRIES)}, **kwargs)


@pytest.mark.parametrize("entry", [
    Entry("in", "tcp", 22, "198.18.0.10/32", "accept"), Entry("in", "udp", 137, "2001:db8::/64", "accept"),
    Entry("in", "tcp", 22, "0.0.0.0/0", "drop"), Entry("in", "tcp", 22, "::/0", "drop"),
    Entry("in", "tcp", 22, "", "drop"),
    Entry("in", "tcp", 22, "198.18.0.1/32", "mgmt"), Entry("out", "tcp", 63001, "198.18.0.10/32", "accept"),
])
def test_rich_rule_text_reads_back_as_its_entry(entry: Entry) -> None:
    hook = "output" if entry.direction == "out" else "input"
    assert firewalld.parse_rich_rule(firewalld.rich_rule_text(entry), hook) == entry.key


def test_applied_is_not_changed(replay: t.Any) -> None:
    be, runner = existing(replay)
    again = HostFirewall(be, RULES, ALL, check_mode=False).run()
    assert again["changed"] is False and runner.writes == []
    assert [argv for argv in runner.argvs() if argv[0] == BUSCTL] == []


def test_existing_policy_changes_without_reload(replay: t.Any) -> None:
    be, runner = existing(replay, permanent_zones="public\n  target: DROP\n  services: ssh http\n")
    runner.table[set_in(*SET_8081)] = (0, "", "")
    runner.table[GET_IN] = settings(*SET_8081)
    check = HostFirewall(be, RULES_8081, Options(), check_mode=True).run()
    real = HostFirewall(be, RULES_8081, Options(), check_mode=False).run()
    assert check["diff"] == real["diff"] and real["changed"] and real["files"] == [IN_XML]
    assert real["added"] == ["policy hpsum_ports_in: hpsum.ports:in:tcp:8081:198.18.0.10/32:accept"]
    # one D-Bus call sets the rules at runtime, the file is written, one call reads back; no reload and so no
    # refusal of the runtime-only change of zone public (services: ssh http only at runtime)
    assert runner.argvs()[-2:] == [set_in(*SET_8081), GET_IN] and runner.writes == [IN_XML]
    assert (CMD, "--reload") not in runner.argvs() and (CMD, "--list-all-zones") not in runner.argvs()
    assert [r.find("port").get("port") for r in ET.fromstring(runner.files[IN_XML]).findall("rule")] == ["8081"]


def test_absent_empties_our_policy_and_keeps_it(replay: t.Any) -> None:
    be, runner = existing(replay)
    runner.table[set_in()] = (0, "", "")
    runner.table[GET_IN] = settings()
    closed = HostFirewall(be, RULES, Options(state="absent"), check_mode=False).run()
    assert closed["changed"] and closed["removed"] == sorted("policy hpsum_ports_in: " + e.key for e in IN_ENTRIES)
    assert closed["diff"]["after"] == "policy hpsum_ports_in\n" and runner.argvs()[-2:] == [set_in(), GET_IN]
    assert runner.files[IN_XML] == firewalld.policy_xml("input", []) and (CMD, "--reload") not in runner.argvs()
    # emptied: the next absent changes nothing
    runner.table[(CMD, "--list-all-policies")] = (0, POLICIES + OURS[len(POLICIES):].split("\trule")[0], "")
    assert HostFirewall(be, RULES, Options(state="absent"), check_mode=False).run()["changed"] is False


def test_rules_firewalld_refuses_change_nothing(replay: t.Any) -> None:
    be, runner = existing(replay)
    runner.table[set_in(*SET_8081 + (firewalld.BAD_RICH_RULE,))] = (1, "", "Call failed: INVALID_PORT: 99999")
    with pytest.raises(SumPortsError, match="setPolicySettings"):
        HostFirewall(be, RULES_8081, Options(), check_mode=False, hook=FailHook("bad_rule")).run()
    # firewalld checks the whole list before it changes a rule: nothing to set back, nothing written
    assert runner.writes == [] and [argv for argv in runner.argvs() if argv[0] == BUSCTL] == [
        set_in(*SET_8081 + (firewalld.BAD_RICH_RULE,))]


def test_failure_after_the_runtime_change_sets_the_old_rules_back(replay: t.Any) -> None:
    be, runner = existing(replay)
    old = tuple(RICH_IN[::-1])  # as the runtime listing has them
    runner.table[set_in(*SET_8081)] = (0, "", "")
    runner.table[set_in(*old)] = (0, "", "")
    with pytest.raises(SumPortsError, match="injected"):
        HostFirewall(be, RULES_8081, Options(), check_mode=False, hook=FailHook("after_first_step")).run()
    assert [argv for argv in runner.argvs() if argv[0] == BUSCTL] == [set_in(*SET_8081), set_in(*old)]
    assert runner.writes == []


def test_other_rules_read_back_roll_runtime_and_file_back(replay: t.Any) -> None:
    be, runner = existing(replay)
    before = runner.files[IN_XML]
    old = tuple(RICH_IN[::-1])
    runner.table[set_in(*SET_8081)] = (0, "", "")
    runner.table[set_in(*old)] = (0, "", "")
    runner.table[GET_IN] = settings()  # firewalld has no rule at all
    with pytest.raises(SumPortsError, match="firewalld has other rules than set in hpsum_ports_in"):
        HostFirewall(be, RULES_8081, Options(), check_mode=False).run()
    assert runner.argvs()[-1] == set_in(*old) and runner.files[IN_XML] == before and runner.writes == [IN_XML, IN_XML]


def test_hand_edited_policy_or_no_busctl_goes_through_reload(replay: t.Any) -> None:
    edited = OURS.replace("  rich rules:\n", "  services: http\n  rich rules:\n")
    assert not firewalld.runtime_ready(firewalld.parse_policies(edited)["hpsum_ports_in"], "input")
    assert firewalld.runtime_ready(firewalld.parse_policies(OURS)["hpsum_ports_in"], "input")
    assert not firewalld.runtime_ready(firewalld.parse_policies(OURS)["hpsum_ports_in"], "output")
    for be, runner in (make(replay, policies=edited, files={IN_XML: b"old"}),
                       make(replay, policies=OURS, files={IN_XML: b"old"}, busctl=False)):
        loaded = POLICIES + "hpsum_ports_in (active)\n  rich rules:\n\t" + SET_8081[0] + "\n"
        runner.table[(CMD, "--list-all-policies")] = [runner.table[(CMD, "--list-all-policies")], (0, loaded, "")]
        HostFirewall(be, RULES_8081, Options(), check_mode=False).run()
        assert (CMD, "--reload") in runner.argvs() and not any(argv[0] == BUSCTL for argv in runner.argvs())


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
