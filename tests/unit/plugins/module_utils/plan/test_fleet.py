"""The fleet model: hosts, addresses and typed connections built once from the plans."""
from __future__ import annotations

import typing as t

import pytest
from _fleet import fleet, proxied_fleet

from ansible_collections.hpsum.ports.plugins.module_utils.plan import fleet as fm


@pytest.fixture(scope="module")
def model() -> fm.Fleet:
    return fm.Fleet(fleet())


def _ends(conns: t.Iterable[fm.Connection]) -> t.Set[t.Tuple[str, str, str, str, str, int]]:
    return {(c.kind, c.source, c.source_address, c.destination, c.destination_address, c.port) for c in conns}


def test_hosts_and_owners(model: fm.Fleet) -> None:
    assert model.hosts["hpux1"] == fm.Host("hpux1", "node", "hpux", ("198.18.0.104", "198.18.0.105"), ("sum1",))
    assert model.hosts["sum1"].role == "sum_server" and model.hosts["sum1"].node_type is None
    assert model.owner["198.18.0.105"] == "hpux1"  # the management address is the node's too
    assert [h.name for h in model.nodes()] == ["lnx1", "esx1", "ilo1", "hpux1"]


def test_a_nodes_connections_every_address_both_directions(model: fm.Fleet) -> None:
    assert _ends(model.node_connections("hpux1")) == {
        ("to_target", "sum1", "198.18.0.100", "hpux1", "198.18.0.104", 22),
        ("to_target", "sum1", "198.18.0.100", "hpux1", "198.18.0.105", 22),
        ("callback", "hpux1", "198.18.0.104", "sum1", "198.18.0.100", 63001),
        ("callback", "hpux1", "198.18.0.105", "sum1", "198.18.0.100", 63001),
        ("callback", "hpux1", "198.18.0.104", "sum1", "198.18.0.100", 63002),
        ("callback", "hpux1", "198.18.0.105", "sum1", "198.18.0.100", 63002),
    }
    mgmt = [c for c in model.node_connections("hpux1") if c.destination_address == "198.18.0.105"]
    assert {(c.address_index, c.node, c.planned_on, c.peer_address) for c in mgmt} == {
        (1, "hpux1", "hpux1", "198.18.0.100")}
    assert model.node_connections("sum1") == [] and model.node_connections("nobody") == []


def test_each_connection_keeps_its_rule_and_its_own_reason(model: fm.Fleet) -> None:
    esx_https = next(c for c in model.node_connections("esx1") if c.port == 63002)
    rule = model.rule_of(esx_https)
    assert (rule["direction"], rule["port"], rule["required"]) == ("out", 63002, False)  # rule 7: not required
    assert (esx_https.required, esx_https.phases) == (False, tuple(rule["phases"]))
    # The SUM server's mirror rule merges every node type's reason; each connection keeps its own peer's part.
    server_side = [c for c in model.connections if c.planned_on == "sum1" and c.port == 63001]
    assert {c.source: c.reason for c in server_side} == {
        "esx1": "from target: VMware node -> SUM server (SUM HTTP port)",
        "ilo1": "from target: iLO node -> SUM server (SUM HTTP port)",
        "hpux1": "from target: HP-UX node -> SUM server (SUM HTTP port)",
    }
    assert "; " in model.rule_of(server_side[0])["reason"]
    assert {c.origin for c in server_side} == {"row"}


def test_loopback_is_rule_1_and_only_ipv4_is_required(model: fm.Fleet) -> None:
    loop = [c for c in model.connections if c.kind == fm.LOOPBACK]
    assert [(c.source, c.source_address, c.destination_address, c.port, c.required) for c in loop] == [
        ("sum1", "127.0.0.1", "127.0.0.1", 63002, True), ("sum1", "::1", "::1", 63002, False)]
    assert all(c.origin == "rule 1" and c.reason.startswith("rule 1:") and c.node is None for c in loop)


def test_a_source_that_is_no_host_is_a_browser() -> None:
    model = fm.Fleet(fleet(defaults={"sum_plan_browser_sources": ["198.18.9.0/24"]}))
    browsers = [c for c in model.connections if c.kind == fm.BROWSER]
    assert _ends(browsers) == {("browser", "198.18.9.0/24", "198.18.9.0/24", "sum1", "198.18.0.100", p)
                               for p in (63001, 63002)}
    assert {(c.origin, c.node) for c in browsers} == {("rule 4", None)}


def test_nodes_connections_come_first_and_a_missing_plan_leaves_addresses_unnamed() -> None:
    plans = fleet()
    model = fm.Fleet(plans)
    first_server = next(i for i, c in enumerate(model.connections) if c.planned_on == "sum1")
    assert all(c.planned_on != "sum1" for c in model.connections[:first_server])
    assert all(c.planned_on == "sum1" for c in model.connections[first_server:])
    alone = fm.Fleet({"lnx1": plans["lnx1"]})  # the SUM server is not planned: its address stays an address
    assert _ends(alone.connections) == {("to_target", "198.18.0.100", "198.18.0.100", "lnx1", "198.18.0.101", 22)}


def test_a_processors_proxy_is_a_validation_only_connection_with_the_processors_phases() -> None:
    model = fm.Fleet(proxied_fleet())
    proxied = [c for c in model.connections if c.kind == fm.PROXY]
    assert _ends(proxied) == {("proxy", "px1", "198.18.0.120", "sum1", "198.18.0.100", 63001)}
    conn = proxied[0]
    ilo_callback = next(c for c in model.node_connections("ilo1") if c.kind == fm.CALLBACK)
    assert (conn.node, conn.required, conn.phases) == ("ilo1", False, ilo_callback.phases)
    assert conn.reason == ("validation only: proxy px1 (198.18.0.120) stands in for ilo1 (iLO) on its callbacks "
                           "(sum_validate_proxy)")
    assert "px1" not in model.hosts  # the proxy needs no plan of its own
    # The iLO's own part of the SUM server's merged reason leaves the proxy's out.
    server_ilo = next(c for c in model.connections if c.planned_on == "sum1" and c.source == "ilo1")
    assert server_ilo.reason == "from target: iLO node -> SUM server (SUM HTTP port)"
