"""The test fleets, for unit tests and benchmarks alike: a small fleet planned with the collection's
own planner (inventory contract -> sum_ports per host), and a large inventory of the contract's shape
(no host is ever contacted)."""
from __future__ import annotations

import ipaddress
import itertools
import pathlib
import typing as t

import yaml

from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import plan_args, settings_from_variables
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan

DEFAULTS = {
    "sum_plan_version": "7.6.0",
    "sum_plan_phases": ["inventory", "deployment"],
    "sum_plan_http_port": 63001,
    "sum_plan_https_port": 63002,
    "sum_plan_ftp_port": None,
    "sum_plan_browser_sources": [],
    "sum_plan_optional_ports": True,
}

HOSTVARS: t.Dict[str, t.Dict[str, t.Any]] = {
    "sum1": {"ansible_host": "198.18.0.100"},
    "lnx1": {"ansible_host": "198.18.0.101", "sum_node_type": "linux"},
    "esx1": {"ansible_host": "198.18.0.102", "sum_node_type": "vmware"},
    "ilo1": {"ansible_host": "198.18.0.103", "sum_node_type": "ilo", "ansible_connection": "local"},
    "hpux1": {"ansible_host": "198.18.0.104", "sum_node_type": "hpux", "sum_mgmt_address": "198.18.0.105"},
}
GROUPS: t.Dict[str, t.List[str]] = {
    "all": list(HOSTVARS),
    "sum_servers": ["sum1"],
    "web": ["lnx1", "esx1"],
    "mgmt": ["ilo1"],
    "integrity": ["hpux1"],
}

# Node types of the large fleet (every type with a port table of its own but Windows).
NODE_TYPES = ("linux", "hpux", "vmware", "oa", "ilo", "vc", "fc_switch", "sas_switch", "moonshot", "superdome")


def fleet(hostvars: t.Optional[t.Mapping[str, t.Mapping[str, t.Any]]] = None,
          groups: t.Optional[t.Mapping[str, t.Sequence[str]]] = None,
          defaults: t.Optional[t.Mapping[str, t.Any]] = None) -> t.Dict[str, t.Dict[str, t.Any]]:
    """host -> sum_ports, exactly as the sum_plan role computes it."""
    hostvars = hostvars or HOSTVARS
    groups = groups or GROUPS
    plans = {}
    for host in groups["all"]:
        args = plan_args(host, hostvars, groups, settings_from_variables(dict(DEFAULTS, **(defaults or {}))))
        if args is not None:
            plans[host] = build_plan(args)
    return plans


def proxied_fleet() -> t.Dict[str, t.Dict[str, t.Any]]:
    """The test fleet with a proxy host px1 (no plan of its own) named by ilo1's sum_validate_proxy."""
    hostvars = {host: dict(hvars) for host, hvars in HOSTVARS.items()}
    hostvars["px1"] = {"ansible_host": "198.18.0.120"}
    hostvars["ilo1"]["sum_validate_proxy"] = "px1"
    return fleet(hostvars, dict(GROUPS, all=[*GROUPS["all"], "px1"]))


def groups_of(groups: t.Optional[t.Mapping[str, t.Sequence[str]]] = None) -> t.Dict[str, t.List[str]]:
    """host -> the groups it is in."""
    out: t.Dict[str, t.List[str]] = {}
    for group, members in (groups or GROUPS).items():
        for member in members:
            out.setdefault(member, []).append(group)
    return out


def addresses() -> t.Iterator[str]:
    """198.18.0.0/15, the benchmarking range: these addresses are only written into files."""
    for ip in ipaddress.ip_network("198.18.0.0/15").hosts():
        yield str(ip)


def write_inventory(directory: pathlib.Path, nodes: int, connection: str = "local") -> pathlib.Path:
    """One Linux SUM server and ``nodes`` nodes cycling through NODE_TYPES, in groups by type."""
    addr = addresses()
    groups: t.Dict[str, t.Any] = {"sum_servers": {"hosts": {"sum1": {"ansible_host": next(addr),
                                                                     "sum_server_os": "linux"}}}}
    for i, node_type in zip(range(nodes), itertools.cycle(NODE_TYPES)):
        groups.setdefault("%s_nodes" % node_type, {"hosts": {}, "vars": {"sum_node_type": node_type}})
        groups["%s_nodes" % node_type]["hosts"]["n%05d" % i] = {"ansible_host": next(addr)}
    inventory = {"all": {"vars": {"ansible_connection": connection, "sum_plan_version": "7.2.1",
                                  "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                         "children": groups}}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path
