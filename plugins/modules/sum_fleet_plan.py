#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sum_fleet_plan
short_description: Plan the SUM ports of a whole fleet from the inventory in one pass
version_added: 1.2.0
description:
  - Plans every host of O(hosts) from the inventory contract (docs/inventory.md) in one controller-side pass and
    returns the plans in RV(plans), by host. The plan of each is the one M(hpsum.ports.sum_port_facts) computes for
    it (the C(sum_ports) fact). Hosts that are neither in group C(sum_servers) nor have C(sum_node_type) are left out.
  - Sets no facts when planning. Run it once (C(run_once)), since Ansible gives a C(run_once) task's facts to every
    host of the play; then publish each plan with O(plan), as the C(hpsum.ports.sum_plan) role does.
  - The fleet settings are the options O(sum_version), O(phases), O(http_port), O(https_port), O(ftp_port),
    O(browser_sources) and O(optional_ports). The inventory contract decides what each host takes, in one place
    (plugins/module_utils/plan/inventory.py) - a SUM server's own C(sum_plan_*) host variables override the options
    for that server, and a node takes its SUM server's settings.
  - When the inventory plugin P(hpsum.ports.sum_plan#inventory) has already planned every host with the same fleet
    settings (its C(sum_plan_inventory_settings)), nothing is planned again, RV(plans) is empty and
    RV(inventory_plans) is V(true).
  - Runs on the controller through an action plugin of the same name; no host is contacted.
author:
  - hpsum.ports maintainers (@hpsum)
attributes:
  check_mode:
    description: Check mode plans and publishes the same; nothing is changed in either mode.
    support: full
  diff_mode:
    description: Planning changes nothing, so no diff is shown.
    support: none
  facts:
    description: With O(plan), the plan is set as the task host's C(ansible_facts.sum_ports).
    support: partial
    details: With O(plan) only.
  action:
    description: An action plugin of the same name plans the fleet on the controller.
    support: full
    details: One call plans every host of O(hosts); no host is contacted.
  platform:
    description: Any target; nothing runs on it.
    support: full
    platforms: all
options:
  hosts:
    description:
      - The inventory names of the hosts to plan, usually C(ansible_play_hosts).
      - Exactly one of O(hosts) and O(plan) is required.
    type: list
    elements: str
  plan:
    description:
      - One plan out of RV(plans), set as RV(ansible_facts.sum_ports) of the host the facts go to after its shape is
        checked. With C(delegate_to) and C(delegate_facts) in a loop over RV(plans), this gives each planned host its
        own plan and no other host any.
      - Cannot be combined with O(hosts) or a fleet setting.
    type: dict
  sum_version:
    description: SUM version C(X.Y.Z), as for M(hpsum.ports.sum_port_facts).
    type: str
  browser_sources:
    description: Addresses or networks (CIDR) allowed to reach the SUM web UI (page rule 4), for the SUM servers.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - hpsum.ports.sum_settings
seealso:
  - module: hpsum.ports.sum_port_facts
  - plugin: hpsum.ports.sum_plan
    plugin_type: inventory
notes:
  - The C(hpsum.ports.sum_plan) role runs this module; a play needs it directly only to plan outside the role.
"""

EXAMPLES = r"""
- name: Plan every host of the play in one pass
  hpsum.ports.sum_fleet_plan:
    hosts: "{{ ansible_play_hosts }}"
    sum_version: "7.6.0"
  run_once: true
  register: fleet

- name: Give each planned host its own sum_ports
  hpsum.ports.sum_fleet_plan:
    plan: "{{ fleet.plans[item] }}"
  delegate_to: "{{ item }}"
  delegate_facts: true
  loop: "{{ fleet.plans.keys() | list }}"
  run_once: true
"""

RETURN = r"""
plans:
  description:
    - With O(hosts), every planned host's plan (the same dict as the C(sum_ports) fact of
      M(hpsum.ports.sum_port_facts)), by host. Empty when RV(inventory_plans) is V(true).
  returned: when O(hosts) is set
  type: dict
  sample: {"sum1": {"host_role": "sum_server", "rules": []}}
inventory_plans:
  description: V(true) when the inventory plugin P(hpsum.ports.sum_plan#inventory) had planned every host with these
    fleet settings, so nothing was planned again.
  returned: when O(hosts) is set
  type: bool
  sample: false
ansible_facts:
  description: With O(plan), the plan.
  returned: when O(plan) is set
  type: dict
  contains:
    sum_ports:
      description: The host's port plan (see M(hpsum.ports.sum_port_facts) for its keys).
      returned: when O(plan) is set
      type: dict
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hpsum.ports.plugins.module_utils.plan.facts_spec import (
    FLEET_ARGUMENT_SPEC,
    FLEET_MUTUALLY_EXCLUSIVE,
    FLEET_REQUIRED_ONE_OF,
)


def main() -> t.NoReturn:
    """Only reached without the action plugin: planning a fleet needs the inventory, on the controller."""
    module = AnsibleModule(argument_spec=FLEET_ARGUMENT_SPEC, required_one_of=FLEET_REQUIRED_ONE_OF,
                           mutually_exclusive=FLEET_MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    module.fail_json(msg="hpsum.ports.sum_fleet_plan runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
