"""windows_rules: the win_firewall_rule parameters for every Windows combination the plan produces."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.apply.windows.windows_rules import (
    GROUP,
    rule_names,
    windows_rules,
)
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan import port_matrix as pm
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan

SERVER = "198.18.0.10"
VERSIONS = ("7.2.1", "7.6.0")
PHASES = (["inventory"], ["deployment"], ["inventory", "deployment"])


def node_plan(version: str = "7.6.0", phases: t.Sequence[str] = ("inventory", "deployment"), **kw: t.Any) -> dict:
    options = {"host_role": "node", "node_type": "windows", "sum_server_os": "windows", "sum_version": version,
               "phases": list(phases), "peers": [SERVER]}
    options.update(kw)
    return build_plan(options)


def server_plan(peers: t.List[t.Dict[str, str]], version: str = "7.6.0", **kw: t.Any) -> dict:
    options = {"host_role": "sum_server", "sum_server_os": "windows", "sum_version": version, "peers": peers}
    options.update(kw)
    return build_plan(options)


def by_name(rules: t.List[t.Dict[str, t.Any]]) -> t.Dict[str, t.Dict[str, t.Any]]:
    return {r["name"]: r for r in rules}


NODE_PORTS = [("tcp", 135), ("udp", 137), ("udp", 138), ("tcp", 139), ("tcp", 445)]
WMI_NAMES = ["hpsum.ports WMI DCOM-In", "hpsum.ports WMI WMI-In", "hpsum.ports WMI Async-In"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("phases", PHASES)
def test_windows_node(version: str, phases: t.List[str]) -> None:
    rules = windows_rules(node_plan(version, phases))
    names = ["hpsum.ports in %s %d" % pp for pp in NODE_PORTS] + WMI_NAMES
    assert rule_names(rules) == names
    for rule in rules:
        assert rule["group"] == GROUP and rule["direction"] == "in" and rule["action"] == "allow"
        assert rule["remoteip"] == SERVER and rule["enabled"] is True
        assert rule["profiles"] == ["domain", "private", "public"]
    first = rules[0]
    assert first == {"name": "hpsum.ports in tcp 135", "group": "hpsum.ports", "direction": "in", "action": "allow",
                     "protocol": "tcp", "remoteip": SERVER, "profiles": ["domain", "private", "public"],
                     "enabled": True, "localport": "135",
                     "description": "to target: SUM server -> Windows node (135)"}
    assert by_name(rules)["hpsum.ports in udp 137"]["protocol"] == "udp"


def test_wmi_rules_mirror_windows_own_scope() -> None:
    wmi = by_name(windows_rules(node_plan()))
    assert {k: wmi["hpsum.ports WMI DCOM-In"][k] for k in ("protocol", "localport", "program", "service")} == {
        "protocol": "tcp", "localport": "135", "program": "%SystemRoot%\\system32\\svchost.exe", "service": "rpcss"}
    assert {k: wmi["hpsum.ports WMI WMI-In"][k] for k in ("localport", "program", "service")} == {
        "localport": "RPC", "program": "%SystemRoot%\\system32\\svchost.exe", "service": "winmgmt"}
    assert {k: wmi["hpsum.ports WMI Async-In"][k] for k in ("localport", "program", "service")} == {
        "localport": "any", "program": "%systemroot%\\system32\\wbem\\unsecapp.exe", "service": "any"}
    assert all(wmi[n]["remoteip"] == SERVER and wmi[n]["description"].startswith("rule 2: ") for n in WMI_NAMES)


def test_old_version_outbound_callbacks_only_on_request() -> None:
    plan = node_plan("7.2.1")
    assert [r for r in plan["rules"] if r["direction"] == "out"]  # the plan has them (HTTP, HTTPS)
    assert all(r["direction"] == "in" for r in windows_rules(plan))
    out = [r for r in windows_rules(plan, outbound=True) if r["direction"] == "out"]
    assert [(r["name"], r["remoteport"], r["remoteip"]) for r in out] == [
        ("hpsum.ports out tcp 63001", "63001", SERVER), ("hpsum.ports out tcp 63002", "63002", SERVER)]
    assert all("localport" not in r for r in out)


def test_two_sum_servers_and_moved_ports() -> None:
    rules = windows_rules(node_plan(peers=[SERVER, "198.18.0.11"], http_port=80, https_port=443))
    assert {r["remoteip"] for r in rules} == {"198.18.0.10,198.18.0.11"}


NODE_TYPES_FOR_WINDOWS_SERVER = [nt for nt in pm.NODE_TYPES if pm.row_for("windows", nt) is not None]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("node_type", NODE_TYPES_FOR_WINDOWS_SERVER)
def test_windows_server_with_each_node_type(version: str, node_type: str) -> None:
    node = "198.18.0.20"
    plan = server_plan([{"address": node, "node_type": node_type}], version)
    rules = windows_rules(plan)
    callbacks = sorted(r["port"] for r in plan["rules"] if r["direction"] == "in" and node in r["peers"])
    inbound = {r["name"]: r for r in rules if r["direction"] == "in" and "WMI" not in r["name"]}
    assert sorted(int(r["localport"]) for r in inbound.values() if node in r["remoteip"].split(",")) == callbacks
    # Rule 1's loopback peers are not rules on Windows: the firewall does not filter loopback.
    assert all("127.0.0.1" not in r["remoteip"] and "::1" not in r["remoteip"] for r in rules)
    # The HTTPS port carries rule 1 only when no node calls back: then no Windows rule at all.
    if not callbacks:
        assert inbound == {}
    assert all(r["direction"] == "in" for r in rules)
    has_async = "hpsum.ports WMI Async-In" in by_name(rules)
    assert has_async == (node_type == "windows")
    if has_async:
        assert by_name(rules)["hpsum.ports WMI Async-In"]["remoteip"] == node


def test_windows_server_with_browsers_ftp_and_mixed_nodes() -> None:
    plan = server_plan([{"address": "198.18.0.20", "node_type": "windows"},
                        {"address": "198.18.0.21", "node_type": "vmware"},
                        {"address": "198.18.0.22", "node_type": "ilo"}],
                       "7.2.1", browser_sources=["198.18.0.0/26"], ftp_port=2121)
    rules = by_name(windows_rules(plan))
    assert rules["hpsum.ports in tcp 63001"]["remoteip"] == "198.18.0.20,198.18.0.21,198.18.0.22,198.18.0.0/26"
    # iLO calls back on HTTP only; VMware's HTTPS callback is opened (rule 7).
    assert rules["hpsum.ports in tcp 63002"]["remoteip"] == "198.18.0.20,198.18.0.21,198.18.0.0/26"
    assert rules["hpsum.ports in tcp 2121"]["remoteip"] == "198.18.0.20,198.18.0.21,198.18.0.22"
    assert rules["hpsum.ports WMI Async-In"]["remoteip"] == "198.18.0.20"
    outbound = by_name(windows_rules(plan, outbound=True))
    assert outbound["hpsum.ports out tcp 445"]["remoteip"] == "198.18.0.20"
    assert outbound["hpsum.ports out tcp 443"]["remoteip"] == "198.18.0.21,198.18.0.22"


def test_names_are_unique_and_stable() -> None:
    plan = server_plan([{"address": "198.18.0.20", "node_type": "windows"}], "7.2.1", browser_sources=["198.18.0.5"])
    names = rule_names(windows_rules(plan, outbound=True))
    assert len(names) == len(set(names)) and names == rule_names(windows_rules(plan, outbound=True))


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (None, "sum_ports: None is not a mapping"),
        ({"firewall": "linux", "rules": []}, "sum_ports.firewall: 'linux' is not windows"),
        ({"firewall": "windows", "rules": None}, "sum_ports.rules: None is not a list"),
        ({"firewall": "windows", "rules": [{"direction": "sideways", "protocol": "tcp", "port": 1, "peers": []}]},
         "sum_ports.rules[0].direction: 'sideways'"),
        ({"firewall": "windows", "rules": [{"direction": "in", "protocol": "icmp", "port": 1, "peers": []}]},
         "sum_ports.rules[0].protocol: 'icmp'"),
        ({"firewall": "windows", "rules": [{"direction": "in", "protocol": "tcp", "port": 0, "peers": []}]},
         "sum_ports.rules[0].port: 0"),
        ({"firewall": "windows", "rules": [{"direction": "in", "protocol": "tcp", "port": 1, "peers": ["x,any"]}]},
         "sum_ports.rules[0].peers: 'x,any' is not an IP address"),
        ({"firewall": "windows", "rules": [{"direction": "in", "protocol": "tcp", "port": 1, "peers": "a"}]},
         "sum_ports.rules[0].peers: 'a' is not a list"),
        ({"firewall": "windows", "rules": ["x"]}, "sum_ports.rules[0]: 'x' is not a mapping"),
        ({"firewall": "windows", "wmi": True, "host_role": "node", "rules": []}, "sum_ports.wmi is true"),
    ],
)
def test_bad_plans(plan: t.Any, message: str) -> None:
    with pytest.raises(SumPortsError) as err:
        windows_rules(plan)
    assert str(err.value).startswith(message)
