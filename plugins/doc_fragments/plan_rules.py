# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    """The ``rules`` option: a host's plan rules (plugins/module_utils/common/rule_schema.py)."""

    DOCUMENTATION = r"""
options:
  rules:
    description:
      - The host's rules, as C(sum_ports.rules) gives them (see M(hpsum.ports.sum_port_facts)). One entry per
        (direction, protocol, port) is expected; duplicates are merged (peers united).
    type: list
    elements: dict
    default: []
    suboptions:
      direction:
        description: C(in) accepts connections from the peers; C(out) allows connections to them.
        type: str
        required: true
        choices: [in, out]
      protocol:
        description: Transport protocol.
        type: str
        default: tcp
        choices: [tcp, udp]
      port:
        description: Destination port, 1-65535.
        type: int
        required: true
      peers:
        description:
          - IPv4 or IPv6 addresses or networks the rule is restricted to (sources for C(in), destinations for C(out)).
          - Empty is an error unless O(allow_any_source=true), and so are peers that together cover every address
            of a family (V(0.0.0.0/0), V(::/0), V(0.0.0.0/1) with V(128.0.0.0/1)...).
          - An IPv6 address with a zone (V(fe80::1%eth0)) is an error, because firewall rules match addresses
            without one.
        type: list
        elements: str
        default: []
      phases:
        description: SUM phases the rule serves (information only).
        type: list
        elements: str
      required:
        description: Whether SUM needs the port (information only).
        type: bool
      reason:
        description: Why the rule exists (information only).
        type: str
"""
