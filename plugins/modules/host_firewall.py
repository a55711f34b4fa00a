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
version_added: "1.0.0"
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
    its permanent files, checks them and reloads; ufw loads its changed user files into its user chains with
    one C(iptables-restore --noflush) per family and writes them after both loaded, the old ones loaded back on
    failure.
  - Never takes away access the host had. By default (O(restrict=sum_ports)) a planned port only gets accepts for
    its peers, and who could reach it before still can. Only the ports in O(restrict_ports) (SUM's own listening ports
    on a SUM server, which the P(hpsum.ports.sum_firewall#role) role passes) also drop new connections from other
    sources. A drop covers only the address families its port has accepts for, so a dual-stack host whose peers
    are IPv4 keeps its IPv6 access as it was.
  - Never cuts the management connection. When O(restrict) drops other sources of a planned port
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
    description:
      - The firewall to use; V(auto) detects firewalld (running), ufw (active), iptables (has rules), nftables.
      - V(auto) asks firewalld (over D-Bus, with the Python C(firewall-cmd) runs with) only when a firewalld process
        runs, and reads ufw's state from its files and C(iptables-save); no C(firewall-cmd) or C(ufw) command runs.
        What detection read is not read again, so a host whose rules are already right costs one read of its
        firewall.
    type: str
    default: auto
    choices: [auto, firewalld, ufw, nftables, iptables]
  allow_any_source:
    description: Accept the planned ports from every address, ignoring O(rules[].peers). Never the default.
    type: bool
    default: false
  restrict:
    description:
      - Which planned C(in) ports also drop new connections from sources that are not their peers, after the
        accepts, so that the port answers only its peers even on a host whose firewall would otherwise accept
        everyone.
      - V(sum_ports) only the ports listed in O(restrict_ports) (SUM's own HTTP, HTTPS and FTP ports on a SUM
        server, services that exist only for SUM). Every other planned port only gets accepts.
      - V(all_planned) every planned C(in) port, including ports the host served before (SSH, WBEM, SMB...), so
        that for the window nobody but the peers and the management connection reaches them.
      - V(none) only adds accepts.
      - A drop covers one address family, and only a family the port has peers in.
    type: str
    default: sum_ports
    choices: [sum_ports, all_planned, none]
    version_added: 1.1.0
  restrict_ports:
    description:
      - With O(restrict=sum_ports), the planned C(in) ports that drop other sources (ports outside the plan are
        never touched).
      - Empty (a node) means no drop at all.
    type: list
    elements: int
    default: []
    version_added: 1.1.0
  management_sources:
    description:
      - Addresses or networks Ansible connects from; always accepted on O(management_port) ahead of any drop.
      - Default, the client address of E(SSH_CONNECTION) of the module's own session.
    type: list
    elements: str
  management_port:
    description: The port Ansible connects to. Default, the server port of E(SSH_CONNECTION) (else 22).
    type: int
  expires:
    description:
      - A deadline for the window, with O(state=present). At the deadline the host's own systemd removes exactly
        the collection's rules (host_firewall O(state=absent), from a copy of this module left on the host),
        without the controller, also after a reboot (a deadline missed while the host was off fires at boot).
      - "A duration (V(4h), V(90m), V(1h30m), V(45s), V(2d)) counts from the first run that set a deadline; a
        later run with the same duration keeps the deadline it finds. An absolute time needs its zone
        (V(2026-12-02T07:00:00Z), V(2026-12-02 08:00:00+01:00)); a different one is a change."
      - Omitted or empty, a deadline set earlier stays as it is. O(state=absent) cancels it (timer and files).
      - Needs systemd (a C(systemctl)). The schedule is a timer C(hpsum-ports-expire.timer) with its service in
        O(expiry_systemd_dir), and its files in O(expiry_state_dir); RV(expires_at) says when the window closes.
    type: str
    version_added: 1.1.0
  expiry_state_dir:
    description: Where the schedule's files (the module's copy, its arguments, the deadline) are kept.
    type: path
    default: /var/lib/hpsum_ports
    version_added: 1.1.0
  expiry_systemd_dir:
    description: Where the schedule's systemd units are written.
    type: path
    default: /etc/systemd/system
    version_added: 1.1.0
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

- name: Open the planned ports for four hours; the host removes them by itself then
  hpsum.ports.host_firewall:
    rules: "{{ sum_ports.rules }}"
    expires: 4h

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
  sample: ["in 443/tcp from 198.18.0.11/32: accept", "in 443/tcp: drop new IPv4 connections from other sources"]
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
expires_at:
  description: When the window closes by itself (UTC), or null when no deadline is set.
  returned: always
  type: str
  sample: "2026-12-02T07:00:00Z"
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
    restrict=dict(type="str", default="sum_ports", choices=["sum_ports", "all_planned", "none"]),
    restrict_ports=dict(type="list", elements="int", default=[]),
    management_sources=dict(type="list", elements="str"),
    management_port=dict(type="int"),
    expires=dict(type="str"),
    expiry_state_dir=dict(type="path", default="/var/lib/hpsum_ports"),
    expiry_systemd_dir=dict(type="path", default="/etc/systemd/system"),
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
