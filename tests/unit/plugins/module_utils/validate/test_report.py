"""validate.report: plans -> paths; results -> report, fix hints, Markdown, JUnit, failure message."""
from __future__ import annotations

import json
import typing as t
import xml.etree.ElementTree as ET

import pytest
from _fleet import GROUPS, HOSTVARS, fleet, groups_of

from ansible_collections.hpsum.ports.plugins.module_utils.validate import report as vr

SERVERS = {"sum1": ["198.18.0.100"]}


@pytest.fixture(scope="module")
def plans() -> t.Dict[str, t.Dict[str, t.Any]]:
    return fleet()


@pytest.fixture(scope="module")
def paths(plans: t.Dict[str, t.Dict[str, t.Any]]) -> t.List[t.Dict[str, t.Any]]:
    return vr.plan_paths(plans, SERVERS, groups_of(), list(plans))


def _by_id(paths: t.Sequence[t.Mapping[str, t.Any]]) -> t.Dict[str, t.Mapping[str, t.Any]]:
    return {p["id"]: p for p in paths}


def test_paths_cover_to_target_callbacks_mgmt_address_and_loopback(paths: t.List[t.Dict[str, t.Any]]) -> None:
    got = {(p["id"], p["kind"], p["required"], p["testable"]) for p in paths}
    assert got == {
        ("sum1>lnx1@198.18.0.101:22/tcp", "to_target", True, True),
        ("sum1>esx1@198.18.0.102:443/tcp", "to_target", True, True),
        ("sum1>esx1@198.18.0.102:5989/tcp", "to_target", True, True),
        ("esx1>sum1@198.18.0.100:63001/tcp", "callback", True, True),
        ("esx1>sum1@198.18.0.100:63002/tcp", "callback", False, True),  # rule 7: opened, not required
        ("sum1>ilo1@198.18.0.103:22/tcp", "to_target", True, True),
        ("sum1>ilo1@198.18.0.103:80/tcp", "to_target", False, True),  # (80) is optional
        ("sum1>ilo1@198.18.0.103:443/tcp", "to_target", True, True),
        ("ilo1>sum1@198.18.0.100:63001/tcp", "callback", True, False),  # never logged into
        ("sum1>hpux1@198.18.0.104:22/tcp", "to_target", True, True),
        ("sum1>hpux1@198.18.0.105:22/tcp", "to_target", True, True),  # rule 8: management address too
        ("hpux1>sum1@198.18.0.100:63001/tcp", "callback", True, False),
        ("hpux1>sum1@198.18.0.100:63001/tcp<198.18.0.105", "callback", True, False),
        ("hpux1>sum1@198.18.0.100:63002/tcp", "callback", True, False),
        ("hpux1>sum1@198.18.0.100:63002/tcp<198.18.0.105", "callback", True, False),
        ("sum1>sum1@127.0.0.1:63002/tcp", "loopback", True, True),  # rule 1
        ("sum1>sum1@::1:63002/tcp", "loopback", False, True),
    }
    paths_by_id = _by_id(paths)
    assert paths_by_id["sum1>hpux1@198.18.0.105:22/tcp"]["address_kind"] == "management"
    assert paths_by_id["ilo1>sum1@198.18.0.100:63001/tcp"]["untested_reason"].startswith(
        "ilo1 is a management processor (iLO)")
    assert "HP-UX" in paths_by_id["hpux1>sum1@198.18.0.100:63001/tcp"]["untested_reason"]
    assert paths_by_id["sum1>lnx1@198.18.0.101:22/tcp"]["groups"] == ["web"]


def test_one_probe_request_per_source_and_listener_ports(paths: t.List[t.Dict[str, t.Any]]) -> None:
    requests = vr.probe_requests(paths)
    assert sorted(requests) == ["esx1", "sum1"]
    assert [(r["address"], r["port"]) for r in requests["esx1"]] == [("198.18.0.100", 63001), ("198.18.0.100", 63002)]
    assert len(requests["sum1"]) == 10
    assert all("source" not in r for r in requests["sum1"])
    assert vr.listen_requests(paths) == {"sum1": [63001, 63002]}


def test_callback_from_a_management_address_binds_the_source() -> None:
    hostvars = dict(HOSTVARS, lnx2={"ansible_host": "198.18.0.106", "sum_node_type": "vmware",
                                    "sum_mgmt_address": "198.18.0.107"})
    groups = dict(GROUPS, all=[*GROUPS["all"], "lnx2"], web=[*GROUPS["web"], "lnx2"])
    plans = fleet(hostvars, groups)
    paths = vr.plan_paths(plans, SERVERS, groups_of(groups), list(plans))
    targets = vr.probe_requests(paths)["lnx2"]
    expected = {(63001, None), (63001, "198.18.0.107"), (63002, None), (63002, "198.18.0.107")}
    assert {(r["port"], r.get("source")) for r in targets} == expected


def test_windows_sources_and_hosts_outside_the_play_are_untested() -> None:
    hostvars = {"win-sum": {"ansible_host": "198.18.0.110", "ansible_connection": "winrm"},
                "win1": {"ansible_host": "198.18.0.111", "sum_node_type": "windows"},
                "lnx1": {"ansible_host": "198.18.0.112", "sum_node_type": "linux"}}
    groups = {"all": list(hostvars), "sum_servers": ["win-sum"], "fleet": ["win1", "lnx1"]}
    plans = fleet(hostvars, groups, {"sum_plan_version": "7.2.1"})
    paths = vr.plan_paths(plans, {"win-sum": ["198.18.0.110"]}, groups_of(groups), ["win-sum", "win1"],
                          {"win-sum": "winrm"})
    by_id = _by_id(paths)
    to_win = by_id["win-sum>win1@198.18.0.111:445/tcp"]
    assert not to_win["testable"] and "Windows SUM server" in to_win["untested_reason"]
    udp = by_id["win-sum>win1@198.18.0.111:137/udp"]
    assert udp["protocol"] == "udp"
    callback = by_id["win1>win-sum@198.18.0.110:63001/tcp"]
    assert not callback["testable"] and "has no WinRM connection" in callback["untested_reason"]
    from_lnx = by_id["lnx1>win-sum@198.18.0.110:63001/tcp"]
    assert not from_lnx["testable"] and "not in this play" in from_lnx["untested_reason"]
    assert vr.listen_requests(paths) == {}  # no listener on a Windows SUM server


def _result(path_id: str, state: str, reason: str, error: t.Optional[str] = None) -> t.Dict[str, t.Any]:
    return {"id": path_id, "state": state, "reason": reason, "error": error, "elapsed_ms": 1.0}


def _results(paths: t.Sequence[t.Mapping[str, t.Any]],
             overrides: t.Mapping[str, t.Tuple[str, str]]) -> t.Dict[str, t.Dict[str, t.Any]]:
    """port_probe results per source host: every testable path open unless overridden."""
    probes: t.Dict[str, t.Dict[str, t.Any]] = {}
    for source, targets in vr.probe_requests(paths).items():
        probes[source] = {"results": [_result(tg["id"], *overrides.get(tg["id"], ("open", "connected")))
                                      for tg in targets]}
    return probes


LISTENERS = {"sum1": {"pid": 4242, "ports": [63001, 63002], "busy": []}}


def test_all_open_passes(paths: t.List[t.Dict[str, t.Any]], plans: t.Dict[str, t.Any]) -> None:
    report = vr.build_report(paths, _results(paths, {}), plans, LISTENERS)
    assert report["failed"] is False
    assert report["summary"]["open"] == 12
    assert report["summary"]["untested"] == 5
    assert report["summary"]["failed_required"] == 0
    assert vr.failure_message(report) == ""
    assert list(report["groups"]) == ["web", "mgmt", "integrity", "sum_servers"]
    assert report["listeners"] == {"sum1": {"pid": 4242, "ports": [63001, 63002], "busy": []}}
    json.dumps(report)  # serialisable as is


@pytest.mark.parametrize(
    ("path_id", "outcome", "failed", "fix_parts"),
    [
        ("sum1>lnx1@198.18.0.101:22/tcp", ("filtered", "timeout"), True,
         ["dropped (no answer)", "the firewall on lnx1 (open 22/tcp from 198.18.0.100 on lnx1's firewall",
          "a network firewall between sum1 and lnx1: request the flow 198.18.0.100 -> 198.18.0.101 tcp/22"]),
        ("sum1>lnx1@198.18.0.101:22/tcp", ("closed", "refused"), True,
         ["nothing listens on lnx1 (198.18.0.101) port 22/tcp: start SSH (sshd) there",
          "or the firewall on lnx1 rejects it (REJECT: open 22/tcp from 198.18.0.100 on lnx1's firewall",
          "the firewall on sum1 itself blocking it outbound (allow 22/tcp out to 198.18.0.101 there)"]),
        ("sum1>lnx1@198.18.0.101:22/tcp", ("filtered", "host unreachable"), True,
         ["rejected with an ICMP unreachable", "request the flow 198.18.0.100 -> 198.18.0.101 tcp/22"]),
        ("esx1>sum1@198.18.0.100:63001/tcp", ("closed", "refused"), True,
         ["sum1 (198.18.0.100) was listening on 63001/tcp (port_listener, pid 4242)",
          "the firewall on sum1 rejects it", "open 63001/tcp from 198.18.0.102 on sum1's firewall",
          "the firewall on esx1 itself blocking it outbound"]),
        ("esx1>sum1@198.18.0.100:63001/tcp", ("filtered", "blocked on source"), True,
         ["esx1 refused to send it (a prohibit route or a local policy on esx1)",
          "flow 198.18.0.102 -> 198.18.0.100 tcp/63001"]),
        ("esx1>sum1@198.18.0.100:63001/tcp", ("filtered", "timeout"), True,
         ["dropped (no answer): the firewall on sum1 (open 63001/tcp from 198.18.0.102 on sum1's firewall",
          "the firewall on esx1 itself blocking it outbound (allow 63001/tcp out to 198.18.0.100 there; ESXi: the "
          "custom outbound rule, hpsum.ports.esxi_firewall_rule, rule 7)",
          "request the flow 198.18.0.102 -> 198.18.0.100 tcp/63001"]),
        ("esx1>sum1@198.18.0.100:63002/tcp", ("filtered", "timeout"), False, ["the firewall on sum1"]),
        ("sum1>ilo1@198.18.0.103:443/tcp", ("closed", "refused"), True,
         ["start HTTPS", "the iLO's own firewall is not ours to change",
          "Or update ilo1 through its web interface (rule 9)"]),
        ("sum1>ilo1@198.18.0.103:80/tcp", ("filtered", "timeout"), False, ["request the flow"]),
        ("sum1>sum1@127.0.0.1:63002/tcp", ("filtered", "timeout"), True, ["the firewall on sum1"]),
        ("sum1>hpux1@198.18.0.105:22/tcp", ("filtered", "network unreachable"), True,
         ["sum1 has no route to 198.18.0.105"]),
    ],
)
def test_broken_path_state_and_fix(paths: t.List[t.Dict[str, t.Any]], plans: t.Dict[str, t.Any], path_id: str,
                                   outcome: t.Tuple[str, str], failed: bool, fix_parts: t.List[str]) -> None:
    report = vr.build_report(paths, _results(paths, {path_id: outcome}), plans, LISTENERS)
    row = _by_id(report["paths"])[path_id]
    assert (row["state"], row["state_reason"]) == outcome
    assert row["failed"] is failed
    assert report["failed"] is failed
    for part in fix_parts:
        assert part in row["fix"]
    message = vr.failure_message(report, "/tmp/report")
    if failed:
        assert message.startswith("1 required SUM path(s) broken:")
        assert row["fix"] in message
        assert vr.RULE_9 in message
        assert message.endswith("Report: /tmp/report")
    else:
        assert message == ""
        assert report["summary"]["broken_optional"] == 1


def test_busy_port_owner_named_and_missing_results_are_errors(paths: t.List[t.Dict[str, t.Any]],
                                                              plans: t.Dict[str, t.Any]) -> None:
    probes = _results(paths, {"esx1>sum1@198.18.0.100:63001/tcp": ("closed", "refused")})
    probes["sum1"] = {"failed": True, "msg": "boom", "unreachable": True}
    listeners = {"sum1": {"pid": 7, "ports": [63002],
                          "busy": [{"port": 63001, "owners": [{"pid": 99, "program": "hpsum_service"}]}]}}
    report = vr.build_report(paths, probes, plans, listeners)
    rows = _by_id(report["paths"])
    assert "already in use by hpsum_service (pid 99)" in rows["esx1>sum1@198.18.0.100:63001/tcp"]["fix"]
    lnx = rows["sum1>lnx1@198.18.0.101:22/tcp"]
    assert (lnx["state"], lnx["failed"]) == ("error", True)
    assert lnx["error"] == "no probe result from sum1 (boom)"
    assert report["summary"]["error"] == 10


def test_udp_results_are_untested_not_passed() -> None:
    path = {"id": "x", "kind": vr.TO_TARGET, "source": "s", "destination": "d", "port": 137, "protocol": "udp",
            "source_address": None, "destination_address": "198.18.0.9", "required": True, "testable": True,
            "untested_reason": None, "listener": False, "node": "d", "groups": ["g"], "address_kind": "production"}
    udp = _result("x", "untested", "udp", "a TCP connect cannot prove a UDP port")
    report = vr.build_report([path], {"s": {"results": [udp]}}, {})
    row = report["paths"][0]
    assert (row["state"], row["failed"], row["fix"]) == ("untested", False, "a TCP connect cannot prove a UDP port")
    assert report["failed"] is False


def test_markdown_matrix_per_group(paths: t.List[t.Dict[str, t.Any]], plans: t.Dict[str, t.Any]) -> None:
    report = vr.build_report(paths, _results(paths, {"sum1>lnx1@198.18.0.101:22/tcp": ("filtered", "timeout"),
                                                     "sum1>ilo1@198.18.0.103:80/tcp": ("closed", "refused")}),
                             plans, LISTENERS)
    text = vr.render_markdown(report)
    assert text.startswith("# SUM port validation\n")
    assert "**FAILED**: 17 paths; 10 open, 1 closed, 1 filtered, 0 error, 5 untested; 1 required paths broken, " \
           "1 optional paths broken." in text
    lines = text.splitlines()
    web = lines.index("## web")
    assert lines[web + 2] == ("| node | SUM -> node 22/tcp | SUM -> node 443/tcp | SUM -> node 5989/tcp | "
                              "node -> SUM 63001/tcp | node -> SUM 63002/tcp |")
    assert lines[web + 4] == "| lnx1 | **filtered** |  |  |  |  |"
    assert lines[web + 5] == "| esx1 |  | open | open | open | open (optional) |"
    assert "| ilo1 | open | closed (optional) | open | untested |" in lines
    integrity = lines.index("## integrity")
    assert "SUM -> node 22/tcp (mgmt)" in lines[integrity + 2]
    assert "| sum1 | open | open (optional) |" in lines
    assert "## Broken paths" in lines and "## Untested paths (never counted as passed)" in lines
    assert vr.RULE_9 in lines


def test_junit_parses_and_counts(paths: t.List[t.Dict[str, t.Any]], plans: t.Dict[str, t.Any]) -> None:
    report = vr.build_report(paths, _results(paths, {"sum1>lnx1@198.18.0.101:22/tcp": ("filtered", "timeout"),
                                                     "sum1>ilo1@198.18.0.103:80/tcp": ("closed", "refused")}),
                             plans, LISTENERS)
    root = ET.fromstring(vr.render_junit(report))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("17", "1", "6")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["web", "mgmt", "integrity", "sum_servers"]
    failures = root.findall(".//failure")
    assert len(failures) == 1
    assert failures[0].get("type") == "filtered"
    assert "request the flow 198.18.0.100 -> 198.18.0.101 tcp/22" in failures[0].text
    case = root.find(".//testcase[@classname='sum_validate.web.lnx1']")
    assert case is not None and case.get("name") == "sum1 -> lnx1 198.18.0.101 22/tcp"
    skipped = [s.get("message") for s in root.findall(".//skipped")]
    assert any(m.startswith("optional path closed") for m in skipped)
    assert sum(1 for m in skipped if m.startswith("untested")) == 5


def test_a_node_in_two_groups_is_reported_in_both(plans: t.Dict[str, t.Any]) -> None:
    groups = dict(GROUPS, linux_fleet=["lnx1"])
    paths = vr.plan_paths(plans, SERVERS, groups_of(groups), list(plans))
    report = vr.build_report(paths, _results(paths, {}), plans, LISTENERS)
    assert report["groups"]["linux_fleet"] == ["lnx1"]
    assert "lnx1" in report["groups"]["web"]
    root = ET.fromstring(vr.render_junit(report))
    assert len(root.findall(".//testcase[@classname='sum_validate.linux_fleet.lnx1']")) == 1


def test_two_sum_servers_each_prove_their_paths() -> None:
    hostvars = dict(HOSTVARS, sum2={"ansible_host": "198.18.0.110"})
    groups = dict(GROUPS, all=[*GROUPS["all"], "sum2"], sum_servers=["sum1", "sum2"])
    plans = fleet(hostvars, groups)
    servers = {"sum1": ["198.18.0.100"], "sum2": ["198.18.0.110"]}
    paths = vr.plan_paths(plans, servers, groups_of(groups), list(plans))
    assert vr.listen_requests(paths) == {"sum1": [63001, 63002], "sum2": [63001, 63002]}
    assert sorted((tg["address"], tg["port"]) for tg in vr.probe_requests(paths)["esx1"]) == [
        ("198.18.0.100", 63001), ("198.18.0.100", 63002), ("198.18.0.110", 63001), ("198.18.0.110", 63002)]
    report = vr.build_report(paths, _results(paths, {"sum2>lnx1@198.18.0.101:22/tcp": ("filtered", "timeout")}),
                             plans, dict(LISTENERS, sum2={"pid": 5, "ports": [63001, 63002], "busy": []}))
    lines = vr.render_markdown(report).splitlines()
    assert "| lnx1 | sum1: open<br>sum2: **filtered** |  |  |  |  |" in lines
    assert "| esx1 |  | sum1: open<br>sum2: open | sum1: open<br>sum2: open | sum1: open<br>sum2: open | " \
           "sum1: open (optional)<br>sum2: open (optional) |" in lines
    assert vr.failure_message(report).startswith("1 required SUM path(s) broken:\n- [web] sum2 -> lnx1")


def _open_results(paths: t.Sequence[t.Mapping[str, t.Any]], **extra: t.Any) -> t.Dict[str, t.Dict[str, t.Any]]:
    return {source: {"results": [dict(_result(tg["id"], "open", "connected"), **extra) for tg in targets]}
            for source, targets in vr.probe_requests(paths).items()}


def test_a_proxy_proves_a_management_processors_callback(plans: t.Dict[str, t.Any]) -> None:
    paths = vr.plan_paths(plans, SERVERS, groups_of(), [*plans, "px1"], proxies={"ilo1": "px1", "lnx1": "px1"})
    by_id = _by_id(paths)
    callback = by_id["ilo1>sum1@198.18.0.100:63001/tcp"]
    assert (callback["testable"], callback["proxy"], callback["probe_host"]) == (True, "px1", "px1")
    assert by_id["sum1>ilo1@198.18.0.103:443/tcp"]["proxy"] is None  # to-target paths are proven from SUM
    requests = vr.probe_requests(paths)
    assert [(r["id"], r.get("source")) for r in requests["px1"]] == [("ilo1>sum1@198.18.0.100:63001/tcp", None)]
    report = vr.build_report(paths, _open_results(paths), plans, LISTENERS)
    row = _by_id(report["paths"])["ilo1>sum1@198.18.0.100:63001/tcp"]
    assert row["state"] == "open"
    markdown = vr.render_markdown(report)
    assert "open (via proxy px1)" in markdown
    broken = vr.build_report(paths, _results(paths, {callback["id"]: ("filtered", "timeout")}), plans, LISTENERS)
    fix = _by_id(broken["paths"])[callback["id"]]["fix"]
    assert fix.startswith("px1, standing in for ilo1, could not reach sum1 (198.18.0.100) on 63001/tcp: filtered")
    assert "request the flow" in fix
    assert "filtered (via proxy px1)" in vr.failure_message(broken)


def test_without_a_proxy_or_with_one_outside_the_play_the_callback_stays_untested(plans: t.Dict[str, t.Any]) -> None:
    paths = vr.plan_paths(plans, SERVERS, groups_of(), list(plans), proxies={"ilo1": "px1"})
    callback = _by_id(paths)["ilo1>sum1@198.18.0.100:63001/tcp"]
    assert not callback["testable"]
    assert callback["untested_reason"].startswith("ilo1's proxy px1 (sum_validate_proxy) is not in this play")
    report = vr.build_report(paths, _open_results(paths), plans, LISTENERS)
    assert "(via proxy" not in vr.render_markdown(report)


def test_a_callback_from_an_unplanned_source_address_fails_with_both_fixes(
        paths: t.List[t.Dict[str, t.Any]], plans: t.Dict[str, t.Any]) -> None:
    probes = _open_results(paths, local_address="198.18.0.102")
    probes["esx1"]["results"][0]["local_address"] = "198.18.0.120"
    report = vr.build_report(paths, probes, plans, LISTENERS)
    row = _by_id(report["paths"])["esx1>sum1@198.18.0.100:63001/tcp"]
    assert row["state"] == "open" and row["failed"] and report["failed"]
    assert row["source_mismatch"]["used"] == "198.18.0.120"
    assert row["source_mismatch"]["planned"] == ["198.18.0.102"]
    assert "esx1 reached sum1 (198.18.0.100) from 198.18.0.120, which is not a planned address of esx1" in row["fix"]
    assert "plan 198.18.0.120 as esx1's management address (sum_mgmt_address: 198.18.0.120" in row["fix"]
    assert "route esx1's traffic to 198.18.0.100 from 198.18.0.102" in row["fix"]
    assert "open from 198.18.0.120 (not planned)" in vr.render_markdown(report)
    ok = _by_id(report["paths"])["esx1>sum1@198.18.0.100:63002/tcp"]
    assert ok["source_mismatch"] is None and not ok["broken"]


@pytest.mark.parametrize(
    ("outcome", "extra", "fix_start"),
    [
        (("filtered", "administratively prohibited"), {"offender": "198.18.0.101"},
         "rejected with an ICMP administratively prohibited by lnx1 itself: the firewall on lnx1"),
        (("filtered", "administratively prohibited"), {"offender": "198.18.0.97"},
         "rejected with an ICMP administratively prohibited by 198.18.0.97, between sum1 and lnx1: a network "
         "firewall between sum1 and lnx1"),
        (("filtered", "protocol unreachable"), {"offender": "198.18.0.101"},
         "rejected with an ICMP protocol unreachable by lnx1 itself"),
        (("filtered", "blocked on source"), {"offender": "198.18.0.100", "local_address": "198.18.0.100"},
         "sum1 refused to send it (its own firewall rejected it on output)"),
        (("filtered", "blackhole route"), {}, "sum1 has a blackhole route towards 198.18.0.101: fix the routing"),
        (("filtered", "host unreachable"), {"offender": "198.18.0.100", "local_address": "198.18.0.100"},
         "sum1 answered it itself (ICMP host unreachable from 198.18.0.100)"),
    ],
)
def test_the_icmp_sender_names_the_host_to_fix(paths: t.List[t.Dict[str, t.Any]], plans: t.Dict[str, t.Any],
                                               outcome: t.Tuple[str, str], extra: t.Dict[str, t.Any],
                                               fix_start: str) -> None:
    path_id = "sum1>lnx1@198.18.0.101:22/tcp"
    probes = _results(paths, {path_id: outcome})
    for result in probes["sum1"]["results"]:
        if result["id"] == path_id:
            result.update(extra)
    row = _by_id(vr.build_report(paths, probes, plans, LISTENERS)["paths"])[path_id]
    assert row["fix"].startswith(fix_start), row["fix"]


def test_a_filtered_path_names_its_change_request_row(paths: t.List[t.Dict[str, t.Any]],
                                                      plans: t.Dict[str, t.Any]) -> None:
    from ansible_collections.hpsum.ports.plugins.module_utils.plan.flows import request_id

    path_id = "sum1>lnx1@198.18.0.101:22/tcp"
    report = vr.build_report(paths, _results(paths, {path_id: ("filtered", "timeout")}), plans, LISTENERS)
    fix = _by_id(report["paths"])[path_id]["fix"]
    assert "(change request row %s)" % request_id("198.18.0.100", "198.18.0.101", "tcp", 22) in fix


def test_a_proxy_that_cannot_send_is_told_to_fix_itself(plans: t.Dict[str, t.Any]) -> None:
    paths = vr.plan_paths(plans, SERVERS, groups_of(), [*plans, "px1"], proxies={"ilo1": "px1"})
    path_id = "ilo1>sum1@198.18.0.100:63001/tcp"
    report = vr.build_report(paths, _results(paths, {path_id: ("filtered", "blackhole route")}), plans, LISTENERS)
    fix = _by_id(report["paths"])[path_id]["fix"]
    assert fix.startswith("px1, standing in for ilo1, cannot send to sum1 (198.18.0.100) itself (blackhole route): "
                          "fix the routing or policy on px1")
