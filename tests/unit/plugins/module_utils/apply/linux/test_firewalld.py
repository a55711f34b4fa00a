# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""firewalld: policy files, rich-rule parsing, outbound detection, drift refusal, reload rollback."""

from __future__ import annotations

import json
import typing as t
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

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
PYTHON = "/usr/bin/python3"
READ = (PYTHON, "-c", firewalld.BUS_SCRIPT, "read")
RELOAD = (PYTHON, "-c", firewalld.BUS_SCRIPT, "reload")
IN_XML = "/etc/firewalld/policies/hpsum_ports_in.xml"
OUT_XML = "/etc/firewalld/policies/hpsum_ports_out.xml"
# Policies as firewalld's D-Bus API gives them (getPolicySettings), by name
POLICIES = {"allow-host-ipv6": {
    "priority": -15000, "target": "CONTINUE", "ingress_zones": ["ANY"], "egress_zones": ["HOST"],
    "rich_rules": ['rule family="ipv6" icmp-type name="neighbour-advertisement" accept']}}
RICH_IN = [
    'rule priority="-1" family="ipv4" port port="22" protocol="tcp" drop',
    'rule priority="-2" family="ipv4" source address="198.18.0.10/32" port port="22" protocol="tcp" accept',
]
OURS = {**POLICIES, "hpsum_ports_in": {"priority": -100, "target": "CONTINUE", "ingress_zones": ["ANY"],
                                       "egress_zones": ["HOST"], "rich_rules": RICH_IN}}
LOCK_OUT = {**POLICIES, "lockout": {"priority": -1, "target": "DROP", "ingress_zones": ["HOST"],
                                    "egress_zones": ["ANY"]}}
ALL = Options(restrict="all_planned")
# runtime zones carry their interface bindings (runtime-only, kept by a reload); the permanent ones do not
ZONES = {"public": {"target": "DROP", "services": ["ssh"], "interfaces": ["eth0"]}}
PERMANENT_ZONES = {"public": {"target": "DROP", "services": ["ssh"]}}
RULES = [{"direction": "in", "port": 22, "peers": ["198.18.0.10"]},
         {"direction": "out", "port": 63001, "peers": ["198.18.0.10"]}]


def read(policies: t.Dict[str, t.Any], permanent_zones: t.Optional[t.Dict[str, t.Any]] = None,
         permanent_policies: t.Optional[t.Dict[str, t.Any]] = None, state: str = "RUNNING") -> t.Tuple[int, str, str]:
    """BUS_SCRIPT read's reply."""
    return (0, json.dumps({
        "state": state,
        "runtime": {"zones": ZONES, "policies": policies},
        "permanent": {"zones": PERMANENT_ZONES if permanent_zones is None else permanent_zones,
                      "policies": policies if permanent_policies is None else permanent_policies}}), "")


def reloaded(policies: t.Dict[str, t.Any]) -> t.Tuple[int, str, str]:
    """BUS_SCRIPT reload's reply: the runtime policies after the reload."""
    return (0, json.dumps({"runtime": {"policies": policies}}), "")


def make(replay: t.Any, policies: t.Optional[t.Dict[str, t.Any]] = None, files: t.Optional[dict] = None,
         permanent_zones: t.Optional[t.Dict[str, t.Any]] = None, reload: t.Any = None
         ) -> t.Tuple[firewalld.FirewalldBackend, t.Any]:
    # no firewall-cmd in the table: the module must not run it (each call is a Python start-up)
    policies = POLICIES if policies is None else policies
    table = {READ: read(policies, permanent_zones), RELOAD: reload or reloaded(policies)}
    files = {CMD: b"#!/usr/bin/python3\n# firewall-cmd\n", **(files or {})}
    runner = replay(table, files=files, commands=["firewall-cmd"])
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


def test_policy_lines_outbound_and_drift() -> None:
    assert firewalld.policy_lines(OURS) == [
        "policy hpsum_ports_in",
        "policy hpsum_ports_in: hpsum.ports:in:tcp:22:0.0.0.0/0:drop",
        "policy hpsum_ports_in: hpsum.ports:in:tcp:22:198.18.0.10/32:accept"]
    foreign = {"hpsum_ports_in": {"rich_rules": ['rule family="ipv4" source address="1.2.3.4" accept']}}
    assert firewalld.policy_lines(foreign)[1].startswith("policy hpsum_ports_in: <foreign: rule family")
    assert firewalld.outbound_filtered(LOCK_OUT) and not firewalld.outbound_filtered(OURS)
    state = json.loads(read(OURS, permanent_policies=POLICIES)[1])
    assert firewalld.drift(state) == []  # ours differ (we reload them), interfaces are runtime-only
    state["permanent"]["zones"]["public"]["services"] = ["ssh", "http"]
    state["runtime"]["policies"]["extra"] = {"target": "ACCEPT"}
    assert firewalld.drift(state) == ["zone public: services", "policy extra: runtime only"]


def test_bus_script_compiles_and_runs_with_firewall_cmds_python(replay: t.Any) -> None:
    compile(firewalld.BUS_SCRIPT, "BUS_SCRIPT", "exec")
    be, runner = make(replay)
    assert be.python() == [PYTHON]
    runner.files[CMD] = b"#!/usr/bin/env python3 -s\n"
    runner.commands.add("python3")
    assert be.python() == ["/usr/sbin/python3", "-s"]
    runner.files[CMD] = b"binary"
    assert be.python() == ["/usr/sbin/python3"]
    runner.commands.discard("python3")
    with pytest.raises(SumPortsError, match="no Python found"):
        be.python()


def test_open_host_check_real(replay: t.Any) -> None:
    be, runner = make(replay, reload=reloaded(OURS))
    check = HostFirewall(be, RULES, ALL, check_mode=True).run()
    assert check["changed"] and check["files"] == [IN_XML] and runner.writes == []
    assert check["added"] == ["policy hpsum_ports_in",
                              "policy hpsum_ports_in: hpsum.ports:in:tcp:22:0.0.0.0/0:drop",
                              "policy hpsum_ports_in: hpsum.ports:in:tcp:22:198.18.0.10/32:accept"]
    assert check["not_applied"] == ["out 63001/tcp: outbound is not filtered on this host"]
    real = HostFirewall(be, RULES, ALL, check_mode=False).run()
    assert real["diff"] == check["diff"]
    # one D-Bus read per run; the reload reads what firewalld loaded back in the same process
    assert runner.argvs() == [READ, READ, RELOAD]
    assert ET.fromstring(runner.files[IN_XML]).findall("rule")
    assert OUT_XML not in runner.files


def test_applied_is_not_changed_and_absent_removes(replay: t.Any) -> None:
    entries = [Entry("in", "tcp", 22, "198.18.0.10/32", "accept"), Entry("in", "tcp", 22, "0.0.0.0/0", "drop")]
    be, runner = make(replay, policies=OURS, files={IN_XML: firewalld.policy_xml("input", entries)},
                      reload=reloaded(POLICIES))
    again = HostFirewall(be, RULES, ALL, check_mode=False).run()
    assert again["changed"] is False
    assert RELOAD not in runner.argvs()
    closed = HostFirewall(be, RULES, Options(state="absent"), check_mode=False).run()
    assert closed["changed"] and IN_XML not in runner.files and RELOAD in runner.argvs()


def test_outbound_filtered_by_a_policy(replay: t.Any) -> None:
    ours_out = {"hpsum_ports_out": {"target": "CONTINUE", "ingress_zones": ["HOST"], "egress_zones": ["ANY"],
                                    "rich_rules": ['rule priority="-2" family="ipv4" destination '
                                                   'address="198.18.0.10/32" port port="63001" protocol="tcp" accept']}}
    be, runner = make(replay, policies=LOCK_OUT, reload=reloaded({**LOCK_OUT, **OURS, **ours_out}))
    result = HostFirewall(be, RULES, ALL, check_mode=False).run()
    assert result["outbound_filtered"] and OUT_XML in runner.files
    assert "hpsum.ports:out:tcp:63001:198.18.0.10/32:accept" in "\n".join(result["added"])


def test_runtime_drift_refuses_before_any_change(replay: t.Any) -> None:
    be, runner = make(replay, permanent_zones={"public": {"target": "DROP", "services": ["ssh", "http"]}})
    with pytest.raises(SumPortsError, match=r"runtime configuration differs.*zone public: services"):
        HostFirewall(be, RULES, Options(), check_mode=False).run()
    assert runner.writes == [] and RELOAD not in runner.argvs()


def test_rules_firewalld_did_not_load_roll_back(replay: t.Any) -> None:
    dropped = {**OURS, "hpsum_ports_in": {**OURS["hpsum_ports_in"], "rich_rules": RICH_IN[:1]}}
    be, runner = make(replay, reload=[reloaded(dropped), reloaded(POLICIES)])  # the accept dropped with a warning
    with pytest.raises(SumPortsError, match="firewalld loaded other rules than written"):
        HostFirewall(be, RULES, Options(), check_mode=False).run()
    assert IN_XML not in runner.files and runner.argvs().count(RELOAD) == 2


def test_failed_reload_restores_files_and_reloads(replay: t.Any) -> None:
    be, runner = make(replay, reload=[(1, "", "org.fedoraproject.FirewallD1.Exception: INVALID_ZONE"),
                                      reloaded(POLICIES)])
    with pytest.raises(SumPortsError, match="failed"):
        HostFirewall(be, RULES, Options(), check_mode=False).run()
    assert IN_XML not in runner.files
    assert runner.argvs().count(RELOAD) == 2


def test_injected_failures(replay: t.Any) -> None:
    be, runner = make(replay)
    with pytest.raises(SumPortsError, match="injected"):
        HostFirewall(be, RULES, Options(), check_mode=False, hook=FailHook("after_first_step")).run()
    assert IN_XML not in runner.files and RELOAD not in runner.argvs()
    # firewalld checks the whole configuration before a reload: the bad policy is refused, nothing changed
    be, runner = make(replay, reload=[(1, "", "INVALID_ZONE: 'ingress_zones' may only contain one of"),
                                      reloaded(POLICIES)])
    with pytest.raises(SumPortsError, match="failed"):
        HostFirewall(be, RULES, Options(), check_mode=False, hook=FailHook("bad_rule")).run()
    assert IN_XML not in runner.files
    assert list(runner.writes) == [IN_XML, IN_XML, firewalld.DEFAULT_DIR + "/hpsum_ports_out.xml"]


def test_available(replay: t.Any) -> None:
    be, runner = make(replay)
    assert be.available()
    runner.table[READ] = read(POLICIES, state="FAILED")
    assert not be.available()
    with pytest.raises(SumPortsError, match="firewalld is not running"):
        be.snapshot()
    runner.table[READ] = (1, "", "org.freedesktop.DBus.Error.ServiceUnknown: not provided")
    assert not be.available()
    assert not firewalld.FirewalldBackend(replay({}, commands=[])).available()


@pytest.mark.parametrize("value", ["198.18.0.10/32", "2001:db8::1/128", 'a&b<c>"d'])
def test_quoteattr_is_what_saxutils_writes(value: str) -> None:
    assert firewalld.quoteattr(value) == '"%s"' % escape(value, {'"': "&quot;"})
    assert ET.fromstring("<x a=%s/>" % firewalld.quoteattr(value)).get("a") == value
