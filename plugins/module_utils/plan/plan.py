# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Turn the port matrix into one host's plan: the ``sum_ports`` facts.

Pure functions: options in, a plan dict out, or a SumPortsError that names the
option and the value. No Ansible import, so the controller (action plugin, filter,
benchmarks) and targets can both use it.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import collections
import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common import checks, rule_schema
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError, option_error
from ansible_collections.hpsum.ports.plugins.module_utils.plan import port_matrix as pm

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
LOOPBACK_PEERS = ("127.0.0.1", "::1")
# A SUM server rule's reason for a management processor's validation proxy (sum_validate_proxy):
# the proxy's name and address, the processor's name and type (plugins/module_utils/plan/fleet.py reads it).
PROXY_REASON = "validation only: proxy %s (%s) stands in for %s (%s) on its callbacks (sum_validate_proxy)"

# What sum_firewall does on a host, by role and type.
FIREWALL_BY_NODE_TYPE = dict(
    [("windows", "windows"), ("linux", "linux"), ("hpux", "hpux"), ("vmware", "esxi")]
    + [(mp, "none") for mp in pm.MANAGEMENT_PROCESSORS]
)

# Defaults of the options, in one place (the action plugin's argument spec uses them).
DEFAULTS = {
    "phases": list(pm.PHASES),
    "http_port": pm.DEFAULT_HTTP_PORT,
    "https_port": pm.DEFAULT_HTTPS_PORT,
    "ftp_port": None,
    "peers": [],
    "browser_sources": [],
    "optional_ports": True,
    "addresses": [],
    "sum_servers": [],
}


# ---------------------------------------------------------------- validation


def parse_version(value: t.Any) -> t.Tuple[int, int, int]:
    """``"7.6.0"`` -> ``(7, 6, 0)``; anything not X.Y.Z is an error naming sum_version."""
    match = _VERSION_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise option_error("sum_version", value, "is not a version of the form X.Y.Z (for example 7.6.0)")
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)))


def version_column(value: t.Any) -> str:
    """The "from target" column (and so the page) for a SUM version; versions between 7.2.1 and 7.3.0 are rejected."""
    version = parse_version(value)
    if version <= pm.LAST_OLD_VERSION:
        return pm.COLUMN_OLD
    if version >= pm.FIRST_SUM8_VERSION:
        return pm.COLUMN_SUM8
    if version >= pm.FIRST_NEW_VERSION:
        return pm.COLUMN_NEW
    raise option_error(
        "sum_version", value, "lies between 7.2.1 and 7.3.0, which the page does not cover; use the exact release"
    )


def node_type_error(option: str, node_type: str, server_os: str, column: str, version: t.Any,
                    host: t.Optional[str] = None, address: t.Optional[str] = None) -> SumPortsError:
    """The error for a node type that the version's page has no row for: names host, node type and version."""
    page = pm.page_of(column)
    if node_type in page.not_listed:
        where = ", ".join(part for part in (
            ("host %s" % host) if host else "", ("at %s" % address) if address else "",
            "sum_version %r" % version) if part)
        error = option_error(option, node_type, "(%s) is not on the page \"%s\" (%s): %s"
                             % (where, page.title, page.versions, page.not_listed[node_type]))
        error.details.update(host=host, node_type=node_type, sum_version=version)
        return error
    at = " (at %s)" % address if address else ""
    return option_error(
        option, node_type,
        "%sis not supported with sum_server_os %r: the page has no row for a %s SUM server updating %s nodes "
        "(%ssum_version %r)" % (at.lstrip() + " " if at else "", server_os, server_os.capitalize(),
                                pm.NODE_TYPE_LABELS[node_type], ("host %s, " % host) if host else "", version))


def check_phases(value: t.Any) -> t.List[str]:
    """A non-empty list of phases, returned in the page's order without duplicates."""
    if not isinstance(value, (list, tuple)) or not value:
        raise option_error("phases", value, "must be a non-empty list of %s" % ", ".join(pm.PHASES))
    for item in value:
        checks.choice("phases", item, pm.PHASES)
    return [phase for phase in pm.PHASES if phase in value]


def _unique(items: t.Iterable[str]) -> t.List[str]:
    return list(dict.fromkeys(items))


def check_ports(http_port: t.Any, https_port: t.Any, ftp_port: t.Any) -> t.Dict[str, t.Optional[int]]:
    """SUM's ports: all in range and all different (SUM cannot serve two services on one port)."""
    ports = {"http_port": checks.port("http_port", http_port), "https_port": checks.port("https_port", https_port)}
    if ports["https_port"] == ports["http_port"]:
        raise option_error("https_port", https_port, "equals http_port; SUM needs two different ports")
    ports["ftp_port"] = None if ftp_port is None else checks.port("ftp_port", ftp_port)
    for other in ("http_port", "https_port"):
        if ports["ftp_port"] is not None and ports["ftp_port"] == ports[other]:
            raise option_error("ftp_port", ftp_port, "equals %s; FTP needs a port of its own" % other)
    return ports


# ---------------------------------------------------------------- rules


class _Template(t.NamedTuple):
    """One rule of a node, before peers are attached."""

    direction: str
    protocol: str
    port: int
    phases: t.Tuple[str, ...]
    required: bool
    reason: str


def _resolve(ref: pm.PortRef, ports: t.Mapping[str, t.Optional[int]]) -> int:
    if ref.port == pm.HTTP:
        return t.cast(int, ports["http_port"])
    if ref.port == pm.HTTPS:
        return t.cast(int, ports["https_port"])
    return t.cast(int, ref.port)


def _port_label(ref: pm.PortRef) -> str:
    if ref.port in (pm.HTTP, pm.HTTPS):
        return "SUM %s port" % ref.port
    return "(%s), optional" % ref.port if ref.optional else str(ref.port)


def node_templates(
    server_os: str,
    node_type: str,
    column: str,
    phases: t.Sequence[str],
    ports: t.Mapping[str, t.Optional[int]],
    optional_ports: bool = True,
) -> t.List[_Template]:
    """A node's rules (without peers) from its row on the column's page, merged per (direction, protocol, port)."""
    page = pm.page_of(column)
    row = pm.row_for(server_os, node_type, page.key)
    if row is None:
        raise node_type_error("node_type", node_type, server_os, column, page.versions)
    label = pm.NODE_TYPE_LABELS[node_type]
    if node_type in page.row_notes:
        label = "%s (%s)" % (label, page.row_notes[node_type])
    merged: t.Dict[t.Tuple[str, str, int], t.Dict[str, t.Any]] = collections.OrderedDict()

    def add(direction: str, ref: pm.PortRef, phase: str, reason: str) -> None:
        if ref.optional and not optional_ports and ref.port not in (pm.HTTP, pm.HTTPS):
            return
        port = _resolve(ref, ports)
        key = (direction, pm.protocol_for(port), port)
        entry = merged.setdefault(key, {"phases": set(), "required": False, "reasons": []})
        entry["phases"].add(phase)
        entry["required"] = entry["required"] or not ref.optional
        if reason not in entry["reasons"]:
            entry["reasons"].append(reason)

    for phase in phases:
        for ref in row.to_target[phase]:
            add("in", ref, phase, "to target: SUM server -> %s node (%s)" % (label, _port_label(ref)))
        for ref in row.from_target[(phase, column)]:
            add("out", ref, phase, "from target: %s node -> SUM server (%s)" % (label, _port_label(ref)))
        if node_type == "vmware":
            for ref in pm.VMWARE_EXTRA_CALLBACKS:
                add("out", ref, phase, "from target: %s node -> SUM server (%s; rule 7: opened, not required)"
                    % (label, _port_label(ref)))
    return [
        _Template(key[0], key[1], key[2], tuple(p for p in pm.PHASES if p in entry["phases"]), entry["required"],
                  "; ".join(entry["reasons"]))
        for key, entry in merged.items()
    ]


class _RuleSet:
    """Rules keyed by (direction, protocol, port); peers and phases are unions, required an OR."""

    def __init__(self) -> None:
        self._rules: t.Dict[t.Tuple[str, str, int], t.Dict[str, t.Any]] = collections.OrderedDict()

    def add(self, direction: str, protocol: str, port: int, peers: t.Iterable[str], phases: t.Iterable[str],
            required: bool, reason: str) -> None:
        key = (direction, protocol, port)
        entry = self._rules.get(key)
        if entry is None:
            entry = self._rules[key] = {"peers": {}, "phases": set(), "required": False,
                                        "reasons": []}
        entry["peers"].update(dict.fromkeys(peers))
        entry["phases"].update(phases)
        entry["required"] = entry["required"] or required
        for part in reason.split("; "):
            if part not in entry["reasons"]:
                entry["reasons"].append(part)

    def as_list(self) -> t.List[t.Dict[str, t.Any]]:
        order = {"in": 0, "out": 1}
        return [
            {
                "direction": key[0],
                "protocol": key[1],
                "port": key[2],
                "peers": list(entry["peers"]),
                "phases": [p for p in pm.PHASES if p in entry["phases"]],
                "required": entry["required"],
                "reason": "; ".join(entry["reasons"]),
            }
            for key, entry in sorted(self._rules.items(), key=lambda item: (order[item[0][0]], item[0][2],
                                                                            item[0][1]))
        ]


_MIRROR = {"in": "out", "out": "in"}
_SERVER_PEER_KEYS = frozenset(("address", "node_type", "name", "proxy_for"))


class _Kind(t.NamedTuple):
    """What the options shared by many hosts (role, SUM server OS, version, phases, ports) make, checked once."""

    column: str
    phases: t.Tuple[str, ...]
    ports: t.Mapping[str, t.Optional[int]]
    optional_ports: bool


class _NodeKind(t.NamedTuple):
    """A node type's part of a plan for one _Kind: its rules without peers, firewall, ESXi summary, WMI."""

    rules: t.Tuple[t.Tuple[str, str, int, t.Tuple[str, ...], bool, str], ...]
    firewall: str
    esxi: t.Optional[t.Mapping[str, t.Any]]
    wmi: bool


# Every host of a fleet shares one of a few kinds: each is checked and built once, then reused. Keys hold only
# values that passed the checks.
_KINDS: t.Dict[t.Tuple[t.Any, ...], _Kind] = {}
_NODE_KINDS: t.Dict[t.Tuple[t.Any, ...], _NodeKind] = {}
_NODE_PEERS: t.Dict[t.Tuple[str, ...], t.Tuple[str, ...]] = {}
_CACHE_LIMIT = 4096


def clear_cache() -> None:
    """Forget the kinds built so far (the next plans are built from the port matrix again)."""
    _KINDS.clear()
    _NODE_KINDS.clear()
    _NODE_PEERS.clear()


def _check_node_peers(value: t.Any) -> t.Tuple[str, ...]:
    """A node's SUM server addresses, checked, canonical and unique (a fleet's few lists are checked once)."""
    if not isinstance(value, (list, tuple)) or not value:
        raise option_error("peers", value, "must be a non-empty list of SUM server addresses for a node")
    key = tuple(value)
    try:
        peers = _NODE_PEERS.get(key)
    except TypeError:  # unhashable items: not addresses, the check below says so
        key, peers = None, None
    if peers is None:
        peers = tuple(_unique(checks.address("peers[%d]" % i, peer) for i, peer in enumerate(value)))
        if key is not None and all(isinstance(peer, str) for peer in key):
            if len(_NODE_PEERS) >= _CACHE_LIMIT:
                _NODE_PEERS.clear()
            _NODE_PEERS[key] = peers
    return peers


class _Proxy(t.NamedTuple):
    """A management processor's validation proxy, a peer of the SUM server on the processor's callbacks."""

    address: str
    node_type: str
    name: str
    proxy_for: str


def _check_server_peers(value: t.Any, server_os: str, column: str, version: t.Any
                        ) -> t.Tuple["collections.OrderedDict[str, t.List[str]]", t.List[_Proxy]]:
    """``[{address, node_type}]`` -> node_type -> addresses (in first-seen order), and the proxies (peers with
    ``proxy_for``)."""
    if not isinstance(value, (list, tuple)):
        raise option_error("peers", value, "must be a list of {address, node_type} for a SUM server")
    by_type: "collections.OrderedDict[str, t.Dict[str, None]]" = collections.OrderedDict()
    proxies: t.List[_Proxy] = []
    for index, peer in enumerate(value):
        if not isinstance(peer, dict) or "address" not in peer or "node_type" not in peer \
                or (len(peer) > 2 and set(peer) - _SERVER_PEER_KEYS):
            raise option_error("peers[%d]" % index, peer, "must be a mapping with keys address and node_type")
        address = checks.address("peers[%d].address" % index, peer["address"])
        node_type = peer["node_type"]
        if peer.get("proxy_for") is not None:
            proxies.append(_check_proxy(index, peer, address, server_os, column, version))
            continue
        addresses = by_type.get(node_type) if isinstance(node_type, str) else None
        if addresses is None:
            option = "peers[%d].node_type" % index
            node_type = checks.choice(option, node_type, pm.NODE_TYPES)
            if pm.row_for(server_os, node_type, pm.PAGE_OF_COLUMN[column]) is None:
                raise node_type_error(option, node_type, server_os, column, version,
                                      host=peer.get("name"), address=address)
            addresses = by_type[node_type] = {}
        addresses[address] = None
    return collections.OrderedDict((nt, list(addrs)) for nt, addrs in by_type.items()), proxies


def _check_proxy(index: int, peer: t.Mapping[str, t.Any], address: str, server_os: str, column: str,
                 version: t.Any) -> _Proxy:
    """A SUM server's peer with ``proxy_for``: a management processor's validation proxy."""
    option = "peers[%d].node_type" % index
    node_type = checks.choice(option, peer["node_type"], pm.NODE_TYPES)
    if node_type not in pm.MANAGEMENT_PROCESSORS:
        raise option_error(option, node_type, "is no management processor (%s): only a processor's callbacks are "
                           "proven by a proxy (proxy_for)" % ", ".join(pm.MANAGEMENT_PROCESSORS))
    if pm.row_for(server_os, node_type, pm.PAGE_OF_COLUMN[column]) is None:
        raise node_type_error(option, node_type, server_os, column, version, host=peer.get("name"), address=address)
    return _Proxy(address, node_type, str(peer.get("name") or address), str(peer["proxy_for"]))


def node_rules(server_os: str, node_type: str, column: str, phases: t.Sequence[str],
               ports: t.Mapping[str, t.Optional[int]], peers: t.Sequence[str],
               optional_ports: bool = True) -> t.List[t.Dict[str, t.Any]]:
    """A node's own firewall rules: in from its SUM servers, out to them."""
    rules = _RuleSet()
    for tpl in node_templates(server_os, node_type, column, phases, ports, optional_ports):
        rules.add(tpl.direction, tpl.protocol, tpl.port, peers, tpl.phases, tpl.required, tpl.reason)
    return rules.as_list()


def server_rules(server_os: str, column: str, phases: t.Sequence[str], ports: t.Mapping[str, t.Optional[int]],
                 peers_by_type: t.Mapping[str, t.Sequence[str]], browser_sources: t.Sequence[str],
                 optional_ports: bool = True, proxies: t.Sequence[_Proxy] = ()) -> t.List[t.Dict[str, t.Any]]:
    """The SUM server's rules: the mirror of its nodes' rules plus rules 1, 4 and 5; a processor's proxy is
    accepted on the processor's callback ports (validation only)."""
    rules = _RuleSet()
    all_nodes: t.List[str] = []
    for node_type, addresses in peers_by_type.items():
        all_nodes.extend(addresses)
        for tpl in node_templates(server_os, node_type, column, phases, ports, optional_ports):
            rules.add(_MIRROR[tpl.direction], tpl.protocol, tpl.port, addresses, tpl.phases, tpl.required,
                      tpl.reason)
    for proxy in proxies:
        reason = PROXY_REASON % (proxy.name, proxy.address, proxy.proxy_for, pm.NODE_TYPE_LABELS[proxy.node_type])
        for tpl in node_templates(server_os, proxy.node_type, column, phases, ports, optional_ports):
            if tpl.direction == "out":
                rules.add("in", tpl.protocol, tpl.port, [proxy.address], tpl.phases, False, reason)
    https = t.cast(int, ports["https_port"])
    rules.add("in", "tcp", https, LOOPBACK_PEERS, phases, True,
              "rule 1: %s on the SUM server's loopback (HTTPS port)" % pm.page_of(column).program_names)
    if browser_sources:
        for key in ("http_port", "https_port"):
            rules.add("in", "tcp", t.cast(int, ports[key]), browser_sources, phases, True,
                      "rule 4: browser -> SUM web UI (SUM %s port)" % ("HTTP" if key == "http_port" else "HTTPS"))
    if ports["ftp_port"] is not None and all_nodes:
        rules.add("in", "tcp", t.cast(int, ports["ftp_port"]), _unique(all_nodes), phases, True,
                  "rule 5: node -> SUM server FTP service (/ftp_port)")
    return rules.as_list()


def esxi_summary(rules: t.Sequence[t.Mapping[str, t.Any]]) -> t.Dict[str, t.Any]:
    """Rule 7 for a VMware node: which callback ports need a custom outbound ESXi rule."""
    callbacks = [r["port"] for r in rules if r["direction"] == "out"]
    custom = [p for p in callbacks if p not in pm.ESXI_DEFAULT_OUTBOUND]
    if custom:
        note = "ESXi blocks outbound traffic except %s: a custom outbound rule is needed for %s" % (
            ", ".join(map(str, pm.ESXI_DEFAULT_OUTBOUND)), ", ".join(map(str, custom)))
    else:
        note = "SUM's callback ports %s are in ESXi's default outbound set (%s): no custom rule is needed" % (
            ", ".join(map(str, callbacks)), ", ".join(map(str, pm.ESXI_DEFAULT_OUTBOUND)))
    return {
        "default_outbound_ports": list(pm.ESXI_DEFAULT_OUTBOUND),
        "custom_rule_ports": custom,
        "custom_rule_needed": bool(custom),
        "note": note,
    }


# ---------------------------------------------------------------- the plan


def _is_number(value: t.Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind_key(opts: t.Mapping[str, t.Any]) -> t.Optional[t.Tuple[t.Any, ...]]:
    """The cache key of a plan's shared options, or None when they cannot be one (unhashable, odd types)."""
    phases, http_port, https_port = opts["phases"], opts["http_port"], opts["https_port"]
    ftp_port, optional_ports = opts.get("ftp_port"), opts["optional_ports"]
    # Integers that are no booleans, and booleans: True and 1.0 equal 1 but are no port, 1 equals True but is no
    # boolean. Subclasses of int (Ansible's tagged values) are ports as int is.
    numbers = _is_number(http_port) and _is_number(https_port) and (ftp_port is None or _is_number(ftp_port))
    if not numbers or not isinstance(phases, (list, tuple)) or not isinstance(optional_ports, bool):
        return None
    key = (opts.get("host_role"), opts.get("sum_server_os"), opts.get("sum_version"), tuple(phases), http_port,
           https_port, ftp_port, optional_ports)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _check_kind(opts: t.Mapping[str, t.Any]) -> _Kind:
    """Check the shared options, in the order their errors are reported."""
    checks.choice("host_role", opts.get("host_role"), pm.HOST_ROLES)
    checks.choice("sum_server_os", opts.get("sum_server_os"), pm.SERVER_OSES)
    column = version_column(opts.get("sum_version"))
    phases = check_phases(opts["phases"])
    ports = check_ports(opts["http_port"], opts["https_port"], opts.get("ftp_port"))
    optional_ports = opts["optional_ports"]
    if not isinstance(optional_ports, bool):
        raise option_error("optional_ports", optional_ports, "is not a boolean")
    # Plain ints: every host of the kind gets the same values, not the first host's (tagged) objects.
    ports = {name: None if number is None else int(number) for name, number in ports.items()}
    return _Kind(column, tuple(phases), ports, optional_ports)


def _node_kind(kind: _Kind, server_os: str, node_type: str) -> _NodeKind:
    """A checked node type's rules (without peers), firewall, ESXi summary and WMI for one kind."""
    rules = node_rules(server_os, node_type, kind.column, kind.phases, kind.ports, (), kind.optional_ports)
    return _NodeKind(
        tuple((r["direction"], r["protocol"], r["port"], tuple(r["phases"]), r["required"], r["reason"])
              for r in rules),
        FIREWALL_BY_NODE_TYPE[node_type],
        esxi_summary(rules) if node_type == "vmware" else None,
        server_os == "windows" and node_type == "windows",
    )


def _checked_addresses(option: str, value: t.Any, networks: bool = False) -> t.List[str]:
    """A list option of addresses, each checked and in canonical text, without duplicates."""
    if value == [] or value is None or value == ():
        return []
    return _unique(checks.address("%s[%d]" % (option, i), a, networks=networks)
                   for i, a in enumerate(_as_list(option, value)))


def build_plan(options: t.Mapping[str, t.Any], host: t.Optional[str] = None) -> t.Dict[str, t.Any]:
    """One host's ``sum_ports`` from the options of sum_port_facts (plugins/modules/sum_port_facts.py).

    ``host`` (the inventory name, when known) is named in the errors about node types.
    """
    opts = {**DEFAULTS, **options}
    if None in options.values():  # an option set to None takes its default (ftp_port's is None)
        opts.update((k, DEFAULTS[k]) for k, v in options.items() if v is None and k in DEFAULTS)
    key = _kind_key(opts)
    kind = _KINDS.get(key) if key is not None else None
    if kind is None:
        kind = _check_kind(opts)
        if key is not None:
            if len(_KINDS) >= _CACHE_LIMIT:
                clear_cache()
            _KINDS[key] = kind
    host_role = opts["host_role"]
    server_os = opts["sum_server_os"]
    ports = kind.ports
    addresses = _checked_addresses("addresses", opts["addresses"])
    sum_servers = opts["sum_servers"]
    sum_servers = [] if sum_servers == [] else [str(s) for s in _as_list("sum_servers", sum_servers)]
    browser_sources = _checked_addresses("browser_sources", opts["browser_sources"], networks=True)
    node_type = opts.get("node_type")

    if host_role == "node":
        if node_type is None:
            raise option_error("node_type", node_type, "is required when host_role is node")
        node_key = (key, node_type) if key is not None and isinstance(node_type, str) else None
        node = _NODE_KINDS.get(node_key) if node_key is not None else None
        if node is None:
            node_type = checks.choice("node_type", node_type, pm.NODE_TYPES)
            if pm.row_for(server_os, node_type, pm.PAGE_OF_COLUMN[kind.column]) is None:
                raise node_type_error("node_type", node_type, server_os, kind.column, opts["sum_version"], host=host)
            node = _node_kind(kind, server_os, node_type)
            if node_key is not None:
                _NODE_KINDS[node_key] = node
        if browser_sources:
            raise option_error("browser_sources", opts["browser_sources"], "applies to host_role sum_server only")
        peers = _check_node_peers(opts["peers"])
        rules = [{"direction": direction, "protocol": protocol, "port": port, "peers": list(peers),
                  "phases": list(phases), "required": required, "reason": reason}
                 for direction, protocol, port, phases, required, reason in node.rules]
        firewall = node.firewall
        esxi = None if node.esxi is None else {k: list(v) if isinstance(v, list) else v for k, v in node.esxi.items()}
        wmi = node.wmi
    else:
        if node_type is not None:
            raise option_error("node_type", node_type, "applies to host_role node only")
        by_type, proxies = _check_server_peers(opts["peers"], server_os, kind.column, opts["sum_version"])
        rules = server_rules(server_os, kind.column, kind.phases, ports, by_type, browser_sources, kind.optional_ports,
                             proxies)
        firewall = server_os
        esxi = None
        wmi = False

    return {
        "host_role": host_role,
        "node_type": node_type,
        "sum_server_os": server_os,
        "sum_version": opts["sum_version"],
        "version_column": kind.column,
        "http_port": ports["http_port"],
        "https_port": ports["https_port"],
        "ftp_port": ports["ftp_port"],
        "phases": list(kind.phases),
        "wmi": wmi,
        "firewall": firewall,
        "addresses": addresses,
        "sum_servers": sum_servers,
        "esxi": esxi,
        "rules": rules,
    }


def _as_list(option: str, value: t.Any) -> t.List[t.Any]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise option_error(option, value, "must be a list")
    return list(value)


PLAN_KEYS = ("host_role", "node_type", "sum_server_os", "sum_version", "version_column", "http_port", "https_port",
             "ftp_port", "phases", "wmi", "firewall", "addresses", "sum_servers", "esxi", "rules")
RULE_KEYS = rule_schema.RULE_KEYS


def check_plan(value: t.Any, option: str = "use_plan") -> t.Dict[str, t.Any]:
    """A plan made by build_plan (for example returned earlier and passed back): its shape is checked."""
    if not isinstance(value, dict) or sorted(value) != sorted(PLAN_KEYS):
        raise option_error(option, value if not isinstance(value, dict) else sorted(value),
                           "is not a plan from sum_port_facts (keys %s)" % ", ".join(PLAN_KEYS))
    for index, rule in enumerate(value["rules"] if isinstance(value["rules"], list) else [None]):
        if not isinstance(rule, dict) or sorted(rule) != sorted(RULE_KEYS):
            raise option_error("%s.rules[%d]" % (option, index), rule, "is not a rule (keys %s)" % ", ".join(RULE_KEYS))
        checks.choice("%s.rules[%d].direction" % (option, index), rule["direction"], checks.DIRECTIONS)
        checks.choice("%s.rules[%d].protocol" % (option, index), rule["protocol"], checks.PROTOCOLS)
        checks.port("%s.rules[%d].port" % (option, index), rule["port"])
    return value


def rules_for(plan: t.Any, firewall: str, whose: str) -> t.List[t.Any]:
    """The rules of a host's plan (``sum_ports``) that is meant for one kind of firewall."""
    if not isinstance(plan, dict):
        raise option_error("sum_ports", plan, "is not a mapping (run the sum_plan role first)")
    if plan.get("firewall") != firewall:
        raise option_error("sum_ports.firewall", plan.get("firewall"), "is not %s: not %s plan" % (firewall, whose))
    rules = plan.get("rules")
    if not isinstance(rules, list):
        raise option_error("sum_ports.rules", rules, "is not a list")
    return rules
