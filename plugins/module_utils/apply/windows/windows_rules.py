# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Windows host's plan (``sum_ports``) -> the parameters of community.windows.win_firewall_rule calls.

Pure: data in, a list of dicts out (one per rule, keys named as the module's options), or a
SumPortsError. Every rule is the collection's own: a fixed English name starting with
``hpsum.ports`` (never a localized display name of Windows' built-in rules), in one group
(``GROUP``), restricted to the plan's peers.

- ``in`` rules: one per (protocol, port), ``localport`` = the port, ``remoteip`` = the peers.
- ``out`` rules: only with ``outbound=True``; Windows Firewall allows outbound by default.
- ``wmi`` (a Windows node of a Windows SUM server, rule 2): DCOM-In, WMI-In and Async-In with the
  program / service / port scope of Windows' own WMI rules (port_matrix.WMI_RULES), restricted to
  the SUM server(s).
- A Windows SUM server with Windows nodes (an ``out`` tcp/135 rule in its plan) also gets Async-In:
  WMI's asynchronous callbacks go to unsecapp.exe on the WMI client, which is the SUM server.
- Loopback peers (rule 1) are dropped: Windows Firewall does not filter loopback traffic.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common import checks
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan import port_matrix as pm
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import rules_for

GROUP = "hpsum.ports"
PREFIX = "hpsum.ports"
PROFILES = ("domain", "private", "public")


def _peers(peers: t.Sequence[t.Any], index: int) -> t.List[str]:
    """The rule's peers as validated addresses/networks, loopback left out."""
    kept = []
    for peer in peers:
        network = checks.network("sum_ports.rules[%d].peers" % index, peer, strict=False)
        if not network.is_loopback and peer not in kept:
            kept.append(peer)
    return kept


def _base(name: str, direction: str, protocol: str, peers: t.Sequence[str], description: str) -> t.Dict[str, t.Any]:
    return {
        "name": name,
        "group": GROUP,
        "direction": direction,
        "action": "allow",
        "protocol": protocol,
        "remoteip": ",".join(peers),
        "profiles": list(PROFILES),
        "enabled": True,
        "description": description,
    }


def _wmi_rule(key: str, peers: t.Sequence[str], why: str) -> t.Dict[str, t.Any]:
    spec = pm.WMI_RULES[key]
    rule = _base("%s WMI %s" % (PREFIX, key), "in", spec["protocol"], peers, "rule 2: %s (%s)" % (why, key))
    rule["localport"] = spec["localport"]
    rule["program"] = spec["program"]
    rule["service"] = spec["service"]
    return rule


def windows_rules(plan: t.Any, outbound: bool = False) -> t.List[t.Dict[str, t.Any]]:
    """The win_firewall_rule parameters for a Windows host's plan, in a stable order."""
    rules = rules_for(plan, "windows", "a Windows host's")
    result: t.List[t.Dict[str, t.Any]] = []
    server_peers: t.List[str] = []
    windows_nodes: t.List[str] = []
    for index, rule in enumerate(rules):
        direction, protocol, port, peers = checks.plan_rule("sum_ports.rules[%d]" % index, rule)
        peers = _peers(peers, index)
        if direction == "in":
            server_peers.extend(p for p in peers if p not in server_peers)
        elif protocol == "tcp" and port == 135:
            windows_nodes.extend(p for p in peers if p not in windows_nodes)
        if not peers or (direction == "out" and not outbound):
            continue
        name = "%s %s %s %d" % (PREFIX, direction, protocol, port)
        entry = _base(name, direction, protocol, peers, str(rule.get("reason", "")))
        entry["localport" if direction == "in" else "remoteport"] = str(port)
        result.append(entry)
    if plan.get("wmi"):
        if plan.get("host_role") != "node" or not server_peers:
            raise SumPortsError("sum_ports.wmi is true but the plan is not a node's with SUM server peers")
        for key in pm.WMI_RULES:
            result.append(_wmi_rule(key, server_peers, "Windows SUM server -> Windows node uses WMI"))
    elif plan.get("host_role") == "sum_server" and windows_nodes:
        result.append(_wmi_rule("Async-In", windows_nodes, "WMI asynchronous callbacks to the SUM server"))
    return result


def rule_names(rules: t.Iterable[t.Mapping[str, t.Any]]) -> t.List[str]:
    """The names, for reports."""
    return [rule["name"] for rule in rules]
