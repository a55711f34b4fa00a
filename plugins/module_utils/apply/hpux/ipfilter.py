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

import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common import checks
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import rules_for

IPF_CONF = "/etc/opt/ipf/ipf.conf"
IPF6_CONF = "/etc/opt/ipf/ipf6.conf"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
Network = checks.Network


def rule_line(direction: str, protocol: str, port: int, peer: Network) -> str:
    """One IPFilter line: ``pass in quick proto tcp from 198.18.0.10/32 to any port = 22 keep state``."""
    if direction == "in":
        return "pass in quick proto %s from %s to any port = %d keep state" % (protocol, peer, port)
    return "pass out quick proto %s from any to %s port = %d keep state" % (protocol, peer, port)


def _checked(rule: t.Any, index: int) -> t.Tuple[str, str, int, t.List[Network], str]:
    where = "sum_ports.rules[%d]" % index
    direction, protocol, port, peers = checks.plan_rule(where, rule)
    networks = [checks.network(where + ".peers", peer) for peer in peers]
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
