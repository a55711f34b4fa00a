"""Flows export: rows, CSV, Markdown, Mermaid from a small fleet's plans."""
from __future__ import annotations

import csv
import io

from _fleet import fleet, groups_of, proxied_fleet

from ansible_collections.hpsum.ports.plugins.module_utils.plan import flows
from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import plan_args, settings_from_variables
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan

DEFAULTS = {"sum_plan_version": "7.2.1", "sum_plan_phases": ["inventory", "deployment"],
            "sum_plan_http_port": 63001, "sum_plan_https_port": 63002, "sum_plan_ftp_port": None,
            "sum_plan_browser_sources": ["198.18.0.0/28"], "sum_plan_optional_ports": True}
SETTINGS = settings_from_variables(DEFAULTS)
HOSTVARS = {
    "sum1": {"ansible_host": "198.18.0.10"},
    "lin1": {"ansible_host": "198.18.0.11", "sum_node_type": "linux"},
    "int1": {"ansible_host": "198.18.0.41", "sum_mgmt_address": "198.18.0.141", "sum_node_type": "hpux"},
    "ilo1": {"ansible_host": "198.18.0.30", "sum_node_type": "ilo"},
}
GROUPS = {"all": list(HOSTVARS), "sum_servers": ["sum1"]}
GROUP_NAMES = {"sum1": ["sum_servers"], "lin1": ["linux_nodes"], "int1": ["hpux_nodes"], "ilo1": ["management"]}


def _plans() -> dict:
    return {h: build_plan(plan_args(h, HOSTVARS, GROUPS, SETTINGS)) for h in HOSTVARS}


def _keys(rows: list) -> set:
    return {(r["source"], r["source_address"], r["destination"], r["destination_address"], r["protocol"], r["port"])
            for r in rows}


def test_rows_cover_both_directions_each_address_and_server_rules() -> None:
    rows = flows.flow_rows(_plans(), GROUP_NAMES)
    keys = _keys(rows)
    assert ("sum1", "198.18.0.10", "lin1", "198.18.0.11", "tcp", 22) in keys
    assert ("lin1", "198.18.0.11", "sum1", "198.18.0.10", "tcp", 63001) in keys
    assert ("sum1", "198.18.0.10", "int1", "198.18.0.141", "tcp", 22) in keys, "rule 8: the management address"
    assert ("int1", "198.18.0.141", "sum1", "198.18.0.10", "tcp", 63002) in keys
    # rule 1's loopback flows never cross a network firewall: not for the network team
    assert not [k for k in keys if k[1] in ("127.0.0.1", "::1") or k[3] in ("127.0.0.1", "::1")]
    # one reason per flow: a node's callback carries its own row's reason, not the SUM server's merged one
    https = [r for r in rows if r["port"] == 63002]
    assert https and all(";" not in r["reason"] for r in https), [r["reason"] for r in https]
    assert ("198.18.0.0/28", "198.18.0.0/28", "sum1", "198.18.0.10", "tcp", 63001) in keys, "rule 4"
    optional = [r for r in rows if r["port"] == 80]
    assert optional and all(r["required"] is False and r["group"] == "management" for r in optional)
    assert len(keys) == len(rows), "no duplicate rows"
    ilo_callback = [r for r in rows if r["source"] == "ilo1" and r["port"] == 63001]
    assert ilo_callback[0]["phases"] == ["deployment"]


def test_csv_and_markdown_render_every_row() -> None:
    rows = flows.flow_rows(_plans(), GROUP_NAMES)
    parsed = list(csv.DictReader(io.StringIO(flows.to_csv(rows))))
    assert len(parsed) == len(rows) and list(parsed[0]) == list(flows.COLUMNS)
    assert {r["required"] for r in parsed} == {"yes", "no"}
    markdown = flows.to_markdown(rows).splitlines()
    assert len(markdown) == len(rows) + 2 and markdown[1].count("---") == len(flows.COLUMNS)


def test_mermaid_has_servers_groups_and_port_labels() -> None:
    text = flows.to_mermaid(flows.flow_rows(_plans(), GROUP_NAMES), ["sum1"])
    assert text.startswith("flowchart LR\n")
    assert 'n_sum1[["sum1"]]' in text and 'n_linux_nodes("linux_nodes")' in text
    assert 'n_sum1 -->|"22/tcp"| n_linux_nodes' in text
    assert 'n_management -->|"63001/tcp"| n_sum1' in text
    assert '80/tcp?' in text


def test_manual_steps_give_each_hpux_node_ipfilter_lines() -> None:
    text = flows.manual_steps(_plans())
    assert "for int1 (HP-UX IPFilter)" in text
    assert "pass in quick proto tcp from 198.18.0.10/32 to any port = 22 keep state" in text
    assert "lin1" not in text and "ilo1" not in text


def test_change_request_one_row_per_flow_ipv4_and_ipv6_apart() -> None:
    hostvars = dict(HOSTVARS, lin6={"ansible_host": "2001:db8::16", "sum_node_type": "linux"},
                    sum1={"ansible_host": "198.18.0.10", "sum_mgmt_address": "2001:db8::10"})
    groups = {"all": list(hostvars), "sum_servers": ["sum1"]}
    plans = {h: build_plan(plan_args(h, hostvars, groups, SETTINGS)) for h in hostvars}
    rows = flows.flow_rows(plans, GROUP_NAMES)
    text = flows.change_request_csv(rows, "accept", "2026-12-02T22:00:00Z")
    table = list(csv.DictReader(io.StringIO(text)))
    assert tuple(table[0]) == flows.CHANGE_REQUEST_COLUMNS
    assert {r["action"] for r in table} == {"accept"}
    assert {r["expiry"] for r in table} == {"2026-12-02T22:00:00Z"}
    families = [":" in r["source_address"] for r in table]
    assert families == sorted(families), "IPv4 rows first, then IPv6"
    for row in table:
        assert (":" in row["source_address"]) == (":" in row["destination_address"]), row
    ssh = [r for r in table if r["destination_name"] == "lin1" and r["port"] == "22"]
    assert [(r["source_name"], r["source_address"], r["destination_address"], r["protocol"]) for r in ssh] == [
        ("sum1", "198.18.0.10", "198.18.0.11", "tcp")]
    assert ssh[0]["justification"] == "HPE SUM to target: SUM server -> Linux node (22)"
    assert ssh[0]["phases"] == "inventory deployment"
    assert ssh[0]["request_id"] == flows.request_id("198.18.0.10", "198.18.0.11", "tcp", 22)
    assert len({r["request_id"] for r in table}) == len(table), "one id per flow"
    assert [r for r in table if r["destination_name"] == "lin6" and r["source_address"] == "2001:db8::10"]
    assert not [r for r in table if "127.0.0.1" in r["source_address"]]
    removal = list(csv.DictReader(io.StringIO(flows.change_request_csv(rows, "remove"))))
    assert {r["action"] for r in removal} == {"remove"} and {r["expiry"] for r in removal} == {""}
    assert [r["request_id"] for r in removal] == [r["request_id"] for r in table]


def test_change_request_rejects_an_unknown_action() -> None:
    import pytest

    with pytest.raises(ValueError, match="action: 'open' is not one of accept, remove"):
        flows.change_request_rows([], "open")


def test_a_processors_proxy_is_a_validation_only_flow() -> None:
    rows = flows.flow_rows(proxied_fleet(), groups_of())
    proxied = [r for r in rows if r["group"] == flows.PROXY_GROUP]
    assert [(r["source"], r["source_address"], r["destination"], r["port"], r["required"]) for r in proxied] == [
        ("px1", "198.18.0.120", "sum1", 63001, False)]
    assert proxied[0]["reason"].startswith("validation only: proxy px1 (198.18.0.120) stands in for ilo1 (iLO)")
    request = flows.change_request_rows(proxied)
    assert request[0]["justification"].startswith("HPE SUM validation only: proxy px1") \
        and request[0]["justification"].endswith("(optional)")
    # Every other row is the fleet's without the proxy.
    assert [r for r in rows if r["group"] != flows.PROXY_GROUP] == flows.flow_rows(fleet(), groups_of())
