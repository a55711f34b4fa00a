"""The sum_validate filters as the role calls them: hostvars-like mappings in, plain data out."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from _fleet import GROUPS, HOSTVARS, fleet

from ansible_collections.hpsum.ports.plugins.filter.sum_validate import FilterModule

FILTERS = FilterModule().filters()


def _hostvars() -> dict:
    plans = fleet()
    return {h: dict(v, **({"sum_ports": plans[h]} if h in plans else {})) for h, v in HOSTVARS.items()}


def test_plan_then_report_round_trip() -> None:
    hostvars = _hostvars()
    hosts = list(GROUPS["all"])
    bundle = FILTERS["sum_validate_plan"](hostvars, hosts, GROUPS)
    assert set(bundle) == {"paths", "probes", "listen", "hosts"}
    assert bundle["listen"] == {"sum1": [63001, 63002]}
    assert sorted(bundle["probes"]) == ["esx1", "sum1"]
    json.dumps(bundle)
    # what the probe and listener tasks register, per host
    for source, targets in bundle["probes"].items():
        hostvars[source]["probe"] = {"results": [{"id": tg["id"], "state": "open", "reason": "connected",
                                                  "elapsed_ms": 1.0, "error": None} for tg in targets]}
    hostvars["sum1"]["listener"] = {"pid": 10, "ports": [63001, 63002], "busy": []}
    hostvars["lnx1"]["probe"] = {"skipped": True}
    report = FILTERS["sum_validate_report"](bundle, hostvars, hosts, "probe", "listener", {"run": 1})
    assert report["failed"] is False and report["meta"] == {"run": 1}
    assert FILTERS["sum_validate_failure"](report) == ""
    assert FILTERS["sum_validate_markdown"](report).startswith("# SUM port validation")
    assert ET.fromstring(FILTERS["sum_validate_junit"](report)).get("failures") == "0"


def test_a_sum_server_without_plan_takes_its_inventory_address() -> None:
    hostvars = _hostvars()
    del hostvars["sum1"]["sum_ports"]
    bundle = FILTERS["sum_validate_plan"](hostvars, ["esx1"], GROUPS)
    callbacks = [p for p in bundle["paths"] if p["kind"] == "callback" and p["source"] == "esx1"]
    assert {p["destination_address"] for p in callbacks} == {"198.18.0.100"}
    assert bundle["listen"] == {}  # the SUM server is not in the play: no listener there
    to_target = [p for p in bundle["paths"] if p["kind"] == "to_target"]
    assert to_target and all(not p["testable"] and "not in this play" in p["untested_reason"] for p in to_target)


def test_plans_found_under_ansible_facts_too() -> None:
    hostvars = _hostvars()
    for host in hostvars:
        if "sum_ports" in hostvars[host]:
            hostvars[host]["ansible_facts"] = {"sum_ports": hostvars[host].pop("sum_ports")}
    bundle = FILTERS["sum_validate_plan"](hostvars, list(GROUPS["all"]), GROUPS)
    assert len(bundle["paths"]) == 17
