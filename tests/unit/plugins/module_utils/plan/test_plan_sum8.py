"""The plan against the SUM 8 and later page, cell by cell, restated here independently of port_matrix.py.

Each expectation is typed from HPE's page "SUM network ports used" (docs/vendor/sum8-network-ports.md),
not computed from the module's data, so a wrong port in the data makes these tests fail.
"""

from __future__ import annotations

import re
import typing as t

import pytest
from _page_cells import SUM, H, S, as_map, cells, expected_node, mirror, node_opts

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan import plan
from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import plan_args

MP = ("22", "80?", "443")
BOTH = ("inventory", "deployment")

# node type -> phase -> (to target, from target); "80?" = (80). One "from target" column.
PAGE8: t.Dict[str, t.Dict[str, t.Tuple[t.Tuple, t.Tuple]]] = {
    "windows": {p: ((445, 135, 137, 138, 139), ()) for p in BOTH},
    "linux": {p: ((22,), ()) for p in BOTH},
    "vmware": {p: ((443, 5989), (H,)) for p in BOTH},
    "oa": {p: ((22, "80?", 443), ()) for p in BOTH},
    "superdome_x": {"inventory": ((22, "80?", 443), ()), "deployment": ((22, "80?", 443), (H, S))},
    "ilo": {"inventory": ((22, "80?", 443), ()), "deployment": ((22, "80?", 443), (H,))},
    "vc": {"inventory": ((22, "80?", 443), ()), "deployment": ((22, "80?", 443), (H,))},
    "fc_switch": {"inventory": ((22, "80?", 443), ()), "deployment": ((22, "80?", 443), (H,))},
    "sas_switch": {"inventory": ((22, "80?", 443), ()), "deployment": ((22, "80?", 443), (H,))},
    "superdome_flex": {"inventory": ((443,), ()), "deployment": ((443,), (S,))},
}
NOT_LISTED = ("hpux", "moonshot", "superdome")
VERSIONS = ("8.0.0", "8.5.1", "10.2.11")


def _opts(**kw: t.Any) -> t.Dict[str, t.Any]:
    return node_opts("10.2.11", **kw)


def _expected_node(node_type: str, phases: t.List[str], http: int, https: int) -> t.Dict:
    """(direction, protocol, port) -> (phases, required) from PAGE8 (one "from target" column)."""
    return expected_node(lambda phase: PAGE8[node_type][phase], node_type, phases, http, https)


CELLS = cells(PAGE8, VERSIONS)


@pytest.mark.parametrize("server_os,node_type,version,phases,ports", CELLS)
def test_every_sum8_cell_node(
        server_os: str, node_type: str, version: str, phases: t.List[str], ports: t.Tuple[int, int]) -> None:
    facts = plan.build_plan(_opts(sum_server_os=server_os, node_type=node_type, sum_version=version,
                                  phases=phases, http_port=ports[0], https_port=ports[1]))
    assert as_map(facts["rules"]) == _expected_node(node_type, phases, *ports)
    assert all(r["peers"] == [SUM] for r in facts["rules"])
    assert facts["version_column"] == ">=8.0.0"
    assert facts["wmi"] is (server_os == "windows" and node_type == "windows")
    assert facts["firewall"] == {"windows": "windows", "linux": "linux", "vmware": "esxi"}.get(node_type, "none")


@pytest.mark.parametrize("server_os,node_type,version,phases,ports", CELLS)
def test_every_sum8_cell_server_mirrors_node(
        server_os: str, node_type: str, version: str, phases: t.List[str], ports: t.Tuple[int, int]) -> None:
    node = "198.18.0.20"
    facts = plan.build_plan({"host_role": "sum_server", "sum_server_os": server_os, "sum_version": version,
                             "phases": phases, "http_port": ports[0], "https_port": ports[1],
                             "peers": [{"address": node, "node_type": node_type}]})
    expected = mirror(_expected_node(node_type, phases, *ports))
    loopback = ("in", "tcp", ports[1])
    expected[loopback] = (phases, True)  # rule 1, merged with an HTTPS callback where there is one
    assert as_map(facts["rules"]) == expected
    rule1 = next(r for r in facts["rules"] if (r["direction"], r["protocol"], r["port"]) == loopback)
    assert "sum_binary <-> sum_service" in rule1["reason"] and "hpsum_binary" not in rule1["reason"]


def test_the_sum7_page_keeps_hpsum_program_names() -> None:
    facts = plan.build_plan({"host_role": "sum_server", "sum_server_os": "linux", "sum_version": "7.6.0",
                             "peers": []})
    assert "rule 1: hpsum_binary <-> hpsum_service" in facts["rules"][0]["reason"]


def test_vmware_reason_carries_the_gen9_footnote_on_sum8_only() -> None:
    sum8 = plan.build_plan(_opts(node_type="vmware"))
    assert all("only on Gen9 and previous generation servers" in r["reason"] for r in sum8["rules"])
    sum7 = plan.build_plan(_opts(node_type="vmware", sum_version="7.6.0"))
    assert not any("Gen9" in r["reason"] for r in sum7["rules"])


@pytest.mark.parametrize("version,column", [
    ("7.2.1", "<=7.2.1"), ("7.3.0", ">=7.3.0"), ("7.6.0", ">=7.3.0"), ("7.99.99", ">=7.3.0"),
    ("8.0.0", ">=8.0.0"), ("8.0.1", ">=8.0.0"), ("9.1.0", ">=8.0.0"), ("10.2.11", ">=8.0.0"),
])
def test_the_version_picks_the_page(version: str, column: str) -> None:
    assert plan.build_plan(_opts(sum_version=version))["version_column"] == column


def test_superdome_flex_calls_back_on_https_only_and_has_no_ssh() -> None:
    facts = plan.build_plan(_opts(node_type="superdome_flex", http_port=8080, https_port=8443))
    assert [(r["direction"], r["port"], r["phases"]) for r in facts["rules"]] == [
        ("in", 443, ["inventory", "deployment"]), ("out", 8443, ["deployment"])]


def test_superdome_x_differs_between_the_pages() -> None:
    sum7 = as_map(plan.build_plan(_opts(node_type="superdome_x", sum_version="7.6.0"))["rules"])
    sum8 = as_map(plan.build_plan(_opts(node_type="superdome_x"))["rules"])
    assert ("out", "tcp", 63002) not in sum7
    assert sum8[("out", "tcp", 63002)] == (["deployment"], True)
    assert sum7 == as_map(plan.build_plan(_opts(node_type="superdome", sum_version="7.6.0"))["rules"])


@pytest.mark.parametrize("node_type,says", [
    ("hpux", r"SUM 8 and later do not list HP-UX nodes; the SUM 7\.x page \(sum_version < 8\.0\.0\) does"),
    ("moonshot", r"SUM 8 and later do not list Moonshot nodes; the SUM 7\.x page \(sum_version < 8\.0\.0\) does"),
    ("superdome", r"no Superdome 2/X row: choose superdome_x \(Superdome X\) or superdome_flex \(Superdome Flex\)"),
])
@pytest.mark.parametrize("version", ["8.0.0", "10.2.11"])
def test_node_types_the_sum8_page_leaves_out(node_type: str, says: str, version: str) -> None:
    with pytest.raises(SumPortsError) as info:
        plan.build_plan(_opts(node_type=node_type, sum_version=version), host="nodeA")
    message = str(info.value)
    assert message.startswith("node_type: %r (host nodeA, sum_version %r) is not on the page "
                              "\"SUM network ports used\"" % (node_type, version))
    assert info.value.details["option"] == "node_type"
    assert re.search(says, message)
    with pytest.raises(SumPortsError) as server:
        plan.build_plan({"host_role": "sum_server", "sum_server_os": "windows", "sum_version": version,
                         "peers": [{"address": "198.18.0.20", "node_type": "linux"},
                                   {"address": "198.18.0.21", "node_type": node_type, "name": "nodeB"}]},
                        host="sum1")
    assert str(server.value).startswith("peers[1].node_type: %r (host nodeB, at 198.18.0.21, sum_version %r)"
                                        % (node_type, version))


@pytest.mark.parametrize("version", ["7.2.1", "7.3.0", "7.6.0"])
def test_superdome_flex_is_not_on_the_sum7_page(version: str) -> None:
    with pytest.raises(SumPortsError, match=r"^node_type: 'superdome_flex' \(host sdf1, sum_version '%s'\) is not "
                                            r"on the page \"Making HP SUM network ports available\".*the SUM 8 and "
                                            r"later page \(sum_version >= 8\.0\.0\) lists it" % version):
        plan.build_plan(_opts(node_type="superdome_flex", sum_version=version), host="sdf1")


def test_hpux_and_moonshot_stay_on_the_sum7_page() -> None:
    for node_type in ("hpux", "moonshot", "superdome"):
        assert plan.build_plan(_opts(node_type=node_type, sum_version="7.6.0"))["rules"]


def test_linux_server_with_windows_node_is_still_an_error_on_sum8() -> None:
    with pytest.raises(SumPortsError, match=r"^node_type: 'windows' is not supported with sum_server_os 'linux'"
                                            r".*\(host w1, sum_version '10.2.11'\)"):
        plan.build_plan(_opts(node_type="windows"), host="w1")


def test_inventory_errors_name_the_host_type_and_version() -> None:
    hostvars = {"sum1": {"ansible_host": "198.18.0.100", "sum_plan_version": "10.2.11"},
                "hp1": {"ansible_host": "198.18.0.101", "sum_node_type": "hpux"}}
    groups = {"all": ["sum1", "hp1"], "sum_servers": ["sum1"]}
    defaults = {"sum_plan_version": "7.6.0", "sum_plan_phases": ["inventory", "deployment"],
                "sum_plan_http_port": 63001, "sum_plan_https_port": 63002, "sum_plan_ftp_port": None,
                "sum_plan_browser_sources": [], "sum_plan_optional_ports": True}
    with pytest.raises(SumPortsError, match=r"^node_type: 'hpux' \(host hp1, sum_version '10.2.11'\)"):
        plan.build_plan(t.cast(t.Dict[str, t.Any], plan_args("hp1", hostvars, groups, defaults)), host="hp1")
    with pytest.raises(SumPortsError, match=r"^peers\[0\]\.node_type: 'hpux' \(host hp1, at 198.18.0.101, "
                                            r"sum_version '10.2.11'\)"):
        plan.build_plan(t.cast(t.Dict[str, t.Any], plan_args("sum1", hostvars, groups, defaults)), host="sum1")
