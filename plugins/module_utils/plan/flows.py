# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet's plans -> the flows a network team must allow, as rows, CSV, Markdown, Mermaid and a
change request (CSV in the columns firewall change tools import)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import collections
import csv
import functools
import hashlib
import io
import ipaddress
import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.apply.hpux import ipfilter
from ansible_collections.hpsum.ports.plugins.module_utils.plan import fleet

COLUMNS = ("source", "source_address", "destination", "destination_address", "protocol", "port", "phases",
           "required", "reason", "group")
IGNORED_GROUPS = ("all", "ungrouped", "sum_servers")
# The group of a validation-only flow: a management processor's proxy (sum_validate_proxy) -> SUM server.
PROXY_GROUP = "validation_proxies"

Plans = t.Mapping[str, t.Mapping[str, t.Any]]


def node_group(host: str, group_names: t.Sequence[str], node_type: t.Optional[str]) -> str:
    """The user's group a node is reported under: its first own group, else its node type."""
    for group in group_names:
        if group not in IGNORED_GROUPS:
            return group
    return "%s_nodes" % (node_type or "other")


def flow_rows(plans: Plans, group_names: t.Optional[t.Mapping[str, t.Sequence[str]]] = None,
              model: t.Optional[fleet.Fleet] = None) -> t.List[t.Dict[str, t.Any]]:
    """One row per (source address, destination address, protocol, port) the fleet needs between hosts:
    the fleet model's connections (``model``, built from ``plans`` when not given) as rows.

    Loopback flows (rule 1: hpsum_binary -> hpsum_service on the SUM server) never cross a network
    firewall: they stay in the SUM server's own rules and in the validation report, not here. A management
    processor's proxy (sum_validate_proxy) -> SUM server is listed as a validation-only flow: not required,
    group ``validation_proxies``, its reason naming the proxy and the processor.
    """
    model = model or fleet.Fleet(plans)
    group_names = group_names or {}
    groups: t.Dict[t.Optional[str], str] = {None: "browser_sources"}
    rows: t.Dict[t.Tuple[str, str, str, str, str, int], t.Dict[str, t.Any]] = {}
    for conn in model.connections:
        if conn.kind == fleet.LOOPBACK:
            continue
        key = (conn.source, conn.source_address, conn.destination, conn.destination_address, conn.protocol,
               conn.port)
        if key in rows:  # a node's own rule first (its own reason); the SUM server's mirror rule dedupes
            continue
        group = PROXY_GROUP if conn.kind == fleet.PROXY else groups.get(conn.node)
        if group is None:
            group = groups[conn.node] = node_group(conn.node, group_names.get(conn.node, ()),
                                                   model.hosts[conn.node].node_type)
        rows[key] = {
            "source": conn.source, "source_address": conn.source_address, "destination": conn.destination,
            "destination_address": conn.destination_address, "protocol": conn.protocol, "port": conn.port,
            "phases": list(conn.phases), "required": conn.required, "reason": conn.reason, "group": group,
        }
    return sorted(rows.values(), key=lambda r: (r["source"], r["destination"], r["port"], r["protocol"]))


CHANGE_REQUEST_COLUMNS = ("request_id", "action", "source_name", "source_address", "destination_name",
                          "destination_address", "protocol", "port", "phases", "justification", "expiry")
ACTIONS = ("accept", "remove")


def request_id(src_addr: str, dst_addr: str, protocol: str, port: int) -> str:
    """A stable id of one flow (the same in every export and in the validation report's fixes)."""
    digest = hashlib.sha256(("%s>%s:%s/%s" % (src_addr, dst_addr, port, protocol)).encode("utf-8")).hexdigest()
    return "SUM-%s" % digest[:10].upper()


@functools.lru_cache(maxsize=65536)
def _family(address: str) -> t.Optional[int]:
    """4 or 6 for an address or a network (a browser source may be one), None for anything else."""
    try:
        return ipaddress.ip_network(address, strict=False).version
    except ValueError:
        return None


def change_request_rows(rows: t.Sequence[t.Mapping[str, t.Any]], action: str = "accept",
                        expiry: t.Optional[str] = None) -> t.List[t.Dict[str, t.Any]]:
    """Flow rows -> change-request rows: one per flow, IPv4 and IPv6 apart (a flow whose two ends are of
    different families is none a firewall can carry, and is left out); ``action`` accept (open) or remove
    (close); ``expiry`` the window's deadline, when one is set."""
    if action not in ACTIONS:
        raise ValueError("action: %r is not one of %s" % (action, ", ".join(ACTIONS)))
    out = []
    for row in rows:
        families = {_family(row["source_address"]), _family(row["destination_address"])}
        if len(families) != 1:
            continue
        out.append({
            "request_id": request_id(row["source_address"], row["destination_address"], row["protocol"], row["port"]),
            "action": action, "source_name": row["source"], "source_address": row["source_address"],
            "destination_name": row["destination"], "destination_address": row["destination_address"],
            "protocol": row["protocol"], "port": row["port"], "phases": list(row["phases"]),
            "justification": "HPE SUM %s%s" % (row["reason"], "" if row["required"] else " (optional)"),
            "expiry": expiry or "",
        })
    out.sort(key=lambda r: (_family(r["source_address"]) or 0, r["source_name"], r["destination_name"], r["port"],
                            r["protocol"], r["source_address"], r["destination_address"]))
    return out


def change_request_csv(rows: t.Sequence[t.Mapping[str, t.Any]], action: str = "accept",
                       expiry: t.Optional[str] = None) -> str:
    """The change request as RFC 4180 CSV with a header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CHANGE_REQUEST_COLUMNS)
    for row in change_request_rows(rows, action, expiry):
        writer.writerow([_cell(row[c]) for c in CHANGE_REQUEST_COLUMNS])
    return out.getvalue()


def _cell(value: t.Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def _cells(rows: t.Sequence[t.Mapping[str, t.Any]]) -> t.List[t.List[str]]:
    """Each row's cells as text, in COLUMNS order (shared by the CSV and the Markdown)."""
    return [[_cell(row[c]) for c in COLUMNS] for row in rows]


def _csv_text(cells: t.Sequence[t.Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(cells)
    return out.getvalue()


def _markdown_text(cells: t.Sequence[t.Sequence[str]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in cells:
        if any("|" in cell for cell in row):
            row = [cell.replace("|", "\\|") for cell in row]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def to_csv(rows: t.Sequence[t.Mapping[str, t.Any]]) -> str:
    """RFC 4180 CSV with a header line."""
    return _csv_text(_cells(rows))


def to_markdown(rows: t.Sequence[t.Mapping[str, t.Any]]) -> str:
    """A Markdown table, one line per flow."""
    return _markdown_text(_cells(rows))


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


def export_files(plans: Plans, group_names: t.Mapping[str, t.Sequence[str]], sum_servers: t.Sequence[str],
                 expiry: t.Optional[str] = None) -> t.Dict[str, str]:
    """The export for the network team, file name -> text: flows as CSV, the change request (accept, until
    ``expiry`` when given), Markdown, Mermaid, and the manual steps."""
    rows = flow_rows(plans, group_names)
    cells = _cells(rows)
    manual = manual_steps(plans)
    return {
        "flows.csv": _csv_text(cells),
        "change-request.csv": change_request_csv(rows, "accept", expiry),
        "flows.md": "# SUM flows\n\n" + _markdown_text(cells),
        "flows.mmd": to_mermaid(rows, sum_servers),
        "manual-steps.txt": manual if manual else "No manual step: no HP-UX node.\n",
    }
