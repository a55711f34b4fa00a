# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet model: hosts, their addresses and the typed connections between them, built once from the plans.

The plans (the ``sum_ports`` facts of every host) hold each host's own firewall rules; a connection is
one of those rules seen between two hosts: who connects to whom, from which address to which, on which
port, for which phases and why (the page's row or rule). The flows export and its change request
(plugins/module_utils/plan/flows.py) and the validation paths (plugins/module_utils/validate/report.py)
are views of this model.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.plan import port_matrix as pm
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import LOOPBACK_PEERS, PROXY_REASON

TO_TARGET = "to_target"  # SUM server -> node (the node's inbound rule)
CALLBACK = "callback"  # node -> SUM server (the node's outbound rule, the server's inbound one)
LOOPBACK = "loopback"  # rule 1: SUM's own programs on the SUM server's loopback
BROWSER = "browser"  # a source that is no host of the fleet (rule 4: a browser) -> SUM server
PROXY = "proxy"  # validation only: a management processor's sum_validate_proxy -> SUM server
KINDS = (TO_TARGET, CALLBACK, LOOPBACK, BROWSER, PROXY)

Plans = t.Mapping[str, t.Mapping[str, t.Any]]
_RULE_RE = re.compile(r"^(rule \d+):")
# The proxy part of a SUM server rule's reason (plan.PROXY_REASON): proxy name and address, the processor.
_PROXY_RE = re.compile("^" + re.escape(PROXY_REASON).replace(re.escape("%s"), "(.+?)") + "$")


class Host(t.NamedTuple):
    """One planned host: its role, node type, addresses (production first) and SUM servers."""

    name: str
    role: str
    node_type: t.Optional[str]
    addresses: t.Tuple[str, ...]
    sum_servers: t.Tuple[str, ...]


class Connection(t.NamedTuple):
    """One connection the plans ask for, between two addresses, read from one rule of one host's plan."""

    kind: str
    source: str
    source_address: str
    destination: str
    destination_address: str
    protocol: str
    port: int
    phases: t.Tuple[str, ...]
    required: bool
    reason: str  # the page's row or rule (the part of a merged SUM server rule's reason about this peer)
    node: t.Optional[str]  # the node the connection belongs to (a proxy's: the processor it stands in for)
    planned_on: str  # the host whose plan holds the rule
    rule: int  # the rule's index in that plan's rules
    address_index: int  # the index of the planned host's address it uses (0: production)

    @property
    def peer_address(self) -> str:
        """The address at the other end, seen from the host whose plan holds the rule."""
        return self.source_address if self.destination == self.planned_on and self.kind != LOOPBACK \
            else self.destination_address

    @property
    def origin(self) -> str:
        """Where the connection comes from: ``rule N`` of the page's notes, else the page's ``row``."""
        match = _RULE_RE.match(self.reason)
        return match.group(1) if match else "row"


class Fleet:
    """Hosts and connections of a fleet, built once from the plans (host name -> ``sum_ports``)."""

    def __init__(self, plans: Plans) -> None:
        self.plans = plans
        self.hosts: t.Dict[str, Host] = {}
        # Address -> the first host that plans it (a peer address is named after its host).
        self.owner: t.Dict[str, str] = {}
        for name, plan in plans.items():
            self.hosts[name] = Host(name, str(plan.get("host_role")), plan.get("node_type"),
                                    tuple(plan.get("addresses") or ()), tuple(plan.get("sum_servers") or ()))
            for address in plan.get("addresses") or []:
                self.owner.setdefault(address, name)
        self._of_node: t.Dict[str, t.List[Connection]] = {}
        self.connections: t.List[Connection] = []
        # The nodes' rules first: they carry the node's own reason; the SUM servers' mirror rules follow.
        for host in self.hosts.values():
            if host.role == "node":
                own = self._node_connections(host)
                self._of_node[host.name] = own
                self.connections.extend(own)
        for host in self.hosts.values():
            if host.role == "sum_server":
                self.connections.extend(self._server_connections(host))

    def rule_of(self, conn: Connection) -> t.Mapping[str, t.Any]:
        """The plan's rule a connection was read from (its reason as planned, merged over peers)."""
        return self.plans[conn.planned_on]["rules"][conn.rule]

    def nodes(self) -> t.List[Host]:
        """The planned nodes, in the plans' order."""
        return [h for h in self.hosts.values() if h.role == "node"]

    def node_connections(self, node: str) -> t.List[Connection]:
        """The connections a node's own plan asks for (to-target and callbacks, every address and peer)."""
        return self._of_node.get(node, [])

    def _node_connections(self, host: Host) -> t.List[Connection]:
        out = []
        rules = self.plans[host.name].get("rules") or []
        for index, address in enumerate(host.addresses or (host.name,)):
            for number, rule in enumerate(rules):
                phases = tuple(rule.get("phases") or ())
                required, reason = rule["required"], rule.get("reason", "")
                for peer in rule.get("peers") or []:
                    peer_name = self.owner.get(peer, peer)
                    if rule["direction"] == "in":
                        ends = (TO_TARGET, peer_name, peer, host.name, address)
                    else:
                        ends = (CALLBACK, host.name, address, peer_name, peer)
                    out.append(Connection(*ends, rule["protocol"], rule["port"], phases, required, reason,
                                          host.name, host.name, number, index))
        return out

    def _server_connections(self, host: Host) -> t.List[Connection]:
        out = []
        addresses = host.addresses or (host.name,)
        for number, rule in enumerate(self.plans[host.name].get("rules") or []):
            phases = tuple(rule.get("phases") or ())
            merged = rule.get("reason", "")
            reasons: t.Dict[t.Optional[str], str] = {}  # node type -> its part of the merged reason
            proxies = _proxy_parts(merged)
            inbound = rule["direction"] == "in"
            for peer in rule.get("peers") or []:
                if peer in LOOPBACK_PEERS:
                    if not inbound:
                        continue
                    # hpsum_binary reaches hpsum_service over IPv4 loopback; ::1 is reported, not required.
                    out.append(Connection(LOOPBACK, host.name, peer, host.name, peer, rule["protocol"], rule["port"],
                                          phases, rule["required"] and peer == LOOPBACK_PEERS[0],
                                          _part(merged, "rule 1:"), None, host.name, number, 0))
                    continue
                required = rule["required"]
                own_phases = phases
                if peer in proxies:
                    proxy, node, reason = proxies[peer]
                    peer_name, kind, required = proxy, PROXY, False
                    own_phases = self._callback_phases(node, rule["protocol"], rule["port"]) or phases
                else:
                    peer_name = self.owner.get(peer, peer)
                    node = None if peer_name == peer else peer_name
                    node_type = None if node is None else self.hosts[node].node_type
                    reason = reasons.get(node_type)
                    if reason is None:
                        reason = reasons[node_type] = own_reason(merged, node_type)
                    kind = BROWSER if node is None else (CALLBACK if inbound else TO_TARGET)
                for index, address in enumerate(addresses):
                    ends = (peer_name, peer, host.name, address) if inbound else (host.name, address, peer_name, peer)
                    out.append(Connection(kind, *ends, rule["protocol"], rule["port"], own_phases, required, reason,
                                          node, host.name, number, index))
        return out

    def _callback_phases(self, node: str, protocol: str, port: int) -> t.Tuple[str, ...]:
        """The phases of a node's own callback on a port (a proxy stands in for it then), when it is planned."""
        for conn in self.node_connections(node):
            if conn.kind == CALLBACK and conn.protocol == protocol and conn.port == port:
                return conn.phases
        return ()


def own_reason(merged: str, node_type: t.Optional[str]) -> str:
    """The parts of a SUM server rule's merged reason that are about one peer: its node type's, or the
    browser's (rule 4) for a peer that is no node; the whole reason when no part is."""
    parts = merged.split("; ")
    if node_type is None:
        own = [p for p in parts if "browser" in p]
    else:
        label = "%s node" % pm.NODE_TYPE_LABELS.get(node_type, node_type)
        own = [p for p in parts if label in p and not _PROXY_RE.match(p)]
    return "; ".join(own) or merged


def _part(merged: str, prefix: str) -> str:
    """The parts of a merged reason that start with ``prefix``; the whole reason when none does."""
    return "; ".join(p for p in merged.split("; ") if p.startswith(prefix)) or merged


def _proxy_parts(merged: str) -> t.Dict[str, t.Tuple[str, str, str]]:
    """Proxy address -> (proxy name, the processor it stands in for, that part of the reason)."""
    if "sum_validate_proxy" not in merged:
        return {}
    found: t.Dict[str, t.Tuple[str, str, str]] = {}
    for part in merged.split("; "):
        match = _PROXY_RE.match(part)
        if match:
            found.setdefault(match.group(2), (match.group(1), match.group(3), part))
    return found
