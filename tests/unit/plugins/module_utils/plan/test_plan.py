"""The plan against the vendor page, cell by cell, restated here independently of port_matrix.py.

Each expectation is typed from the vendor page (docs/vendor/hpsum-network-ports.txt), not
computed from the module's data, so a wrong port in the data makes these tests fail.
"""

from __future__ import annotations

import typing as t

import pytest
from _page_cells import SUM, H, S, as_map, cells, expected_node, mirror, node_opts

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan import plan

# superdome_x is the page's "Superdome 2/X" on the 7.x page, like superdome
MP = ("ilo", "vc", "fc_switch", "sas_switch", "moonshot", "superdome", "superdome_x")

# node type -> phase -> (to target, from target <= 7.2.1, from target >= 7.3.0); "80?" = (80)
PAGE: t.Dict[str, t.Dict[str, t.Tuple[t.Tuple, t.Tuple, t.Tuple]]] = {
    "windows": {p: ((445, 135, 137, 138, 139), (H, S), ()) for p in ("inventory", "deployment")},
    "linux": {p: ((22,), (H, S), ()) for p in ("inventory", "deployment")},
    "hpux": {p: ((22,), (H, S), (H, S)) for p in ("inventory", "deployment")},
    "vmware": {p: ((443, 5989), (H,), (H,)) for p in ("inventory", "deployment")},
    "oa": {p: ((22, "80?", 443), (), ()) for p in ("inventory", "deployment")},
}
for _mp in MP:
    PAGE[_mp] = {"inventory": ((22, "80?", 443), (), ()), "deployment": ((22, "80?", 443), (H,), (H,))}
COLUMNS = {"7.2.1": 1, "7.3.0": 2}


def _opts(**kw: t.Any) -> t.Dict[str, t.Any]:
    return node_opts("7.6.0", **kw)


def _expected_node(node_type: str, version: str, phases: t.List[str], http: int, https: int) -> t.Dict:
    """(direction, protocol, port) -> (phases, required) from PAGE, in the version's "from target" column."""
    def cell(phase: str) -> t.Tuple[t.Tuple, t.Tuple]:
        to, old, new = PAGE[node_type][phase]
        return to, (old if COLUMNS[version] == 1 else new)

    return expected_node(cell, node_type, phases, http, https)


CELLS = cells(PAGE, COLUMNS)


@pytest.mark.parametrize("server_os,node_type,version,phases,ports", CELLS)
def test_every_cell_node(
        server_os: str, node_type: str, version: str, phases: t.List[str], ports: t.Tuple[int, int]) -> None:
    facts = plan.build_plan(_opts(sum_server_os=server_os, node_type=node_type, sum_version=version,
                                  phases=phases, http_port=ports[0], https_port=ports[1]))
    assert as_map(facts["rules"]) == _expected_node(node_type, version, phases, *ports)
    assert all(r["peers"] == [SUM] for r in facts["rules"])
    assert facts["version_column"] == ("<=7.2.1" if version == "7.2.1" else ">=7.3.0")
    assert facts["wmi"] is (server_os == "windows" and node_type == "windows")
    assert facts["http_port"] == ports[0] and facts["https_port"] == ports[1]


@pytest.mark.parametrize("server_os,node_type,version,phases,ports", CELLS)
def test_every_cell_server_mirrors_node(
        server_os: str, node_type: str, version: str, phases: t.List[str], ports: t.Tuple[int, int]) -> None:
    node = "198.18.0.20"
    facts = plan.build_plan({"host_role": "sum_server", "sum_server_os": server_os, "sum_version": version,
                             "phases": phases, "http_port": ports[0], "https_port": ports[1],
                             "peers": [{"address": node, "node_type": node_type}]})
    expected = mirror(_expected_node(node_type, version, phases, *ports))
    got = as_map(facts["rules"])
    loopback = ("in", "tcp", ports[1])
    # rule 1 on the same key as a node's HTTPS callback: merged, required, all phases
    expected[loopback] = (phases, True)
    assert got == expected
    for rule in facts["rules"]:
        expected_peers = [node] if (rule["direction"], rule["protocol"], rule["port"]) != loopback else None
        if expected_peers:
            assert rule["peers"] == expected_peers
        else:
            assert set(rule["peers"]) >= {"127.0.0.1", "::1"}


def test_linux_server_with_windows_node_is_an_error() -> None:
    with pytest.raises(SumPortsError, match=r"node_type: 'windows' is not supported with sum_server_os 'linux'"):
        plan.build_plan(_opts(node_type="windows"))
    with pytest.raises(SumPortsError, match=r"peers\[1\]\.node_type: 'windows' \(at 198.18.0.21\)"):
        plan.build_plan({"host_role": "sum_server", "sum_server_os": "linux", "sum_version": "7.6.0",
                         "peers": [{"address": "198.18.0.20", "node_type": "linux"},
                                   {"address": "198.18.0.21", "node_type": "windows"}]})


@pytest.mark.parametrize("version,column", [
    ("1.0.0", "<=7.2.1"), ("7.2.0", "<=7.2.1"), ("7.2.1", "<=7.2.1"), ("7.3.0", ">=7.3.0"),
    ("7.3.1", ">=7.3.0"), ("7.99.99", ">=7.3.0"), ("8.0.0", ">=8.0.0"), ("10.2.11", ">=8.0.0"),
])
def test_version_column(version: str, column: str) -> None:
    assert plan.version_column(version) == column


@pytest.mark.parametrize("version", ["7.2.2", "7.2.9", "7.2.10", "7.2.100"])
def test_uncovered_versions_are_rejected(version: str) -> None:
    with pytest.raises(SumPortsError, match=r"^sum_version: '%s' lies between 7.2.1 and 7.3.0" % version):
        plan.build_plan(_opts(sum_version=version))


BAD = [
    ({"http_port": 0}, r"^http_port: 0 is outside 1-65535"),
    ({"http_port": 65536}, r"^http_port: 65536 is outside 1-65535"),
    ({"https_port": 0}, r"^https_port: 0 is outside 1-65535"),
    ({"https_port": 70000}, r"^https_port: 70000 is outside 1-65535"),
    ({"ftp_port": 65536}, r"^ftp_port: 65536 is outside 1-65535"),
    ({"http_port": True}, r"^http_port: True is not a port number"),
    ({"http_port": "80"}, r"^http_port: '80' is not a port number"),
    ({"https_port": 63001}, r"^https_port: 63001 equals http_port"),
    ({"ftp_port": 63002}, r"^ftp_port: 63002 equals https_port"),
    ({"node_type": "printer"}, r"^node_type: 'printer' is not one of windows, linux"),
    ({"node_type": None}, r"^node_type: None is required when host_role is node"),
    ({"host_role": "client"}, r"^host_role: 'client' is not one of sum_server, node"),
    ({"sum_server_os": "hpux"}, r"^sum_server_os: 'hpux' is not one of windows, linux"),
    ({"sum_version": "7.6"}, r"^sum_version: '7.6' is not a version of the form X.Y.Z"),
    ({"sum_version": "v7.6.0"}, r"^sum_version: 'v7.6.0' is not a version"),
    ({"sum_version": 7}, r"^sum_version: 7 is not a version"),
    ({"sum_version": None}, r"^sum_version: None is not a version"),
    ({"phases": []}, r"^phases: \[\] must be a non-empty list"),
    ({"phases": ["install"]}, r"^phases: 'install' is not one of inventory, deployment"),
    ({"peers": []}, r"^peers: \[\] must be a non-empty list of SUM server addresses"),
    ({"peers": "198.18.0.10"}, r"^peers: '198.18.0.10' must be a non-empty list"),
    ({"peers": [{"address": SUM, "node_type": "linux"}]}, r"^peers\[0\]: \{.*\} is not an IP address"),
    ({"peers": ["sum.example"]}, r"^peers\[0\]: 'sum.example' is not an IP address"),
    ({"peers": ["fe80::1%eth0"]}, r"^peers\[0\]: 'fe80::1%eth0' has an IPv6 zone"),
    ({"addresses": ["fe80::2%2"]}, r"^addresses\[0\]: 'fe80::2%2' has an IPv6 zone"),
    ({"browser_sources": ["198.18.0.0/24"]}, r"^browser_sources: .* applies to host_role sum_server only"),
    ({"optional_ports": "yes"}, r"^optional_ports: 'yes' is not a boolean"),
]


@pytest.mark.parametrize("override,message", BAD, ids=[m for _o, m in BAD])
def test_bad_node_input_names_option_and_value(override: t.Dict, message: str) -> None:
    with pytest.raises(SumPortsError, match=message) as info:
        plan.build_plan(_opts(**override))
    assert info.value.details["option"] == info.value.msg.split(":")[0]


SERVER_BAD = [
    ({"peers": ["198.18.0.20"]}, r"^peers\[0\]: '198.18.0.20' must be a mapping with keys address and node_type"),
    ({"peers": {"address": "x"}}, r"^peers: .* must be a list of \{address, node_type\}"),
    ({"peers": [{"address": "198.18.0.20"}]}, r"^peers\[0\]: .* must be a mapping with keys address and node_type"),
    ({"peers": [{"address": "nope", "node_type": "linux"}]}, r"^peers\[0\]\.address: 'nope' is not an IP address"),
    ({"peers": [{"address": "198.18.0.20", "node_type": "nas"}]}, r"^peers\[0\]\.node_type: 'nas' is not one of"),
    ({"peers": [{"address": "198.18.0.20", "node_type": "linux", "proxy_for": "lin1"}]},
     r"^peers\[0\]\.node_type: 'linux' is no management processor .*only a processor's callbacks are proven by a "
     r"proxy \(proxy_for\)"),
    ({"browser_sources": ["198.18.0.5/24"]}, r"^browser_sources\[0\]: '198.18.0.5/24' is not an IP address or network"),
    ({"browser_sources": ["fe80::/64%eth0"]}, r"^browser_sources\[0\]: 'fe80::/64%eth0' has an IPv6 zone"),
    ({"node_type": "linux"}, r"^node_type: 'linux' applies to host_role node only"),
]


@pytest.mark.parametrize("override,message", SERVER_BAD, ids=[m for _o, m in SERVER_BAD])
def test_bad_server_input_names_option_and_value(override: t.Dict, message: str) -> None:
    opts = {"host_role": "sum_server", "sum_server_os": "linux", "sum_version": "7.6.0", "peers": []}
    opts.update(override)
    with pytest.raises(SumPortsError, match=message):
        plan.build_plan(opts)


def _server(**kw: t.Any) -> t.Dict:
    opts = {"host_role": "sum_server", "sum_server_os": "linux", "sum_version": "7.6.0",
            "peers": [{"address": "198.18.0.20", "node_type": "linux"}]}
    opts.update(kw)
    return plan.build_plan(opts)


def _rule(facts: t.Dict, direction: str, port: int, protocol: str = "tcp") -> t.Dict:
    matches = [r for r in facts["rules"] if (r["direction"], r["protocol"], r["port"]) == (direction, protocol, port)]
    assert len(matches) == 1, "no single %s %s/%s rule in %r" % (direction, port, protocol, facts["rules"])
    return matches[0]


@pytest.mark.parametrize("https", [63002, 443, 9443])
def test_rule1_https_from_loopback_follows_moved_port(https: int) -> None:
    rule = _rule(_server(https_port=https), "in", https)
    assert rule["peers"][:2] == ["127.0.0.1", "::1"] and rule["required"] is True
    assert "rule 1" in rule["reason"]


def test_rule2_wmi_only_windows_to_windows() -> None:
    assert plan.build_plan(_opts(node_type="windows", sum_server_os="windows"))["wmi"] is True
    assert plan.build_plan(_opts(node_type="linux", sum_server_os="windows"))["wmi"] is False


@pytest.mark.parametrize("http,https", [(80, 443), (8080, 8443)])
def test_rule3_moved_ports_follow_every_rule(http: int, https: int) -> None:
    facts = _server(http_port=http, https_port=https, sum_version="7.2.1", browser_sources=["198.18.0.0/28"])
    ports = {r["port"] for r in facts["rules"] if r["direction"] == "in"}
    assert ports == {http, https}
    assert not any(r["port"] in (63001, 63002) for r in facts["rules"])


def test_rule4_browser_sources_on_http_and_https() -> None:
    facts = _server(browser_sources=["198.18.0.0/28", "198.18.0.50"])
    for port in (63001, 63002):
        rule = _rule(facts, "in", port)
        assert {"198.18.0.0/28", "198.18.0.50"} <= set(rule["peers"])
        assert "rule 4" in rule["reason"]
    assert not any(r["port"] == 63001 for r in _server()["rules"]), "no browser sources, no 63001 in a >=7.3.0 plan"


def test_rule5_ftp_only_when_set() -> None:
    assert not any(r["port"] == 21 for r in _server()["rules"])
    rule = _rule(_server(ftp_port=21), "in", 21)
    assert rule["peers"] == ["198.18.0.20"] and "rule 5" in rule["reason"]
    assert plan.build_plan(_opts(ftp_port=2121))["ftp_port"] == 2121


def test_rule7_vmware_https_callback_opened_not_required() -> None:
    facts = plan.build_plan(_opts(node_type="vmware"))
    assert _rule(facts, "out", 63001)["required"] is True
    https = _rule(facts, "out", 63002)
    assert https["required"] is False and "rule 7" in https["reason"]
    assert facts["esxi"]["custom_rule_ports"] == [63001, 63002] and facts["esxi"]["custom_rule_needed"] is True
    assert facts["firewall"] == "esxi"


def test_rule7_esxi_needs_no_custom_rule_on_80_443() -> None:
    facts = plan.build_plan(_opts(node_type="vmware", http_port=80, https_port=443))
    assert facts["esxi"]["custom_rule_needed"] is False and facts["esxi"]["custom_rule_ports"] == []
    assert "no custom rule is needed" in facts["esxi"]["note"]
    mixed = plan.build_plan(_opts(node_type="vmware", http_port=80, https_port=8443))
    assert mixed["esxi"]["custom_rule_ports"] == [8443]


def test_rule8_server_lists_every_address_of_a_node() -> None:
    peers = [{"address": "198.18.0.41", "node_type": "hpux"}, {"address": "198.18.0.141", "node_type": "hpux"}]
    facts = _server(sum_version="7.2.1", peers=peers)
    assert _rule(facts, "out", 22)["peers"] == ["198.18.0.41", "198.18.0.141"]
    assert _rule(facts, "in", 63001)["peers"] == ["198.18.0.41", "198.18.0.141"]


def test_optional_80_can_be_left_out() -> None:
    assert _rule(plan.build_plan(_opts(node_type="oa")), "in", 80)["required"] is False
    facts = plan.build_plan(_opts(node_type="oa", optional_ports=False))
    assert not any(r["port"] == 80 for r in facts["rules"])
    vmware = plan.build_plan(_opts(node_type="vmware", optional_ports=False))
    assert _rule(vmware, "out", 63002)["required"] is False, "rule 7's HTTPS stays: it is not a (80) port"


def test_management_processors_have_no_managed_firewall() -> None:
    for node_type in ("oa",) + MP:
        assert plan.build_plan(_opts(node_type=node_type))["firewall"] == "none"
    assert plan.build_plan(_opts(node_type="hpux"))["firewall"] == "hpux"
    assert _server()["firewall"] == "linux"


def test_merging_unions_peers_and_phases_and_ors_required() -> None:
    facts = _server(sum_version="7.6.0", peers=[
        {"address": "198.18.0.30", "node_type": "ilo"},   # 63001 in deployment only
        {"address": "198.18.0.20", "node_type": "hpux"},  # 63001 in both phases
    ])
    rule = _rule(facts, "in", 63001)
    assert rule["peers"] == ["198.18.0.30", "198.18.0.20"]
    assert rule["phases"] == ["inventory", "deployment"]
    assert len({(r["direction"], r["protocol"], r["port"]) for r in facts["rules"]}) == len(facts["rules"])


def test_rules_are_ordered_and_deterministic() -> None:
    first = plan.build_plan(_opts(node_type="windows", sum_server_os="windows", sum_version="7.2.1"))
    assert [(r["direction"], r["port"]) for r in first["rules"]] == [
        ("in", 135), ("in", 137), ("in", 138), ("in", 139), ("in", 445), ("out", 63001), ("out", 63002)]
    assert first == plan.build_plan(_opts(node_type="windows", sum_server_os="windows", sum_version="7.2.1"))


def test_facts_schema_keys() -> None:
    facts = plan.build_plan(_opts())
    assert set(facts) >= {"host_role", "node_type", "sum_server_os", "sum_version", "version_column", "http_port",
                          "https_port", "ftp_port", "phases", "wmi", "rules"}
    for rule in facts["rules"]:
        assert set(rule) == {"direction", "protocol", "port", "peers", "phases", "required", "reason"}
