# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet's plans -> the flows a network team must allow, as rows, CSV, Markdown and Mermaid."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import collections
import csv
import io
import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.apply.hpux import ipfilter
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import LOOPBACK_PEERS

COLUMNS = ("source", "source_address", "destination", "destination_address", "protocol", "port", "phases",
           "required", "reason", "group")
IGNORED_GROUPS = ("all", "ungrouped", "sum_servers")

Plans = t.Mapping[str, t.Mapping[str, t.Any]]


def node_group(host: str, group_names: t.Sequence[str], node_type: t.Optional[str]) -> str:
    """The user's group a node is reported under: its first own group, else its node type."""
    for group in group_names:
        if group not in IGNORED_GROUPS:
            return group
    return "%s_nodes" % (node_type or "other")


def flow_rows(plans: Plans,
              group_names: t.Optional[t.Mapping[str, t.Sequence[str]]] = None) -> t.List[t.Dict[str, t.Any]]:
    """One row per (source address, destination address, protocol, port) the fleet needs."""
    group_names = group_names or {}
    owner = {}
    for host, plan in plans.items():
        for address in plan.get("addresses") or []:
            owner.setdefault(address, host)
    rows: t.Dict[t.Tuple[str, str, str, str, str, int], t.Dict[str, t.Any]] = collections.OrderedDict()

    def add(src: str, src_addr: str, dst: str, dst_addr: str, rule: t.Mapping[str, t.Any], group: str) -> None:
        key = (src, src_addr, dst, dst_addr, rule["protocol"], rule["port"])
        if key in rows:
            return
        rows[key] = {
            "source": src, "source_address": src_addr, "destination": dst, "destination_address": dst_addr,
            "protocol": rule["protocol"], "port": rule["port"], "phases": list(rule["phases"]),
            "required": rule["required"], "reason": rule["reason"], "group": group,
        }

    nodes = [(h, p) for h, p in plans.items() if p.get("host_role") == "node"]
    servers = [(h, p) for h, p in plans.items() if p.get("host_role") == "sum_server"]
    # Node rules first: they carry the node's own reason; the server's mirror rules then dedupe.
    for host, plan in nodes:
        group = node_group(host, group_names.get(host, ()), plan.get("node_type"))
        for address in plan.get("addresses") or [host]:
            for rule in plan["rules"]:
                for peer in rule["peers"]:
                    peer_name = owner.get(peer, peer)
                    if rule["direction"] == "in":
                        add(peer_name, peer, host, address, rule, group)
                    else:
                        add(host, address, peer_name, peer, rule, group)
    for host, plan in servers:
        addresses = plan.get("addresses") or [host]
        for rule in plan["rules"]:
            for peer in rule["peers"]:
                if peer in LOOPBACK_PEERS:
                    add(host, peer, host, peer, rule, "sum_servers")
                    continue
                peer_name = owner.get(peer, peer)
                group = "browser_sources" if peer_name == peer else node_group(
                    peer_name, group_names.get(peer_name, ()), plans[peer_name].get("node_type"))
                for address in addresses:
                    if rule["direction"] == "in":
                        add(peer_name, peer, host, address, rule, group)
                    else:
                        add(host, address, peer_name, peer, rule, group)
    return sorted(rows.values(), key=lambda r: (r["source"], r["destination"], r["port"], r["protocol"]))


def _cell(value: t.Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def to_csv(rows: t.Sequence[t.Mapping[str, t.Any]]) -> str:
    """RFC 4180 CSV with a header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def to_markdown(rows: t.Sequence[t.Mapping[str, t.Any]]) -> str:
    """A Markdown table, one line per flow."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[c]).replace("|", "\\|") for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def _mermaid_id(name: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def to_mermaid(rows: t.Sequence[t.Mapping[str, t.Any]], sum_servers: t.Sequence[str]) -> str:
    """A flowchart: SUM servers, node groups, and the ports between them."""
    def side(name: str, group: str) -> str:
        return name if name in sum_servers else group

    edges: "collections.OrderedDict[t.Tuple[str, str], t.List[str]]" = collections.OrderedDict()
    for row in rows:
        src = side(row["source"], row["group"])
        dst = side(row["destination"], row["group"])
        label = "%s/%s%s" % (row["port"], row["protocol"], "" if row["required"] else "?")
        labels = edges.setdefault((src, dst), [])
        if label not in labels:
            labels.append(label)
    lines = ["flowchart LR"]
    names = collections.OrderedDict()
    for src, dst in edges:
        names[src] = None
        names[dst] = None
    for name in names:
        shape = '[["%s"]]' if name in sum_servers else '("%s")'
        lines.append("  %s%s" % (_mermaid_id(name), shape % name))
    for (src, dst), labels in edges.items():
        lines.append('  %s -->|"%s"| %s' % (_mermaid_id(src), " ".join(labels), _mermaid_id(dst)))
    return "\n".join(lines) + "\n"


def manual_steps(plans: Plans) -> str:
    """What no module does for you: each HP-UX node's rules as IPFilter lines to add by hand."""
    parts = [ipfilter.render_text(plan, host) for host, plan in sorted(plans.items())
             if plan.get("firewall") == "hpux"]
    return "\n".join(parts)
