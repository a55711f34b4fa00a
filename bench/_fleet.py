"""Generate a large inventory of the contract's shape for the benchmarks (no host is ever contacted)."""
from __future__ import annotations

import ipaddress
import itertools
import pathlib

import yaml

NODE_TYPES = ("linux", "hpux", "vmware", "oa", "ilo", "vc", "fc_switch", "sas_switch", "moonshot", "superdome")


def addresses():
    """198.18.0.0/15, the benchmarking range: these addresses are only written into files."""
    for ip in ipaddress.ip_network("198.18.0.0/15").hosts():
        yield str(ip)


def write_inventory(directory: pathlib.Path, nodes: int, connection: str = "local") -> pathlib.Path:
    """One Linux SUM server and ``nodes`` nodes cycling through the node types, in groups by type."""
    addr = addresses()
    groups: dict = {"sum_servers": {"hosts": {"sum1": {"ansible_host": next(addr), "sum_server_os": "linux"}}}}
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
