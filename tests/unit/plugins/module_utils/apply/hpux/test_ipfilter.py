"""ipfilter: an HP-UX node's plan rendered as IPFilter lines (text in, text out)."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.apply.hpux import ipfilter
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan


def hpux_plan(**kw: t.Any) -> dict:
    options = {"host_role": "node", "node_type": "hpux", "sum_server_os": "linux", "sum_version": "7.6.0",
               "peers": ["198.18.0.10"]}
    options.update(kw)
    return build_plan(options)


def test_render_text_exactly() -> None:
    assert ipfilter.render_text(hpux_plan(), "hpux1") == (
        "# hpsum.ports: HP SUM rules for hpux1 (HP-UX IPFilter). Add to /etc/opt/ipf/ipf.conf, "
        "then reload: ipf -Fa -f /etc/opt/ipf/ipf.conf\n"
        "# to target: SUM server -> HP-UX node (22)\n"
        "pass in quick proto tcp from 198.18.0.10/32 to any port = 22 keep state\n"
        "# from target: HP-UX node -> SUM server (SUM HTTP port)\n"
        "pass out quick proto tcp from any to 198.18.0.10/32 port = 63001 keep state\n"
        "# from target: HP-UX node -> SUM server (SUM HTTPS port)\n"
        "pass out quick proto tcp from any to 198.18.0.10/32 port = 63002 keep state\n"
    )


@pytest.mark.parametrize("version", ["7.2.1", "7.6.0"])
@pytest.mark.parametrize("server_os", ["windows", "linux"])
def test_every_hpux_combination_has_ssh_in_and_callbacks_out(version: str, server_os: str) -> None:
    lines = ipfilter.render_lines(hpux_plan(sum_version=version, sum_server_os=server_os, http_port=80,
                                            https_port=443))["ipv4"]
    assert [line for line in lines if not line.startswith("#")] == [
        "pass in quick proto tcp from 198.18.0.10/32 to any port = 22 keep state",
        "pass out quick proto tcp from any to 198.18.0.10/32 port = 80 keep state",
        "pass out quick proto tcp from any to 198.18.0.10/32 port = 443 keep state",
    ]


def test_two_servers_one_ipv6_and_one_phase() -> None:
    lines = ipfilter.render_lines(hpux_plan(peers=["198.18.0.10", "2001:db8::10"], phases=["inventory"]))
    assert "pass in quick proto tcp from 2001:db8::10/128 to any port = 22 keep state" in lines["ipv6"]
    assert all("2001" not in line for line in lines["ipv4"])
    text = ipfilter.render_text(hpux_plan(peers=["198.18.0.10", "2001:db8::10"]))
    assert "# IPv6: add to /etc/opt/ipf/ipf6.conf, then reload: ipf -6 -Fa -f /etc/opt/ipf/ipf6.conf\n" in text
    assert text.startswith("# hpsum.ports: HP SUM rules (HP-UX IPFilter).")


def test_udp_network_peer_and_hostile_reason() -> None:
    plan = {"firewall": "hpux", "rules": [
        {"direction": "in", "protocol": "udp", "port": 138, "peers": ["198.18.0.0/26"],
         "reason": "x\npass in quick all\r"},
        {"direction": "out", "protocol": "tcp", "port": 1, "peers": ["198.18.0.10"], "reason": ""},
    ]}
    assert ipfilter.render_lines(plan)["ipv4"] == [
        "# x pass in quick all",
        "pass in quick proto udp from 198.18.0.0/26 to any port = 138 keep state",
        "# out tcp/1",
        "pass out quick proto tcp from any to 198.18.0.10/32 port = 1 keep state",
    ]
    assert "\nhost\n" not in ipfilter.render_text(plan, "h\nhost\n")


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ([], "sum_ports: [] is not a mapping"),
        ({"firewall": "linux"}, "sum_ports.firewall: 'linux' is not hpux"),
        ({"firewall": "hpux"}, "sum_ports.rules: None is not a list"),
        ({"firewall": "hpux", "rules": [1]}, "sum_ports.rules[0]: 1 is not a mapping"),
        ({"firewall": "hpux", "rules": [{"direction": "any", "protocol": "tcp", "port": 22, "peers": []}]},
         "sum_ports.rules[0].direction: 'any'"),
        ({"firewall": "hpux", "rules": [{"direction": "in", "protocol": "all", "port": 22, "peers": []}]},
         "sum_ports.rules[0].protocol: 'all'"),
        ({"firewall": "hpux", "rules": [{"direction": "in", "protocol": "tcp", "port": "22 keep", "peers": []}]},
         "sum_ports.rules[0].port: '22 keep'"),
        ({"firewall": "hpux", "rules": [{"direction": "in", "protocol": "tcp", "port": 22, "peers": None}]},
         "sum_ports.rules[0].peers: None is not a list"),
        ({"firewall": "hpux", "rules": [{"direction": "in", "protocol": "tcp", "port": 22,
                                         "peers": ["any to any"]}]},
         "sum_ports.rules[0].peers: 'any to any' is not an IP address"),
        ({"firewall": "hpux", "rules": [{"direction": "in", "protocol": "tcp", "port": 22,
                                         "peers": ["198.18.0.1/24"]}]},
         "sum_ports.rules[0].peers: '198.18.0.1/24' is not an IP address"),
    ],
)
def test_bad_plans(plan: t.Any, message: str) -> None:
    with pytest.raises(SumPortsError) as err:
        ipfilter.render_lines(plan)
    assert str(err.value).startswith(message)
