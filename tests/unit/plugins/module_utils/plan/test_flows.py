"""Flows export: rows, CSV, Markdown, Mermaid from a small fleet's plans."""
from __future__ import annotations

import csv
import io

from ansible_collections.hpsum.ports.plugins.module_utils.plan import flows
from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import plan_args
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan

DEFAULTS = {"sum_plan_version": "7.2.1", "sum_plan_phases": ["inventory", "deployment"],
            "sum_plan_http_port": 63001, "sum_plan_https_port": 63002, "sum_plan_ftp_port": None,
            "sum_plan_browser_sources": ["198.18.0.0/28"], "sum_plan_optional_ports": True}
HOSTVARS = {
    "sum1": {"ansible_host": "198.18.0.10"},
    "lin1": {"ansible_host": "198.18.0.11", "sum_node_type": "linux"},
    "int1": {"ansible_host": "198.18.0.41", "sum_mgmt_address": "198.18.0.141", "sum_node_type": "hpux"},
    "ilo1": {"ansible_host": "198.18.0.30", "sum_node_type": "ilo"},
}
GROUPS = {"all": list(HOSTVARS), "sum_servers": ["sum1"]}
GROUP_NAMES = {"sum1": ["sum_servers"], "lin1": ["linux_nodes"], "int1": ["hpux_nodes"], "ilo1": ["management"]}


def _plans() -> dict:
    return {h: build_plan(plan_args(h, HOSTVARS, GROUPS, DEFAULTS)) for h in HOSTVARS}


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
    assert ("sum1", "127.0.0.1", "sum1", "127.0.0.1", "tcp", 63002) in keys, "rule 1"
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
