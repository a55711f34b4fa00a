# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The value checks every stage shares: ports, choices, addresses, networks, plan rules.

Pure functions: a value in, the checked (normalised) value out, or a SumPortsError whose
message names the option and the value (``http_port: 70000 is outside 1-65535``). No Ansible
import: modules on targets and plugins on the controller use the same checks.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import functools
import ipaddress
import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import option_error

PORT_MIN = 1
PORT_MAX = 65535
DIRECTIONS = ("in", "out")
PROTOCOLS = ("tcp", "udp")
_DIGITS_RE = re.compile(r"^[0-9]+$")
# An IPv4 address already in canonical text (no leading zeros): the common case, checked without parsing.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_CANONICAL_RE = re.compile(r"(?:%s\.){3}%s" % (_OCTET, _OCTET))
# fe80::1%eth0 parses, but no firewall rule (nor SUM) matches an address with a zone.
ZONE_PROBLEM = "has an IPv6 zone (%...); SUM and firewall rules use addresses without one: remove it"

Network = t.Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def port(option: str, value: t.Any, coerce: bool = False) -> int:
    """A TCP/UDP port 1-65535; ``coerce`` also takes a string of digits (never a bool)."""
    if coerce and isinstance(value, str) and _DIGITS_RE.match(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise option_error(option, value, "is not a port number (an integer %d-%d)" % (PORT_MIN, PORT_MAX))
    if not PORT_MIN <= value <= PORT_MAX:
        raise option_error(option, value, "is outside %d-%d" % (PORT_MIN, PORT_MAX))
    return value


def choice(option: str, value: t.Any, choices: t.Sequence[str]) -> str:
    """One of a fixed set of strings."""
    if not isinstance(value, str) or value not in choices:
        raise option_error(option, value, "is not one of %s" % ", ".join(choices))
    return value


@functools.lru_cache(maxsize=1 << 16)
def _canonical(text: str, networks: bool) -> str:
    """The canonical text of an address (or network); ValueError when it is neither. Cached: fleets repeat them."""
    if networks and "/" in text:
        return str(ipaddress.ip_network(text, strict=True))
    return str(ipaddress.ip_address(text))


def address(option: str, value: t.Any, networks: bool = False, strip: bool = True) -> str:
    """An IPv4/IPv6 address (with ``networks``, also a network in CIDR form) in canonical text.

    ``strip=False`` refuses surrounding whitespace instead of dropping it (text bound for a file).
    """
    if isinstance(value, str) and _IPV4_CANONICAL_RE.fullmatch(value):
        return str(value)  # a str subclass (Ansible's tagged or unsafe text) as plain text
    if not isinstance(value, str) or not value.strip():
        raise option_error(option, value, "is not an IP address or network" if networks else "is not an IP address")
    if "%" in value:
        raise option_error(option, value, ZONE_PROBLEM)
    try:
        return _canonical(value.strip() if strip else value, networks)
    except ValueError as exc:
        kind = "address or network" if networks else "address"
        raise option_error(option, value, "is not an IP %s (%s)" % (kind, exc)) from None


def network(option: str, value: t.Any, strict: bool = True) -> Network:
    """An address or network as an ipaddress network (an address is its /32 or /128)."""
    if isinstance(value, str) and "%" in value:
        raise option_error(option, value, ZONE_PROBLEM)
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        return ipaddress.ip_network(value.strip(), strict=strict)
    except ValueError as exc:
        raise option_error(option, value, "is not an IP address or network (%s)" % exc) from None


def plan_rule(where: str, rule: t.Any) -> t.Tuple[str, str, int, t.List[t.Any]]:
    """One rule of a plan (``sum_ports.rules[i]``): (direction, protocol, port, peers), each checked."""
    if not isinstance(rule, dict):
        raise option_error(where, rule, "is not a mapping")
    direction = choice(where + ".direction", rule.get("direction"), DIRECTIONS)
    protocol = choice(where + ".protocol", rule.get("protocol"), PROTOCOLS)
    number = port(where + ".port", rule.get("port"))
    peers = rule.get("peers")
    if not isinstance(peers, list):
        raise option_error(where + ".peers", peers, "is not a list")
    return direction, protocol, number, peers
