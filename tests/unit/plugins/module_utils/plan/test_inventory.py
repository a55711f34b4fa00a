"""The inventory contract -> sum_port_facts options (docs/inventory.md)."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import (
    host_settings,
    plan_args,
    plan_fleet,
    settings_from_variables,
    variables_of,
)
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan

DEFAULTS = {"sum_plan_version": "7.6.0", "sum_plan_phases": ["inventory", "deployment"],
            "sum_plan_http_port": 63001, "sum_plan_https_port": 63002, "sum_plan_ftp_port": None,
            "sum_plan_browser_sources": [], "sum_plan_optional_ports": True}
SETTINGS = settings_from_variables(DEFAULTS)


def _fleet(**extra: t.Dict[str, t.Any]) -> t.Tuple[t.Dict, t.Dict]:
    hostvars = {
        "sum1": {"ansible_host": "198.18.0.10"},
        "sumw": {"ansible_host": "198.18.0.9", "ansible_connection": "winrm"},
        "lin1": {"ansible_host": "198.18.0.11", "sum_node_type": "linux", "sum_server": "sum1"},
        "int1": {"ansible_host": "198.18.0.41", "sum_mgmt_address": "198.18.0.141", "sum_node_type": "hpux",
                 "sum_server": "sum1"},
        "win1": {"ansible_host": "198.18.0.21", "sum_node_type": "windows", "sum_server": "sumw"},
        "other": {"ansible_host": "198.18.0.99"},
    }
    for host, hv in extra.items():
        hostvars.setdefault(host, {}).update(hv)
    groups = {"all": list(hostvars), "sum_servers": ["sum1", "sumw"]}
    return hostvars, groups


def test_node_args_come_from_its_server() -> None:
    hv, groups = _fleet(sum1={"sum_plan_http_port": 80, "sum_plan_https_port": 443})
    args = plan_args("lin1", hv, groups, SETTINGS)
    assert args["host_role"] == "node" and args["node_type"] == "linux"
    assert args["peers"] == ["198.18.0.10"] and args["sum_server_os"] == "linux"
    assert (args["http_port"], args["https_port"]) == (80, 443)
    assert args["sum_servers"] == ["sum1"]


def test_server_args_list_every_node_address() -> None:
    hv, groups = _fleet()
    args = plan_args("sum1", hv, groups, SETTINGS)
    assert args["host_role"] == "sum_server" and args["sum_server_os"] == "linux"
    assert [(p["name"], p["address"]) for p in args["peers"]] == [
        ("lin1", "198.18.0.11"), ("int1", "198.18.0.41"), ("int1", "198.18.0.141")]
    windows = plan_args("sumw", hv, groups, SETTINGS)
    assert windows["sum_server_os"] == "windows"
    assert [p["name"] for p in windows["peers"]] == ["win1"]
    build_plan(args)
    build_plan(windows)


def test_bystander_gets_no_plan() -> None:
    hv, groups = _fleet()
    assert plan_args("other", hv, groups, SETTINGS) is None


def test_default_server_is_every_sum_server() -> None:
    hv, groups = _fleet(lin1={"sum_server": None})
    del hv["lin1"]["sum_server"]
    with pytest.raises(SumPortsError, match="mixes Windows and Linux SUM servers"):
        plan_args("lin1", hv, groups, SETTINGS)
    groups["sum_servers"] = ["sum1"]
    assert plan_args("lin1", hv, groups, SETTINGS)["peers"] == ["198.18.0.10"]


@pytest.mark.parametrize("host,override,message", [
    ("lin1", {"sum_server": "nosuch"}, r"^sum_server: 'nosuch' \(host lin1\) names nosuch, which is not in group"),
    ("lin1", {"sum_server": {"a": 1}}, r"^sum_server: .* must be an inventory name or a list"),
    ("lin1", {"ansible_host": "lin1.example"}, r"^ansible_host: 'lin1.example' \(host lin1\) is not an IP address"),
    ("lin1", {"sum_address": "bad"}, r"^sum_address: 'bad' \(host lin1\) is not an IP address"),
    ("int1", {"sum_mgmt_address": "mgmt"}, r"^sum_mgmt_address: 'mgmt' \(host int1\) is not an IP address"),
    ("sum1", {"sum_node_type": "linux"}, r"^sum_node_type: 'linux' \(host sum1\) is set on a host of group"),
    ("sum1", {"sum_server_os": "aix"}, r"^sum_server_os: 'aix' \(host sum1\) is not one of windows, linux"),
])
def test_bad_inventory_names_variable_value_and_host(host: str, override: t.Dict, message: str) -> None:
    hv, groups = _fleet(**{host: override})
    with pytest.raises(SumPortsError, match=message):
        plan_args(host, hv, groups, SETTINGS)


def test_servers_with_different_settings_are_refused() -> None:
    hv, groups = _fleet(sumw={"ansible_connection": "ssh"}, sum1={"sum_plan_http_port": 80, "sum_plan_https_port": 443})
    hv["lin1"]["sum_server"] = ["sum1", "sumw"]
    with pytest.raises(SumPortsError, match="names SUM servers with different settings"):
        plan_args("lin1", hv, groups, SETTINGS)


def test_string_settings_are_converted_like_module_options() -> None:
    hv, groups = _fleet(sum1={"sum_plan_http_port": "8080", "sum_plan_https_port": "8443",
                              "sum_plan_optional_ports": "false", "sum_plan_phases": "inventory"})
    args = plan_args("lin1", hv, groups, SETTINGS)
    assert (args["http_port"], args["https_port"], args["optional_ports"], args["phases"]) == (
        8080, 8443, False, ["inventory"])
    build_plan(args)


def test_unconvertible_setting_names_variable_value_and_host() -> None:
    hv, groups = _fleet(sum1={"sum_plan_http_port": "http"})
    with pytest.raises(SumPortsError, match=r"^sum_plan_http_port: 'http' \(host sum1\) cannot be converted"):
        plan_args("lin1", hv, groups, SETTINGS)


def test_plan_fleet_is_each_host_plan() -> None:
    """Settings by option name in; the plan of every planned host out, as plan_args + build_plan give it."""
    hv, groups = _fleet(sum1={"sum_plan_http_port": 80, "sum_plan_https_port": 443})
    settings = SETTINGS
    plans = plan_fleet(hv, groups, settings)
    expected = {h: build_plan(plan_args(h, hv, groups, SETTINGS)) for h in groups["all"] if h != "other"}
    assert plans == expected
    assert plans["lin1"]["http_port"] == 80 and plan_fleet(hv, groups, settings, ["win1"]) == {"win1": plans["win1"]}


def test_plan_fleet_names_the_host() -> None:
    hv, groups = _fleet(lin1={"sum_plan_http_port": 1})
    with pytest.raises(SumPortsError, match=r"\(host sum1\)$"):
        plan_fleet(hv, groups, {"sum_version": "7.6.0", "http_port": 63002, "https_port": 63002})


def test_a_processors_proxy_is_a_peer_of_its_sum_server_on_the_callbacks_only() -> None:
    hv, groups = _fleet(ilo1={"ansible_host": "198.18.0.30", "sum_node_type": "ilo", "sum_server": "sum1",
                              "sum_validate_proxy": "other"},
                        lin1={"sum_validate_proxy": "other"})  # not a processor: no proxy is planned
    args = plan_args("sum1", hv, groups, SETTINGS)
    assert {"address": "198.18.0.99", "node_type": "ilo", "name": "other", "proxy_for": "ilo1"} in args["peers"]
    assert [p for p in args["peers"] if p.get("proxy_for")] == [
        {"address": "198.18.0.99", "node_type": "ilo", "name": "other", "proxy_for": "ilo1"}]
    rules = build_plan(args)["rules"]
    from_proxy = {(r["direction"], r["port"]) for r in rules if "198.18.0.99" in r["peers"]}
    ilo_callbacks = {("in", r["port"]) for r in build_plan(plan_args("ilo1", hv, groups, SETTINGS))["rules"]
                     if r["direction"] == "out"}
    assert from_proxy == ilo_callbacks and from_proxy
    reason = next(r["reason"] for r in rules if "198.18.0.99" in r["peers"])
    assert "validation only: proxy other (198.18.0.99) stands in for ilo1 (iLO) on its callbacks" in reason
    assert plan_args("other", hv, groups, SETTINGS) is None  # the proxy itself needs no plan


def test_an_unknown_proxy_names_variable_value_and_host() -> None:
    hv, groups = _fleet(ilo1={"ansible_host": "198.18.0.30", "sum_node_type": "ilo", "sum_validate_proxy": "nosuch"})
    with pytest.raises(SumPortsError, match=r"sum_validate_proxy: 'nosuch' \(host ilo1\) is not a host of the "
                                            r"inventory"):
        plan_args("sum1", hv, groups, SETTINGS)


def test_settings_are_read_from_variables_in_one_place_and_converted() -> None:
    assert settings_from_variables({"sum_plan_http_port": "80", "sum_plan_optional_ports": "no", "other": 1,
                                    "sum_plan_ftp_port": None}) == {"http_port": 80, "optional_ports": False,
                                                                    "ftp_port": None}
    assert variables_of(settings_from_variables(DEFAULTS)) == DEFAULTS
    with pytest.raises(SumPortsError, match=r"^sum_plan_http_port: 'x' \(host h\) cannot be converted") as exc:
        settings_from_variables({"sum_plan_http_port": "x"}, "h")
    assert exc.value.details["option"] == "sum_plan_http_port"


def test_a_host_s_own_variables_override_the_given_settings() -> None:
    mine = host_settings("sum1", {"sum_plan_https_port": "63009", "sum_plan_ftp_port": None},
                         {"https_port": 63002, "ftp_port": 21, "sum_version": "7.6.0"})
    assert mine == {"sum_version": "7.6.0", "phases": None, "http_port": None, "https_port": 63009,
                    "ftp_port": None, "browser_sources": None, "optional_ports": None}


def test_a_node_takes_its_server_s_settings_not_its_own() -> None:
    hv, groups = _fleet(sum1={"sum_plan_http_port": 8080}, lin1={"sum_plan_http_port": 9999})
    assert plan_args("lin1", hv, groups, dict(SETTINGS, http_port=63005))["http_port"] == 8080
    hv, groups = _fleet(lin1={"sum_plan_http_port": 9999})
    assert plan_args("lin1", hv, groups, dict(SETTINGS, http_port=63005))["http_port"] == 63005
