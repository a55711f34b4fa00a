#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sum_port_facts
short_description: Compute the ports HPE Smart Update Manager needs on one host
version_added: 1.0.0
description:
  - Turns HPE's port page for the SUM version into this host's port plan and returns it as the fact C(sum_ports).
    The page is "Making HP SUM network ports available" for SUM 7.x and earlier and "SUM network ports used" for
    SUM 8.0.0 and later (docs/port-matrix.md shows both and their differences).
  - The plan lists the rules this host's own firewall must allow, one per (direction, protocol, port), with the
    peers each rule is restricted to, the phases it serves, whether SUM requires it and why.
  - Runs on the controller through an action plugin of the same name. No connection to the host is made and
    no Python is needed on it, so planning large fleets costs no SSH round trip.
  - A node's rules come from its row of the version's table (SUM server OS x node type), the version column
    (C(<=7.2.1) or C(>=7.3.0) on the 7.x page, C(>=8.0.0) for the SUM 8 page) and the phases. A SUM server's
    rules mirror those of its nodes (out where the node has in, in where the node has out), plus the HTTPS port
    from loopback (page rule 1), the HTTP and HTTPS ports
    from O(browser_sources) (rule 4) and the FTP port from its nodes when O(ftp_port) is set (rule 5).
  - A Linux SUM server with a Windows node is an error because neither page has such a row. Versions between 7.2.1
    and 7.3.0 are rejected. A node type that the version's page does not list is an error that names the host, the
    node type and the version (from SUM 8.0.0 on C(hpux), C(moonshot) and C(superdome); before it
    C(superdome_flex)).
  - SUM 8.0.0 as the first version of the SUM 8 page is the collection's reading; no HPE page states it.
author:
  - hpsum.ports maintainers (@hpsum)
attributes:
  check_mode:
    description: Check mode computes the same plan; nothing is changed in either mode.
    support: full
  diff_mode:
    description: Nothing is changed, so there is nothing to diff.
    support: none
  facts:
    description: The host's plan is returned as C(ansible_facts.sum_ports).
    support: full
  action:
    description: An action plugin of the same name computes the plan on the controller.
    support: full
    details: Computed entirely on the controller by the action plugin.
  platform:
    description: Any target; nothing runs on it.
    support: full
    platforms: all
options:
  from_inventory:
    description:
      - Read O(host_role), O(node_type), O(sum_server_os), O(peers), O(addresses) and O(sum_servers) from the
        inventory contract (docs/inventory.md) instead of the options, for the host the task runs for.
      - The fleet settings (O(sum_version), O(phases), the ports, O(browser_sources), O(optional_ports)) come from
        the options; a SUM server's own C(sum_plan_*) host variables override them for that server, and a node takes
        its SUM server's.
      - A host that is neither in group C(sum_servers) nor has C(sum_node_type) is skipped.
      - To plan a whole fleet in one call, use M(hpsum.ports.sum_fleet_plan).
    type: bool
    default: false
  hosts:
    description:
      - Deprecated, removed in 2.0.0. Use O(hpsum.ports.sum_fleet_plan#module:hosts) instead (the same plans, the
        same RV(plans) and RV(inventory_plans)).
      - With O(from_inventory=true), plan all these hosts in one call (run the task once, for example with
        C(run_once)) and return the plans in RV(plans); hosts with nothing to plan are left out. No facts are set
        by such a call.
      - When the inventory plugin P(hpsum.ports.sum_plan#inventory) has already planned every host with the same fleet
        settings as the task's (its C(sum_plan_inventory_settings)), nothing is planned again and RV(plans) is
        empty.
    type: list
    elements: str
  use_plan:
    description:
      - Deprecated, removed in 2.0.0. Use O(hpsum.ports.sum_fleet_plan#module:plan) instead.
      - A plan returned in RV(plans) by an earlier call with O(hosts), set as this host's RV(ansible_facts.sum_ports)
        after its shape is checked.
    type: dict
  host_role:
    description: What this host is. Required unless O(from_inventory=true) or O(use_plan) is given.
    type: str
    choices: [sum_server, node]
  node_type:
    description:
      - The node's type, as named in the table. Required when O(host_role=node).
      - C(superdome) is the 7.x page's "Superdome 2/X"; C(superdome_x) is the same row on the 7.x page and the
        "Superdome X" row on the SUM 8 page; C(superdome_flex) is on the SUM 8 page only.
    type: str
    choices: [windows, linux, hpux, vmware, oa, ilo, vc, fc_switch, sas_switch, moonshot, superdome, superdome_x,
              superdome_flex]
  sum_server_os:
    description:
      - The OS of the SUM server (of this host when it is one, of its SUM server when it is a node).
      - Required unless O(from_inventory=true) or O(use_plan) is given.
    type: str
    choices: [windows, linux]
  sum_version:
    description:
      - SUM version C(X.Y.Z). Required unless O(use_plan) is given.
      - C(<= 7.2.1) and C(7.3.0) to C(7.x) pick the "from target" column of the 7.x page; C(>= 8.0.0) picks the
        SUM 8 page. Versions between 7.2.1 and 7.3.0 are not on the page and are rejected.
    type: str
  peers:
    description:
      - For a node, the addresses of its SUM server(s) (a list of IP addresses).
      - For a SUM server, its nodes as a list of mappings with keys C(address) and C(node_type) (and an
        optional C(name)). A node with a separate management address (HPE Integrity, page rule 8) appears once
        per address.
      - A SUM server's peer with the key C(proxy_for) (the inventory name of a management processor; C(node_type)
        is the processor's) is that processor's validation proxy (C(sum_validate_proxy)). The server accepts its
        address on the processor's callback ports only, as not required, with a reason naming the proxy and the
        processor.
    type: list
    elements: raw
    default: []
  browser_sources:
    description:
      - SUM server only. Addresses or networks (CIDR) allowed to reach the SUM web UI on the HTTP and HTTPS
        ports (page rule 4). Empty means no remote browser access is planned.
    type: list
    elements: str
    default: []
  addresses:
    description: This host's own SUM address(es), production first; passed through to the facts.
    type: list
    elements: str
    default: []
  sum_servers:
    description: Node only. Inventory names of the SUM servers that update it; passed through to the facts.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - hpsum.ports.sum_settings
seealso:
  - name: The port matrix
    description: The table and rules this plugin implements (docs/port-matrix.md, generated from the data).
    link: https://github.com/hpsum/ports/blob/main/docs/port-matrix.md
  - module: hpsum.ports.sum_fleet_plan
  - module: hpsum.ports.host_firewall
notes:
  - The C(hpsum.ports.sum_plan) role plans a fleet with M(hpsum.ports.sum_fleet_plan), from the same inventory
    contract.
"""

EXAMPLES = r"""
- name: Plan a VMware node updated by a Linux SUM server running SUM 7.6.0
  hpsum.ports.sum_port_facts:
    host_role: node
    node_type: vmware
    sum_server_os: linux
    sum_version: "7.6.0"
    peers: ["198.18.0.10"]

- name: Plan a SUM server whose ports were moved to 80 and 443 (hpsum /port 80 /ssl_port 443)
  hpsum.ports.sum_port_facts:
    host_role: sum_server
    sum_server_os: linux
    sum_version: "7.2.1"
    http_port: 80
    https_port: 443
    browser_sources: ["198.18.0.0/26"]
    peers:
      - {address: 198.18.0.11, node_type: linux}
      - {address: 198.18.0.30, node_type: ilo}

- name: Plan this host from the inventory contract
  hpsum.ports.sum_port_facts:
    from_inventory: true
    sum_version: "7.6.0"

- name: Show the rules
  ansible.builtin.debug:
    var: ansible_facts.sum_ports.rules
"""

RETURN = r"""
plans:
  description:
    - With O(hosts) (deprecated), every planned host's plan (the same dict as RV(ansible_facts.sum_ports)), by host.
  returned: when O(hosts) is set
  type: dict
  sample: {"sum1": {"host_role": "sum_server", "rules": []}}
inventory_plans:
  description:
    - True when the inventory plugin P(hpsum.ports.sum_plan#inventory) had planned every host with these settings.
  returned: when O(hosts) is set and the inventory's plans are used
  type: bool
  sample: true
ansible_facts:
  description: The plan.
  returned: success
  type: dict
  contains:
    sum_ports:
      description: This host's port plan.
      returned: success
      type: dict
      contains:
        host_role:
          description: V(sum_server) or V(node).
          returned: success
          type: str
          sample: node
        node_type:
          description: The node type, V(null) for a SUM server.
          returned: success
          type: str
          sample: vmware
        sum_server_os:
          description: The SUM server's OS.
          returned: success
          type: str
          sample: linux
        sum_version:
          description: The SUM version planned for.
          returned: success
          type: str
          sample: "7.6.0"
        version_column:
          description: The "from target" column the version picks (C(<=7.2.1), C(>=7.3.0) or C(>=8.0.0), the last
            one the SUM 8 page's).
          returned: success
          type: str
          sample: ">=7.3.0"
        http_port:
          description: SUM's HTTP port.
          returned: success
          type: int
          sample: 63001
        https_port:
          description: SUM's HTTPS port.
          returned: success
          type: int
          sample: 63002
        ftp_port:
          description: SUM's FTP port, V(null) when FTP is disabled.
          returned: success
          type: int
          sample: null
        phases:
          description: The phases planned for, in the page's order.
          returned: success
          type: list
          elements: str
          sample: [inventory, deployment]
        wmi:
          description: V(true) on a Windows node of a Windows SUM server (page rule 2).
          returned: success
          type: bool
          sample: false
        firewall:
          description:
            - How the C(hpsum.ports.sum_firewall) role treats the host. V(linux) (host_firewall), V(windows)
              (win_firewall_rule), V(esxi) (esxi_firewall_rule), V(hpux) (IPFilter lines, a manual step) or V(none)
              (a management processor, never logged into).
          returned: success
          type: str
          sample: esxi
        addresses:
          description: The host's SUM address(es), as passed in O(addresses).
          returned: success
          type: list
          elements: str
          sample: ["198.18.0.20"]
        sum_servers:
          description: Inventory names of the node's SUM servers, as passed in O(sum_servers).
          returned: success
          type: list
          elements: str
          sample: ["sum1"]
        esxi:
          description:
            - VMware nodes only (else V(null)). Which callback ports need a custom outbound ESXi rule (page rule 7);
              none when SUM's ports are in ESXi's default outbound set (80, 443, 5989).
          returned: success
          type: dict
          sample:
            default_outbound_ports: [80, 443, 5989]
            custom_rule_ports: [63001, 63002]
            custom_rule_needed: true
            note: "ESXi blocks outbound traffic except 80, 443, 5989: a custom outbound rule is needed for 63001, 63002"
        rules:
          description: What this host's own firewall must allow, one rule per (direction, protocol, port).
          returned: success
          type: list
          elements: dict
          contains:
            direction:
              description: V(in) accepts from the peers, V(out) allows to the peers.
              type: str
              returned: success
              sample: in
            protocol:
              description: V(tcp) or V(udp).
              type: str
              returned: success
              sample: tcp
            port:
              description: The port.
              type: int
              returned: success
              sample: 443
            peers:
              description: The addresses or networks the rule is restricted to (the union over its sources).
              type: list
              elements: str
              returned: success
              sample: ["198.18.0.10"]
            phases:
              description: The phases that need the rule.
              type: list
              elements: str
              returned: success
              sample: [inventory, deployment]
            required:
              description: V(false) for the page's optional C((80)) and for VMware's HTTPS callback (rule 7).
              type: bool
              returned: success
              sample: true
            reason:
              description: Why the rule exists, quoting the table or the rule.
              type: str
              returned: success
              sample: "to target: SUM server -> VMware node (443)"
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan.facts_spec import (
    ARGUMENT_SPEC,
    MUTUALLY_EXCLUSIVE,
    REQUIRED_BY,
    REQUIRED_IF,
    SumPortFacts,
)


def main() -> t.NoReturn:
    """Only reached when the module is run without its action plugin (e.g. as a benchmark baseline)."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, required_by=REQUIRED_BY,
                           mutually_exclusive=MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    try:
        result = SumPortFacts(module).run()
    except SumPortsError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
