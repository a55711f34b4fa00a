"""build_plan reuses what hosts of one kind share: its plans equal plans built from scratch, host by host."""

from __future__ import annotations

import copy
import ipaddress
import itertools
import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan import plan
from ansible_collections.hpsum.ports.plugins.module_utils.plan import port_matrix as pm

SERVERS = (["198.18.0.10"], ["198.18.0.10", "2001:DB8::10"], ["2001:db8:0:0::10", "198.18.0.11", "198.18.0.10"])
PORTS = ({}, {"http_port": 80, "https_port": 443}, {"http_port": 8080, "https_port": 8443, "ftp_port": 2121},
         {"http_port": None, "ftp_port": None})


def _fleet() -> t.List[t.Dict[str, t.Any]]:
    """Options of a varied fleet: every covered (server OS, node type, version), phases, ports and peers."""
    fleet: t.List[t.Dict[str, t.Any]] = []
    kinds = itertools.product(pm.SERVER_OSES, pm.NODE_TYPES, ("7.2.1", "7.6.0", "8.0.0"),
                              (None, ["deployment"], ["deployment", "inventory"]), PORTS, (True, False))
    for index, (server_os, node_type, version, phases, ports, optional) in enumerate(kinds):
        column = plan.version_column(version)
        if pm.row_for(server_os, node_type, pm.PAGE_OF_COLUMN[column]) is None:
            continue
        options = dict(host_role="node", node_type=node_type, sum_server_os=server_os, sum_version=version,
                       phases=phases, optional_ports=optional, peers=SERVERS[index % len(SERVERS)],
                       addresses=["198.18.1.%d" % (index % 250), "2001:DB8::%X" % index][: 1 + index % 2],
                       sum_servers=["sum%d" % (index % 3)], **ports)
        fleet.append(options)
        if index % 7 == 0:
            peers = [{"address": "198.18.2.%d" % (i % 250), "node_type": nt, "name": "n%d" % i}
                     for i, nt in enumerate(pm.NODE_TYPES)
                     if pm.row_for(server_os, nt, pm.PAGE_OF_COLUMN[column]) is not None]
            fleet.append(dict(host_role="sum_server", sum_server_os=server_os, sum_version=version, phases=phases,
                              optional_ports=optional, peers=peers + peers[:2],
                              browser_sources=["198.18.0.0/24"] if index % 2 else [], **ports))
    return fleet


FLEET = _fleet()


def _fresh(options: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    plan.clear_cache()
    return plan.build_plan(options)


def test_fleet_is_varied() -> None:
    assert len(FLEET) > 500
    assert {o["host_role"] for o in FLEET} == {"node", "sum_server"}
    assert {o["node_type"] for o in FLEET if o["host_role"] == "node"} == set(pm.NODE_TYPES)


def test_cached_plans_equal_plans_built_from_scratch() -> None:
    expected = [_fresh(options) for options in FLEET]
    plan.clear_cache()
    for _round in range(2):  # the second round reuses every kind of the first
        assert [plan.build_plan(options) for options in FLEET] == expected


def test_node_rules_equal_the_rule_builders() -> None:
    """Each node's rules are node_rules' (the builder that merges the page's rows) with its peers."""
    plan.clear_cache()
    for options in FLEET:
        facts = plan.build_plan(options)
        ports = {key: facts[key] for key in ("http_port", "https_port", "ftp_port")}
        if facts["host_role"] == "node":
            peers = list(dict.fromkeys(str(ipaddress.ip_address(p)) for p in options["peers"]))
            assert facts["rules"] == plan.node_rules(facts["sum_server_os"], facts["node_type"],
                                                     facts["version_column"], facts["phases"], ports, peers,
                                                     options["optional_ports"])


def test_plans_share_no_mutable_part() -> None:
    plan.clear_cache()
    first = plan.build_plan(FLEET[0])
    pristine = copy.deepcopy(first)
    for rule in first["rules"]:
        rule["peers"].append("198.18.9.9")
        rule["phases"].clear()
    first["phases"].append("x")
    first["addresses"].append("198.18.9.9")
    assert plan.build_plan(FLEET[0]) == pristine
    vmware = next(o for o in FLEET if o.get("node_type") == "vmware")
    esxi = plan.build_plan(vmware)["esxi"]
    esxi["default_outbound_ports"].append(1)
    esxi["custom_rule_ports"].append(1)
    assert plan.build_plan(vmware)["esxi"] == _fresh(vmware)["esxi"]


@pytest.mark.parametrize("option,good,bad", [("http_port", 1, True), ("http_port", 63001, 63001.0),
                                             ("ftp_port", 1, True), ("optional_ports", True, 1)])
def test_a_cached_kind_never_stands_for_an_equal_value_of_another_type(option: str, good: t.Any, bad: t.Any) -> None:
    """True == 1 and 1.0 == 1, but neither is a port; 1 == True but is no boolean: still refused once cached."""
    options = {"host_role": "node", "node_type": "linux", "sum_server_os": "linux", "sum_version": "7.6.0",
               "peers": ["198.18.0.10"]}
    plan.build_plan(dict(options, **{option: good}))
    with pytest.raises(SumPortsError, match="^%s: " % option):
        plan.build_plan(dict(options, **{option: bad}))


def test_errors_name_the_host_after_the_kind_is_cached() -> None:
    options = {"host_role": "node", "node_type": "windows", "sum_server_os": "linux", "sum_version": "7.6.0",
               "peers": ["198.18.0.10"]}
    plan.build_plan(dict(options, node_type="linux"))
    for host in ("a", "b"):
        with pytest.raises(SumPortsError, match="host %s" % host):
            plan.build_plan(options, host=host)
    with pytest.raises(SumPortsError, match=r"^peers\[0\]: 'nope' is not an IP address"):
        plan.build_plan(dict(options, node_type="linux", peers=["nope"]))


def test_inventory_values_share_the_kinds_of_plain_values() -> None:
    """Ansible's tagged ints and strings (a YAML inventory's values since ansible-core 2.19) plan as plain ones do."""
    from ansible.parsing.dataloader import DataLoader

    loaded = DataLoader().load("""
hosts:
  - {host_role: node, node_type: linux, sum_server_os: linux, sum_version: 7.6.0, http_port: 8080, https_port: 8443,
     phases: [deployment], peers: [198.18.0.10, "2001:DB8::10"], addresses: [198.18.0.20]}
  - {host_role: node, node_type: vmware, sum_server_os: linux, sum_version: 7.6.0, http_port: 8080, https_port: 8443,
     phases: [deployment], peers: [198.18.0.10, "2001:DB8::10"]}
""")["hosts"]
    plain = [{k: v if isinstance(v, bool) else (int(v) if isinstance(v, int) else (
        [str(x) for x in v] if isinstance(v, list) else str(v))) for k, v in options.items()} for options in loaded]
    expected = [_fresh(options) for options in plain]
    plan.clear_cache()
    for options, facts in zip(loaded + loaded, expected + expected):
        assert plan.build_plan(options) == facts
    assert len(plan._KINDS) == 1 and len(plan._NODE_KINDS) == 2 and len(plan._NODE_PEERS) == 1
    assert [plan.build_plan(options) for options in plain] == expected
    assert len(plan._KINDS) == 1 and len(plan._NODE_KINDS) == 2 and len(plan._NODE_PEERS) == 1
    facts = plan.build_plan(loaded[0])
    assert {type(facts[k]) for k in ("http_port", "https_port")} == {int}
    assert {type(p) for rule in facts["rules"] for p in rule["peers"]} == {str}
