# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sum_validate's logic: the plans -> the paths to prove; probe results -> a report, Markdown, JUnit, a message.

Pure functions over plain data (the ``sum_ports`` facts of every host, port_probe and
port_listener results), so the role's filters and the unit tests share them.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import collections
import typing as t
import xml.etree.ElementTree as ET

from ansible_collections.hpsum.ports.plugins.module_utils.plan import fleet
from ansible_collections.hpsum.ports.plugins.module_utils.plan import port_matrix as pm
from ansible_collections.hpsum.ports.plugins.module_utils.plan.flows import IGNORED_GROUPS, node_group, request_id

Plans = t.Mapping[str, t.Mapping[str, t.Any]]
Path = t.Dict[str, t.Any]

TO_TARGET, CALLBACK, LOOPBACK = fleet.TO_TARGET, fleet.CALLBACK, fleet.LOOPBACK
FAILING_STATES = ("closed", "filtered", "error")
WINDOWS_CONNECTIONS = ("winrm", "psrp")

# What normally answers on a node's to-target port, for "nothing listens" hints.
SERVICES = {
    22: "SSH (sshd)",
    80: "HTTP (the web server)",
    443: "HTTPS (the web server: iLO/OA/VC web UI, ESXi hostd)",
    5989: "CIM over HTTPS (ESXi sfcbd / WBEM)",
    135: "the RPC endpoint mapper (DCOM, WMI)",
    139: "NetBIOS session service (SMB)",
    445: "SMB (File and Printer Sharing)",
}
RULE_9 = ("If these ports cannot be opened, run SUM locally on the nodes instead, and update OA, iLO and VC "
          "through their own web interfaces (page rule 9).")


# ---------------------------------------------------------------- which paths


def _source_problem(host: str, plan: t.Optional[t.Mapping[str, t.Any]], play_hosts: t.Container[str],
                    connection: t.Optional[str]) -> t.Optional[str]:
    """Why no probe can run on ``host``, or None when port_probe can run there."""
    if host not in play_hosts:
        return "%s is not in this play (--limit or the play's hosts), so nothing ran there" % host
    if plan is None:
        return "%s has no plan (sum_ports)" % host
    if plan.get("host_role") == "node":
        kind = plan.get("firewall")
        node_type = plan.get("node_type")
        if kind == "none":
            return ("%s is a management processor (%s): it is never logged into, so its own connections cannot "
                    "be probed from it" % (host, pm.NODE_TYPE_LABELS.get(node_type, node_type)))
        if kind == "hpux":
            return "%s is an HP-UX node: Ansible runs no code there in this collection" % host
        if kind == "windows":
            how = "has no WinRM connection" if connection not in WINDOWS_CONNECTIONS else "runs Windows"
            return ("%s %s and port_probe needs Python; prove it there with Test-NetConnection" % (host, how))
    elif plan.get("sum_server_os") == "windows" or connection in WINDOWS_CONNECTIONS:
        return ("%s is a Windows SUM server and port_probe needs Python; prove it there with "
                "Test-NetConnection" % host)
    return None


def _groups(host: str, groups_of: t.Mapping[str, t.Sequence[str]], node_type: t.Optional[str]) -> t.List[str]:
    own = [g for g in groups_of.get(host, ()) if g not in IGNORED_GROUPS]
    return own or [node_group(host, (), node_type)]


def plan_paths(plans: Plans, server_addresses: t.Mapping[str, t.Sequence[str]],
               groups_of: t.Mapping[str, t.Sequence[str]], play_hosts: t.Sequence[str],
               connections: t.Optional[t.Mapping[str, t.Optional[str]]] = None,
               proxies: t.Optional[t.Mapping[str, str]] = None, model: t.Optional[fleet.Fleet] = None
               ) -> t.List[Path]:
    """Every path the plans ask for: to-target (SUM server -> node, every node address),
    callbacks (node -> SUM server, from every node address) and the loopback HTTPS port (rule 1),
    as the fleet model's connections (``model``, built from ``plans`` when not given) seen by a prober.

    ``server_addresses``: SUM server name -> its addresses (production first). ``proxies``: management
    processor -> a Linux host in its network whose probes stand in for its callbacks (sum_validate_proxy).
    """
    connections = connections or {}
    proxies = proxies or {}
    hosts = set(play_hosts)
    paths: t.List[Path] = []

    def add(kind: str, src: str, src_addr: t.Optional[str], dst: str, dst_addr: str, rule: t.Mapping[str, t.Any],
            node: str, node_type: t.Optional[str], address_kind: str, required: bool, groups: t.List[str],
            node_address: t.Optional[str] = None) -> None:
        problem = _source_problem(src, plans.get(src), hosts, connections.get(src))
        proxy = proxies.get(src) if kind == CALLBACK and _is_management_processor(plans.get(src)) else None
        if proxy:
            problem = _proxy_problem(src, proxy, hosts, connections.get(proxy))
        # A temporary listener can only be started where Ansible runs Python (not on a Windows SUM server).
        listener = kind != TO_TARGET and _source_problem(dst, plans.get(dst), hosts, connections.get(dst)) is None
        paths.append({
            "id": "%s>%s@%s:%s/%s%s" % (src, dst, dst_addr, rule["port"], rule["protocol"],
                                        "" if src_addr is None else "<" + src_addr),
            "kind": kind, "node": node, "node_type": node_type, "groups": groups, "address_kind": address_kind,
            "source": src, "source_address": src_addr, "destination": dst, "destination_address": dst_addr,
            "protocol": rule["protocol"], "port": rule["port"], "phases": list(rule.get("phases") or []),
            "required": bool(required), "reason": rule.get("reason", ""),
            "testable": problem is None, "untested_reason": problem, "listener": listener,
            "proxy": proxy, "probe_host": proxy or src, "node_address": node_address or dst_addr,
        })

    model = model or fleet.Fleet(plans)
    for host in model.nodes():
        groups = _groups(host.name, groups_of, host.node_type)
        addresses = host.addresses or (host.name,)
        # The node's rules, each with the peer addresses it names (from its connections, every address alike).
        rules: t.Dict[int, t.Tuple[fleet.Connection, t.Set[str]]] = {}
        for conn in model.node_connections(host.name):
            rules.setdefault(conn.rule, (conn, set()))[1].add(conn.peer_address)
        for number in sorted(rules):
            conn, peers = rules[number]
            rule = {"protocol": conn.protocol, "port": conn.port, "phases": conn.phases, "reason": conn.reason}
            for server in host.sum_servers:
                server_addrs = list(server_addresses.get(server) or [])
                if not server_addrs or not set(server_addrs) & peers:
                    continue
                for index, address in enumerate(addresses):
                    kind = "production" if index == 0 else "management"
                    if conn.kind == fleet.TO_TARGET:
                        add(TO_TARGET, server, None, host.name, address, rule, host.name, host.node_type, kind,
                            conn.required, groups)
                    else:
                        # The node's first address is the kernel's choice; others are bound explicitly.
                        add(CALLBACK, host.name, None if index == 0 else address, server, server_addrs[0], rule,
                            host.name, host.node_type, kind, conn.required, groups, address)
    for conn in model.connections:
        if conn.kind == LOOPBACK:
            add(LOOPBACK, conn.source, None, conn.destination, conn.destination_address,
                {"protocol": conn.protocol, "port": conn.port, "phases": conn.phases,
                 "reason": model.rule_of(conn).get("reason", "")},
                conn.source, None, "loopback", conn.required, ["sum_servers"])
    return paths


def _is_management_processor(plan: t.Optional[t.Mapping[str, t.Any]]) -> bool:
    return bool(plan) and plan.get("host_role") == "node" and plan.get("node_type") in pm.MANAGEMENT_PROCESSORS


def _proxy_problem(node: str, proxy: str, play_hosts: t.Container[str], connection: t.Optional[str]
                   ) -> t.Optional[str]:
    """Why the proxy named for a management processor cannot probe in its place, or None."""
    if proxy not in play_hosts:
        return ("%s's proxy %s (sum_validate_proxy) is not in this play (--limit or the play's hosts), so nothing "
                "ran there" % (node, proxy))
    if connection in WINDOWS_CONNECTIONS:
        return "%s's proxy %s (sum_validate_proxy) runs Windows and port_probe needs Python" % (node, proxy)
    return None


def probe_requests(paths: t.Sequence[Path]) -> t.Dict[str, t.List[t.Dict[str, t.Any]]]:
    """Source host -> the port_probe targets it must run (one call per source host)."""
    requests: t.Dict[str, t.List[t.Dict[str, t.Any]]] = collections.OrderedDict()
    for path in paths:
        if not path["testable"]:
            continue
        target = {"address": path["destination_address"], "port": path["port"], "protocol": path["protocol"],
                  "id": path["id"]}
        if path["source_address"]:
            target["source"] = path["source_address"]
        requests.setdefault(path.get("probe_host") or path["source"], []).append(target)
    return dict(requests)


def listen_requests(paths: t.Sequence[Path]) -> t.Dict[str, t.List[int]]:
    """SUM server -> the TCP ports a temporary listener must hold while its callbacks are probed."""
    ports: t.Dict[str, t.Set[int]] = {}
    for path in paths:
        if path["listener"] and path["protocol"] == "tcp" and path["testable"]:
            ports.setdefault(path["destination"], set()).add(path["port"])
    return {server: sorted(p) for server, p in ports.items()}


# ---------------------------------------------------------------- fix hints


def _label(plans: Plans, host: str) -> str:
    node_type = (plans.get(host) or {}).get("node_type")
    return pm.NODE_TYPE_LABELS.get(node_type, "SUM server") if node_type else "SUM server"


def _flow(path: Path, src_addr: str) -> str:
    return "%s -> %s %s/%s" % (src_addr, path["destination_address"], path["protocol"], path["port"])


def fix_for(path: Path, result: t.Mapping[str, t.Any], plans: Plans,
            listening: t.Optional[t.Mapping[str, t.Any]] = None) -> str:
    """What to do about one path whose probe ended in ``result`` (empty for an open path)."""
    state, reason = result.get("state"), result.get("reason")
    if state == "open":
        return ""
    if state == "untested":
        return result.get("error") or path.get("untested_reason") or ""
    if path.get("proxy"):
        return _proxy_fix(path, result)
    src, dst, port, proto = path["source"], path["destination"], path["port"], path["protocol"]
    src_addr = path["source_address"] or _first_address(plans, src)
    dst_addr = path["destination_address"]
    dst_label = _label(plans, dst)
    dst_type = (plans.get(dst) or {}).get("node_type")
    managed = dst_type not in pm.MANAGEMENT_PROCESSORS
    open_on_dst = ("open %s/%s from %s on %s's firewall (hpsum.ports.sum_firewall)" % (port, proto, src_addr, dst)
                   if managed else "the %s's own firewall is not ours to change" % dst_label)
    flow = "a network firewall between %s and %s: request the flow %s (change request row %s)" % (
        src, dst, _flow(path, src_addr), request_id(src_addr, dst_addr, proto, port))
    web_ui = (" Or update %s through its web interface (rule 9)." % dst) if dst_type in pm.WEB_UI_FALLBACK else ""
    # The source's own output chain looks the same from the socket: a drop is a timeout (Linux
    # retries the SYN), a reject a refusal or an ICMP unreachable. Name it where we manage it.
    src_type = (plans.get(src) or {}).get("node_type")
    outbound = ""
    if src_type not in pm.MANAGEMENT_PROCESSORS:
        outbound = ", the firewall on %s itself blocking it outbound (allow %s/%s out to %s there%s)" % (
            src, port, proto, dst_addr,
            "; ESXi: the custom outbound rule, hpsum.ports.esxi_firewall_rule, rule 7" if src_type == "vmware"
            else "")
    if state == "closed":
        held = listening or {}
        if path["kind"] in (CALLBACK, LOOPBACK) and held.get("listening"):
            return ("%s (%s) was listening on %s/%s (%s), yet the connect was refused: the firewall on %s rejects "
                    "it (REJECT: %s)%s.%s" % (dst, dst_addr, port, proto, held["listening"], dst, open_on_dst,
                                              outbound, web_ui))
        service = SERVICES.get(port, "the service on port %d" % port)
        if path["kind"] in (CALLBACK, LOOPBACK):
            service = "SUM's web server (start SUM, or let port_listener hold the port)"
        return ("nothing listens on %s (%s) port %s/%s: start %s there; or the firewall on %s rejects it (REJECT: "
                "%s)%s.%s" % (dst, dst_addr, port, proto, service, dst, open_on_dst, outbound, web_ui))
    if state == "filtered":
        offender = result.get("offender")
        if reason == "blocked on source":
            how = ("its own firewall rejected it on output" if offender else
                   "a prohibit route or a local policy on %s" % src)
            return ("%s refused to send it (%s): fix the firewall, routing or policy on %s for %s (flow %s).%s"
                    % (src, how, src, dst_addr, _flow(path, src_addr), web_ui))
        if reason == "blackhole route":
            return ("%s has a blackhole route towards %s: fix the routing on %s (flow %s).%s"
                    % (src, dst_addr, src, _flow(path, src_addr), web_ui))
        if reason == "network unreachable":
            by = " (ICMP from %s)" % offender if offender else ""
            return ("%s has no route to %s%s: fix the routing on %s or in the network (flow %s).%s"
                    % (src, dst_addr, by, src, _flow(path, src_addr), web_ui))
        if offender and offender == result.get("local_address"):
            return ("%s answered it itself (ICMP %s from %s): %s does not answer on the local network (down, or a "
                    "wrong address), or the firewall on %s rejects it on output (allow %s/%s out to %s there).%s"
                    % (src, reason, offender, dst_addr, src, port, proto, dst_addr, web_ui))
        if offender and offender not in (dst_addr, src_addr) and reason != "timeout":
            # An ICMP error from a third address: a router or firewall in between refused it.
            how = _ICMP_HOW.get(reason, reason)
            return "%s by %s, between %s and %s: %s.%s" % (how, offender, src, dst, flow, web_ui)
        how = _ICMP_HOW.get(reason, "dropped (no answer)")
        if offender == dst_addr:
            return ("%s by %s itself: the firewall on %s (%s).%s" % (how, dst, dst, open_on_dst, web_ui))
        return ("%s: the firewall on %s (%s)%s, or %s.%s" % (how, dst, open_on_dst, outbound, flow, web_ui))
    return "the probe on %s failed: %s" % (src, result.get("error") or reason)


_ICMP_HOW = {
    "host unreachable": "rejected with an ICMP unreachable",
    "administratively prohibited": "rejected with an ICMP administratively prohibited",
    "protocol unreachable": "rejected with an ICMP protocol unreachable",
}


def _proxy_fix(path: Path, result: t.Mapping[str, t.Any]) -> str:
    """The fix for a management processor's callback that its proxy could not make."""
    proxy, node, dst = path["proxy"], path["source"], path["destination"]
    used = result.get("local_address") or proxy
    reason = result.get("reason")
    if reason in ("blackhole route", "blocked on source") or (
            reason == "network unreachable" and not result.get("offender")):
        values = (proxy, node, dst, path["destination_address"], reason, proxy, dst)
        return ("%s, standing in for %s, cannot send to %s (%s) itself (%s): fix the routing or policy on %s (a proxy "
                "proves nothing while it cannot reach %s)." % values)
    offender = result.get("offender")
    by = " (ICMP %s from %s)" % (result.get("reason"), offender) if offender else " (%s)" % result.get("reason")
    return ("%s, standing in for %s, could not reach %s (%s) on %s/%s: %s%s. The network between %s's network and "
            "%s blocks it: request the flow %s -> %s %s/%s from the network team (and for %s itself: change "
            "request row %s); or the firewall "
            "on %s refuses the proxy: apply the plan again there (with sum_validate_proxy set on %s, the plan accepts "
            "%s/%s from %s as well as from %s; a source address other than the proxy's planned one is refused)."
            % (proxy, node, dst, path["destination_address"], path["port"], path["protocol"], result.get("state"),
               by, node, dst, used, path["destination_address"], path["protocol"], path["port"], node,
               request_id(_node_address(path), path["destination_address"], path["protocol"], path["port"]), dst,
               node, path["port"], path["protocol"], proxy, node))


def _node_address(path: Path) -> str:
    return path["source_address"] or path.get("node_address") or path["source"]


def source_mismatch(path: Path, result: t.Mapping[str, t.Any], plans: Plans) -> t.Optional[t.Dict[str, t.Any]]:
    """For a node -> SUM server probe from the kernel's choice of source: the local address it used when
    that is none of the node's planned addresses (SUM's firewall accepts the callback only from those)."""
    used = result.get("local_address")
    if path["kind"] != CALLBACK or path["source_address"] or path.get("proxy") or not used:
        return None
    planned = list((plans.get(path["node"]) or {}).get("addresses") or [])
    if not planned or used in planned:
        return None
    node, server, dst_addr = path["node"], path["destination"], path["destination_address"]
    return {
        "used": used, "planned": planned,
        "fix": ("%s reached %s (%s) from %s, which is not a planned address of %s (%s): SUM's firewall accepts its "
                "callbacks only from the planned address, so they are dropped although every rule looks right. Fix "
                "one of: plan %s as %s's management address (sum_mgmt_address: %s, then apply the plan again); or "
                "route %s's traffic to %s from %s (for example: ip route replace %s via <gateway> src %s, or "
                "ip route replace %s dev <interface> src %s)."
                % (node, server, dst_addr, used, node, ", ".join(planned), used, node, used, node, dst_addr,
                   planned[0], dst_addr, planned[0], dst_addr, planned[0])),
    }


def _first_address(plans: Plans, host: str) -> str:
    addresses = (plans.get(host) or {}).get("addresses") or []
    return addresses[0] if addresses else host


# ---------------------------------------------------------------- the report


def _listener_view(listeners: t.Mapping[str, t.Optional[t.Mapping[str, t.Any]]], server: str,
                   port: int) -> t.Dict[str, t.Any]:
    """Who held a SUM server port while probing: our listener, another program, or nobody known."""
    result = listeners.get(server) or {}
    if port in (result.get("ports") or []):
        return {"listening": "port_listener, pid %s" % result.get("pid")}
    for busy in result.get("busy") or []:
        if busy.get("port") == port:
            owners = ", ".join("%s (pid %s)" % (o.get("program"), o.get("pid")) for o in busy.get("owners") or [])
            return {"listening": "already in use by %s" % (owners or "another program")}
    return {"listening": None}


def build_report(paths: t.Sequence[Path], probes: t.Mapping[str, t.Optional[t.Mapping[str, t.Any]]],
                 plans: Plans, listeners: t.Optional[t.Mapping[str, t.Optional[t.Mapping[str, t.Any]]]] = None,
                 meta: t.Optional[t.Mapping[str, t.Any]] = None) -> t.Dict[str, t.Any]:
    """Paths + port_probe results per source host (+ port_listener results per SUM server) -> the report."""
    listeners = listeners or {}
    by_id: t.Dict[str, t.Mapping[str, t.Any]] = {}
    for probe in probes.values():
        for result in (probe or {}).get("results") or []:
            if result.get("id"):
                by_id[str(result["id"])] = result
    rows = []
    for path in paths:
        row = dict(path)
        if not path["testable"]:
            result = {"state": "untested", "reason": "not testable", "error": path["untested_reason"]}
        elif path["id"] in by_id:
            result = by_id[path["id"]]
        else:
            prober = path.get("probe_host") or path["source"]
            probe = probes.get(prober) or {}
            why = probe.get("msg") or ("unreachable" if probe.get("unreachable") else "no result")
            result = {"state": "error", "reason": "no result",
                      "error": "no probe result from %s (%s)" % (prober, why)}
        listening = _listener_view(listeners, path["destination"], path["port"]) \
            if path["kind"] in (CALLBACK, LOOPBACK) else {"listening": None}
        row.update(state=result.get("state"), state_reason=result.get("reason"), error=result.get("error"),
                   elapsed_ms=result.get("elapsed_ms"), listening=listening["listening"],
                   local_address=result.get("local_address"), offender=result.get("offender"),
                   attempts=result.get("attempts"))
        row["source_mismatch"] = source_mismatch(path, result, plans)
        row["fix"] = fix_for(path, result, plans, listening)
        if row["source_mismatch"]:
            # The unplanned source explains the failure (SUM's firewall drops it): its fix comes alone.
            row["fix"] = row["source_mismatch"]["fix"]
        row["broken"] = row["state"] in FAILING_STATES or bool(row["source_mismatch"])
        row["failed"] = row["broken"] and path["required"]
        rows.append(row)
    counts = collections.OrderedDict((s, 0) for s in ("open", "closed", "filtered", "error", "untested"))
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    failed = [r for r in rows if r["failed"]]
    summary = dict(counts)
    summary.update(total=len(rows), failed_required=len(failed),
                   broken_optional=sum(1 for r in rows if r["broken"] and not r["required"]))
    members: t.Dict[str, t.Dict[str, None]] = collections.OrderedDict()
    for row in rows:
        for group in row["groups"]:
            members.setdefault(group, collections.OrderedDict())[row["node"]] = None  # an ordered set
    groups = collections.OrderedDict((group, list(nodes)) for group, nodes in members.items())
    # What held the SUM servers' ports while they were probed (our listener, or busy ports' owners).
    held = {server: {"pid": (result or {}).get("pid"), "ports": (result or {}).get("ports") or [],
                     "busy": (result or {}).get("busy") or []}
            for server, result in listeners.items() if result and not result.get("skipped")}
    return {"failed": bool(failed), "summary": summary, "meta": dict(meta or {}), "groups": dict(groups),
            "listeners": held, "paths": rows}


def _column(row: t.Mapping[str, t.Any]) -> str:
    where = {"management": " (mgmt)", "loopback": " (%s)" % row["destination_address"]}.get(row["address_kind"], "")
    arrow = {TO_TARGET: "SUM -> node", CALLBACK: "node -> SUM", LOOPBACK: "loopback"}[row["kind"]]
    return "%s %s/%s%s" % (arrow, row["port"], row["protocol"], where)


def _state_text(row: t.Mapping[str, t.Any]) -> str:
    """The row's state, with the source address it really used when that was not a planned one."""
    mismatch = row.get("source_mismatch")
    if mismatch:
        return "%s from %s (not planned)" % (row["state"], mismatch["used"])
    if row.get("proxy") and row["state"] != "untested":
        return "%s (via proxy %s)" % (row["state"], row["proxy"])
    return str(row["state"])


def _cell(row: t.Mapping[str, t.Any]) -> str:
    state = _state_text(row)
    text = "**%s**" % state if row["failed"] else state
    if not row["required"]:
        text += " (optional)"
    return text


def render_markdown(report: t.Mapping[str, t.Any]) -> str:
    """A matrix per group (rows: nodes; columns: paths; cells: states), then the broken and untested paths."""
    summary = report["summary"]
    lines = ["# SUM port validation", ""]
    meta = report.get("meta") or {}
    if meta:
        lines += ["; ".join("%s: %s" % (k, v) for k, v in sorted(meta.items())), ""]
    lines += ["**%s**: %d paths; %d open, %d closed, %d filtered, %d error, %d untested; %d required paths broken, "
              "%d optional paths broken." % ("FAILED" if report["failed"] else "PASSED", summary["total"],
                                             summary["open"], summary["closed"], summary["filtered"],
                                             summary["error"], summary["untested"], summary["failed_required"],
                                             summary["broken_optional"]), ""]
    for group, members in report["groups"].items():
        rows = [r for r in report["paths"] if group in r["groups"]]
        columns = list(collections.OrderedDict((_column(r), None) for r in rows))
        servers = sorted({r["destination"] if r["kind"] == CALLBACK else r["source"] for r in rows})
        lines += ["## %s" % group, ""]
        lines += ["| node | " + " | ".join(c.replace("|", "\\|") for c in columns) + " |",
                  "|---|" + "---|" * len(columns)]
        cells_of: t.Dict[t.Tuple[str, str], t.List[t.Mapping[str, t.Any]]] = {}
        for row in rows:  # one pass: (node, column) -> its paths
            cells_of.setdefault((row["node"], _column(row)), []).append(row)
        for node in members:
            cells = []
            for column in columns:
                hits = cells_of.get((node, column), [])
                if not hits:
                    cells.append("")
                elif len(servers) > 1:
                    cells.append("<br>".join("%s: %s" % (r["destination"] if r["kind"] == CALLBACK else r["source"],
                                                         _cell(r)) for r in hits))
                else:
                    cells.append("<br>".join(_cell(r) for r in hits))
            lines.append("| %s | %s |" % (node, " | ".join(cells)))
        lines.append("")
    broken = [r for r in report["paths"] if r["broken"]]
    if broken:
        lines += ["## Broken paths", ""]
        for row in broken:
            lines.append("- %s%s: %s" % (_describe(row), "" if row["required"] else " (optional)", row["fix"]))
        lines += ["", RULE_9, ""]
    untested = [r for r in report["paths"] if r["state"] == "untested"]
    if untested:
        lines += ["## Untested paths (never counted as passed)", ""]
        lines += ["- %s: %s" % (_describe(r), r["fix"]) for r in untested]
        lines.append("")
    return "\n".join(lines)


def _describe(row: t.Mapping[str, t.Any]) -> str:
    src_addr = row["source_address"]
    return "%s%s -> %s %s %s/%s, %s (%s)" % (
        row["source"], " (from %s)" % src_addr if src_addr else "", row["destination"], row["destination_address"],
        row["port"], row["protocol"], _state_text(row), row.get("state_reason") or "")


def render_junit(report: t.Mapping[str, t.Any]) -> str:
    """JUnit XML: a suite per group, a case per path; required broken = failure, untested or optional = skipped."""
    root = ET.Element("testsuites", name="sum_validate")
    totals = collections.Counter()
    for group in report["groups"]:
        rows = [r for r in report["paths"] if group in r["groups"]]
        suite = ET.SubElement(root, "testsuite", name=group)
        counts = collections.Counter()
        for row in rows:
            name = "%s -> %s %s %s/%s" % (row["source"], row["destination"], row["destination_address"],
                                          row["port"], row["protocol"])
            case = ET.SubElement(suite, "testcase", classname="sum_validate.%s.%s" % (group, row["node"]),
                                 name=name, time="%.3f" % ((row.get("elapsed_ms") or 0) / 1000.0))
            counts["tests"] += 1
            if row["failed"]:
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", type=str(row["state"]),
                                        message="%s (%s)" % (_state_text(row), row.get("state_reason")))
                failure.text = row["fix"]
            elif row["state"] == "untested" or row["broken"]:
                counts["skipped"] += 1
                what = "untested" if row["state"] == "untested" else "optional path %s" % row["state"]
                ET.SubElement(case, "skipped", message="%s: %s" % (what, row["fix"]))
        for key in ("tests", "failures", "skipped"):
            suite.set(key, str(counts[key]))
            totals[key] += counts[key]
        suite.set("errors", "0")
    for key in ("tests", "failures", "skipped"):
        root.set(key, str(totals[key]))
    root.set("errors", "0")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def failure_message(report: t.Mapping[str, t.Any], report_dir: t.Optional[str] = None) -> str:
    """The failed task's message: every broken required path with its fix; empty when nothing failed."""
    failed = [r for r in report["paths"] if r["failed"]]
    if not failed:
        return ""
    lines = ["%d required SUM path(s) broken:" % len(failed)]
    lines += ["- [%s] %s. Fix: %s" % (", ".join(r["groups"]), _describe(r), r["fix"]) for r in failed]
    lines.append(RULE_9)
    if report_dir:
        lines.append("Report: %s" % report_dir)
    return "\n".join(lines)
