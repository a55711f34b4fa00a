# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sum_validate's report (validate/report.py's shape) as one self-contained HTML page.

The page has no external assets (styles inline, the flows picture an inline SVG drawn here), so it
can be mailed, attached to a change ticket or opened from an execution environment's artifacts.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import collections
import typing as t
from xml.sax.saxutils import escape as _xml_escape

from ansible_collections.hpsum.ports.plugins.module_utils.validate.report import (
    CALLBACK,
    LOOPBACK,
    RULE_9,
    _column,
    _describe,
)

Row = t.Mapping[str, t.Any]

# Cell classes, worst first: what a person sees as red, amber, grey or green.
SEVERITY = ("failed", "broken", "untested", "open")
COLOURS = {"failed": "#c62828", "broken": "#ef8f00", "untested": "#8a8f98", "open": "#2e7d32"}
LABELS = {"failed": "required path broken", "broken": "optional path broken", "untested": "untested",
          "open": "open"}

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#1b1f24;background:#fff}
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
.verdict{display:inline-block;padding:.3em .9em;border-radius:4px;color:#fff;font-weight:700;font-size:1.3em}
.verdict.passed{background:#2e7d32}.verdict.failed{background:#c62828}
.meta,.summary{color:#57606a;margin:.5em 0}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:center;vertical-align:top}
th{background:#f6f8fa}td.node{text-align:left;font-weight:600}
td.failed{background:#c62828;color:#fff;font-weight:700}td.broken{background:#ef8f00;color:#fff}
td.untested{background:#e4e6ea;color:#444}td.open{background:#2e7d32;color:#fff}td.none{background:#fff}
.legend span{display:inline-block;padding:.1em .6em;margin-right:.5em;border-radius:3px;color:#fff}
li{margin:.3em 0}code{background:#f6f8fa;padding:0 .2em}
svg text{font-family:inherit}
"""


def _e(value: t.Any) -> str:
    """HTML-escape any value (quotes too, for attributes)."""
    return _xml_escape("" if value is None else str(value), {'"': "&quot;", "'": "&#39;"})


def cell_class(row: Row) -> str:
    """The severity class of one path: failed (required, broken), broken (optional), untested or open."""
    if row.get("failed"):
        return "failed"
    if row.get("broken"):
        return "broken"
    if row.get("state") == "untested":
        return "untested"
    return "open"


def _worst(classes: t.Iterable[str]) -> str:
    """The worst of several severity classes."""
    found = set(classes)
    return next((c for c in SEVERITY if c in found), "open")


def _server_of(row: Row) -> str:
    """The SUM server end of a path."""
    return row["destination"] if row["kind"] == CALLBACK else row["source"]


def _matrix(group: str, members: t.Sequence[str], paths: t.Sequence[Row]) -> t.List[str]:
    """One group's table: rows are its nodes, columns its paths, cells coloured by state."""
    rows = [r for r in paths if group in r["groups"]]
    columns = list(collections.OrderedDict((_column(r), None) for r in rows))
    several = len({_server_of(r) for r in rows}) > 1
    cells_of: t.Dict[t.Tuple[str, str], t.List[Row]] = {}
    for row in rows:
        cells_of.setdefault((row["node"], _column(row)), []).append(row)
    out = ["<h2>%s</h2>" % _e(group), "<table>",
           "<tr><th>node</th>%s</tr>" % "".join("<th>%s</th>" % _e(c) for c in columns)]
    for node in members:
        tds = []
        for column in columns:
            hits = cells_of.get((node, column), [])
            if not hits:
                tds.append('<td class="none"></td>')
                continue
            texts = []
            for row in hits:
                text = str(row["state"]) + ("" if row["required"] else " (optional)")
                texts.append(("%s: %s" % (_server_of(row), text)) if several else text)
            tip = "; ".join(r.get("fix") or r["state"] for r in hits)
            tds.append('<td class="%s" title="%s">%s</td>' % (
                _worst(cell_class(r) for r in hits), _e(tip), "<br>".join(_e(x) for x in texts)))
        out.append('<tr><td class="node">%s</td>%s</tr>' % (_e(node), "".join(tds)))
    out.append("</table>")
    return out


def flows_svg(report: t.Mapping[str, t.Any]) -> str:
    """The SUM servers, the node groups and the ports between them, coloured by the worst path state."""
    edges: t.Dict[t.Tuple[str, str, str], t.Dict[int, t.List[str]]] = collections.OrderedDict()
    loops: t.Dict[str, t.Dict[int, t.List[str]]] = collections.OrderedDict()
    for row in report["paths"]:
        server = _server_of(row)
        if row["kind"] == LOOPBACK:
            loops.setdefault(server, collections.OrderedDict()).setdefault(row["port"], []).append(cell_class(row))
            continue
        direction = "in" if row["kind"] == CALLBACK else "out"
        for group in row["groups"] or ["(no group)"]:
            edges.setdefault((server, group, direction), collections.OrderedDict()).setdefault(
                row["port"], []).append(cell_class(row))
    servers = list(collections.OrderedDict((k[0], None) for k in edges)) or list(loops)
    for server in loops:
        if server not in servers:
            servers.append(server)
    groups = list(collections.OrderedDict((k[1], None) for k in edges))
    box_w, box_h, gap, left, right = 180, 34, 22, 20, 640
    height = max(len(servers), len(groups), 1) * (box_h + gap) + 60
    y_server = {s: 40 + i * (box_h + gap) for i, s in enumerate(servers)}
    y_group = {g: 40 + i * (box_h + gap) for i, g in enumerate(groups)}
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" '
             'aria-label="SUM flows: servers, node groups and ports">' % (right + box_w + 20, height),
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker></defs>',
             '<text x="%d" y="22" font-weight="700">SUM servers</text>' % left,
             '<text x="%d" y="22" font-weight="700">node groups</text>' % right]
    for (server, group, direction), ports in edges.items():
        offset = -7 if direction == "out" else 7
        y1 = y_server[server] + box_h / 2 + offset
        y2 = y_group[group] + box_h / 2 + offset
        x1, x2 = left + box_w, right
        colour = COLOURS[_worst(c for cs in ports.values() for c in cs)]
        line = (x1, y1, x2, y2) if direction == "out" else (x2, y2, x1, y1)
        label = ", ".join("%s%s" % (p, "" if _worst(cs) == "open" else "!") for p, cs in ports.items())
        parts.append('<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="2" '
                     'marker-end="url(#arrow)"><title>%s</title></line>' % (line + (colour, _e(label))))
        tx = x1 + (x2 - x1) * (0.3 if direction == "out" else 0.62)
        ty = y1 + (y2 - y1) * (0.3 if direction == "out" else 0.62) + (-4 if direction == "out" else 13)
        parts.append('<text x="%.0f" y="%.0f" font-size="11" fill="%s">%s %s</text>' % (
            tx, ty, colour, "to node" if direction == "out" else "callback", _e(label)))
    for server in servers:
        y = y_server[server]
        colour = COLOURS[_worst(c for cs in loops.get(server, {}).values() for c in cs)] if server in loops \
            else "#1b1f24"
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" rx="5" fill="#f6f8fa" stroke="#1b1f24"/>'
                     % (left, y, box_w, box_h))
        parts.append('<text x="%d" y="%d" font-weight="600">%s</text>' % (left + 8, y + 21, _e(server)))
        if server in loops:
            ports = ", ".join(str(p) for p in loops[server])
            parts.append('<text x="%d" y="%d" font-size="10" fill="%s">loopback %s</text>'
                         % (left + 8, y + box_h + 11, colour, _e(ports)))
    for group in groups:
        y = y_group[group]
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" rx="5" fill="#fff" stroke="#1b1f24"/>'
                     % (right, y, box_w, box_h))
        parts.append('<text x="%d" y="%d" font-weight="600">%s</text>' % (right + 8, y + 21, _e(group)))
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: t.Mapping[str, t.Any]) -> str:
    """The report as one HTML page: verdict, flows picture, a coloured matrix per group, broken and untested paths."""
    summary = report["summary"]
    verdict = "FAILED" if report["failed"] else "PASSED"
    meta = report.get("meta") or {}
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>SUM port validation: %s</title>" % verdict, "<style>%s</style></head><body>" % STYLE,
           "<h1>SUM port validation</h1>",
           '<p><span class="verdict %s" id="verdict">%s</span></p>' % (verdict.lower(), verdict),
           '<p class="summary">%d paths: %d open, %d closed, %d filtered, %d error, %d untested; '
           "%d required paths broken, %d optional paths broken.</p>" % (
               summary["total"], summary["open"], summary["closed"], summary["filtered"], summary["error"],
               summary["untested"], summary["failed_required"], summary["broken_optional"])]
    if meta:
        out.append('<p class="meta">%s</p>' % _e("; ".join("%s: %s" % (k, v) for k, v in sorted(meta.items()))))
    out.append('<p class="legend">%s</p>' % "".join(
        '<span style="background:%s">%s</span>' % (COLOURS[c], LABELS[c]) for c in SEVERITY))
    out += ["<h2>Flows</h2>", flows_svg(report),
            '<p class="meta">Arrows point the way the connection is made; a port marked ! has a broken or '
            "untested path.</p>"]
    for group, members in report["groups"].items():
        out += _matrix(group, members, report["paths"])
    broken = [r for r in report["paths"] if r["broken"]]
    if broken:
        out += ['<h2 id="broken">Broken paths</h2>', "<ul>"]
        out += ['<li class="%s"><strong>%s</strong>%s: %s</li>' % (
            cell_class(r), _e(_describe(r)), "" if r["required"] else " (optional)", _e(r["fix"])) for r in broken]
        out += ["</ul>", "<p>%s</p>" % _e(RULE_9)]
    untested = [r for r in report["paths"] if r["state"] == "untested"]
    if untested:
        out += ['<h2 id="untested">Untested paths (never counted as passed)</h2>', "<ul>"]
        out += ["<li>%s: %s</li>" % (_e(_describe(r)), _e(r["fix"])) for r in untested]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
