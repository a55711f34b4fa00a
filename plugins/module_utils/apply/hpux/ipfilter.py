# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An HP-UX node's plan (``sum_ports``) -> IPFilter rule lines (the ipf.conf form HP-UX IPFilter reads).

Pure. HP-UX hosts are never logged into to change a firewall: these lines are a manual step,
shown by the sum_firewall role and written into the flows export (``render_lines`` /
``render_text`` are the entry points). Only validated values reach a line (ints for ports,
``ipaddress`` objects for peers); reasons go into comments with control characters removed,
so nothing in the plan can add a rule line.

IPv4 rules belong in /etc/opt/ipf/ipf.conf, IPv6 ones in /etc/opt/ipf/ipf6.conf; reloading the
whole file (``ipf -Fa -f``, ``ipf -6 -Fa -f``) avoids loading rules twice.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import ipaddress
import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import option_error
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import rules_for

IPF_CONF = "/etc/opt/ipf/ipf.conf"
IPF6_CONF = "/etc/opt/ipf/ipf6.conf"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
Network = t.Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def _network(value: t.Any, where: str) -> Network:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise option_error(where, value, "is not an IP address or network") from None


def rule_line(direction: str, protocol: str, port: int, peer: Network) -> str:
    """One IPFilter line: ``pass in quick proto tcp from 198.18.0.10/32 to any port = 22 keep state``."""
    if direction == "in":
        return "pass in quick proto %s from %s to any port = %d keep state" % (protocol, peer, port)
    return "pass out quick proto %s from any to %s port = %d keep state" % (protocol, peer, port)


def _checked(rule: t.Any, index: int) -> t.Tuple[str, str, int, t.List[Network], str]:
    where = "sum_ports.rules[%d]" % index
    if not isinstance(rule, dict):
        raise option_error(where, rule, "is not a mapping")
    direction, protocol, port, peers = rule.get("direction"), rule.get("protocol"), rule.get("port"), rule.get("peers")
    if direction not in ("in", "out"):
        raise option_error(where + ".direction", direction, "is not in or out")
    if protocol not in ("tcp", "udp"):
        raise option_error(where + ".protocol", protocol, "is not tcp or udp")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise option_error(where + ".port", port, "is not a port 1-65535")
    if not isinstance(peers, list):
        raise option_error(where + ".peers", peers, "is not a list")
    networks = [_network(peer, where + ".peers") for peer in peers]
    reason = _CONTROL.sub(" ", str(rule.get("reason", ""))).strip()
    return direction, protocol, port, networks, reason


def render_lines(plan: t.Any) -> t.Dict[str, t.List[str]]:
    """``{"ipv4": [...], "ipv6": [...]}``: comment + rule lines per plan rule, per address family."""
    rules = rules_for(plan, "hpux", "an HP-UX node's")
    out: t.Dict[str, t.List[str]] = {"ipv4": [], "ipv6": []}
    for index, rule in enumerate(rules):
        direction, protocol, port, networks, reason = _checked(rule, index)
        for family, version in (("ipv4", 4), ("ipv6", 6)):
            lines = [rule_line(direction, protocol, port, n) for n in networks if n.version == version]
            if lines:
                out[family].append("# %s" % reason if reason else "# %s %s/%d" % (direction, protocol, port))
                out[family].extend(lines)
    return out


def render_text(plan: t.Any, host: str = "") -> str:
    """The manual step as text: where the lines go and how to load them, then the lines."""
    lines = render_lines(plan)
    label = " for %s" % _CONTROL.sub(" ", host) if host else ""
    text = ["# hpsum.ports: HP SUM rules%s (HP-UX IPFilter). Add to %s, then reload: ipf -Fa -f %s"
            % (label, IPF_CONF, IPF_CONF)]
    text += lines["ipv4"]
    if lines["ipv6"]:
        text.append("# IPv6: add to %s, then reload: ipf -6 -Fa -f %s" % (IPF6_CONF, IPF6_CONF))
        text += lines["ipv6"]
    return "\n".join(text) + "\n"
