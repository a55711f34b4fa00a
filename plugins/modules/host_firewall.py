#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_firewall
short_description: Open exactly a host's planned SUM ports on its Linux firewall, in one call
version_added: 0.1.0
description:
  - Applies a host's whole rule list (the C(rules) of C(sum_ports), see M(hpsum.ports.sum_port_facts))
    on the active firewall backend (firewalld, ufw, nftables or iptables), detected or named.
  - Every rule accepts only its O(rules[].peers); opening a port to every address needs O(allow_any_source=true).
  - The collection's rules carry a tag (firewalld policies C(hpsum_ports_in)/C(hpsum_ports_out);
    ufw comments, nftables and iptables comments, all starting C(hpsum.ports)) and only tagged rules are
    ever added or removed. Every other rule, table, chain, zone and policy is left as it was.
  - "Works where the host starts locked down: nftables base chains with policy drop (a tagged C(jump) at the
    top of every filter base chain on the input hook leads to a chain of ours in the same table, because an
    accept in another table would not override the drop), iptables with INPUT/OUTPUT policy DROP,
    ufw with default deny in and out, firewalld zones with target DROP (our policy is evaluated before zones)."
  - C(out) rules are applied only where the backend filters outbound traffic (detected); elsewhere they are
    reported in RV(not_applied).
  - "Live and boot-time state agree after a run: firewalld permanent files plus one reload; ufw's own files;
    nftables in a marked block at the end of O(nftables_conf); iptables in O(iptables_rules_v4) and
    O(iptables_rules_v6), edited in place. Files are written atomically and keep their foreign bytes."
  - Atomic. nftables and iptables change live state with one C(nft -f) or C(iptables-restore --noflush)
    transaction (per address family for iptables, the first put back if the second fails); firewalld writes
    its permanent files, checks them and reloads; ufw is rolled back from a copy of its files and C(ufw reload).
  - Never cuts the management connection. When O(restrict_to_peers) drops other sources of a planned port
    and that port is the one Ansible connects to, the management source (from E(SSH_CONNECTION) or
    O(management_sources)) is accepted before the drop, and drops match new connections only. When no
    management source is known, the management port is not restricted at all (see RV(not_applied)).
author:
  - hpsum.ports contributors (@hpsum)
options:
  state:
    description:
      - V(present) makes the tagged rules equal O(rules) (adding the new, removing those no longer planned).
      - V(absent) removes every tagged rule, whatever the plan was; O(rules) is ignored.
    type: str
    default: present
    choices: [present, absent]
  backend:
    description: The firewall to use; V(auto) detects firewalld (running), ufw (active), iptables (has rules), nftables.
    type: str
    default: auto
    choices: [auto, firewalld, ufw, nftables, iptables]
  allow_any_source:
    description: Accept the planned ports from every address, ignoring O(rules[].peers). Never the default.
    type: bool
    default: false
  restrict_to_peers:
    description:
      - After the accepts of a planned C(in) port, drop new connections to it from any other source, so that
        the port answers only its peers even on a host whose firewall would otherwise accept everyone.
      - V(false) only adds accepts.
    type: bool
    default: true
  management_sources:
    description:
      - Addresses or networks Ansible connects from; always accepted on O(management_port) ahead of any drop.
      - Default, the client address of E(SSH_CONNECTION) of the module's own session.
    type: list
    elements: str
  management_port:
    description: The port Ansible connects to. Default, the server port of E(SSH_CONNECTION) (else 22).
    type: int
  persist:
    description: nftables and iptables only. Also write the boot-time files (firewalld and ufw always persist).
    type: bool
    default: true
  nftables_conf:
    description: The file the distribution loads nftables from at boot.
    type: path
    default: /etc/nftables.conf
  iptables_rules_v4:
    description: The IPv4 boot file (netfilter-persistent).
    type: path
    default: /etc/iptables/rules.v4
  iptables_rules_v6:
    description: The IPv6 boot file (netfilter-persistent).
    type: path
    default: /etc/iptables/rules.v6
attributes:
  check_mode:
    support: full
    description: Reads the live state and reports exactly the rules a real run would add and remove.
  diff_mode:
    support: full
    description: Shows the tagged rules before and after, one line per rule.
  platform:
    support: full
    platforms: posix
    description: Linux hosts with firewalld, ufw, nftables or iptables.
notes:
  - Test hook, for the collection's own tests only. With E(HPSUM_PORTS_TEST_FAIL=after_first_step) in the
    module's environment the apply fails after its first step; with V(bad_rule) the live transaction carries
    a rule the backend rejects. Both prove the rollback.
  - With firewalld, the module refuses to change anything when zones or policies other than its own differ
    between runtime and permanent configuration, because the reload it needs would drop those changes.
extends_documentation_fragment:
  - hpsum.ports.plan_rules
seealso:
  - module: hpsum.ports.sum_port_facts
  - module: ansible.posix.firewalld
  - module: community.general.ufw
"""

EXAMPLES = r"""
- name: Open this host's planned SUM ports
  hpsum.ports.host_firewall:
    rules: "{{ sum_ports.rules }}"

- name: Open two ports to the SUM server on nftables, named explicitly
  hpsum.ports.host_firewall:
    backend: nftables
    rules:
      - direction: in
        protocol: tcp
        port: 22
        peers: [198.18.0.10]
      - direction: out
        port: 63002
        peers: [198.18.0.10, "2001:db8::10"]

- name: Close the update window (removes every rule the collection added)
  hpsum.ports.host_firewall:
    state: absent
"""

RETURN = r"""
backend:
  description: The backend used.
  returned: always
  type: str
  sample: nftables
outbound_filtered:
  description: Whether the backend filters outbound traffic, so that C(out) rules were applied.
  returned: always
  type: bool
  sample: false
rules:
  description: The tagged rules wanted after this run, in order, as text.
  returned: always
  type: list
  elements: str
  sample: ["in 22/tcp from 198.18.0.10/32: accept", "in 22/tcp: drop new connections from other sources"]
added:
  description: State lines (tables, chains, policies, tagged rules) added by this run (in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: ["inet filter hpsum_ports_in: hpsum.ports:in:tcp:22:198.18.0.10/32:accept"]
removed:
  description: State lines removed by this run (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: []
files:
  description: Boot-time or permanent files this run changes.
  returned: always
  type: list
  elements: str
  sample: [/etc/nftables.conf]
not_applied:
  description: Planned rules not applied, with the reason (C(out) rules where outbound is not filtered).
  returned: always
  type: list
  elements: str
  sample: ["out 63001/tcp: outbound is not filtered on this host"]
management:
  description: The management connection that is kept reachable.
  returned: always
  type: dict
  sample: {sources: [198.18.0.1/32], port: 22}
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.backends import HostFirewallModule
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.common.rule_schema import rules_argument_spec

ARGUMENT_SPEC = dict(
    rules=rules_argument_spec(),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    backend=dict(type="str", default="auto", choices=["auto", "firewalld", "ufw", "nftables", "iptables"]),
    allow_any_source=dict(type="bool", default=False),
    restrict_to_peers=dict(type="bool", default=True),
    management_sources=dict(type="list", elements="str"),
    management_port=dict(type="int"),
    persist=dict(type="bool", default=True),
    nftables_conf=dict(type="path", default="/etc/nftables.conf"),
    iptables_rules_v4=dict(type="path", default="/etc/iptables/rules.v4"),
    iptables_rules_v6=dict(type="path", default="/etc/iptables/rules.v6"),
)


def main() -> t.NoReturn:
    """Run host_firewall; errors of the logic become fail_json."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = HostFirewallModule(module).run()
    except SumPortsError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
