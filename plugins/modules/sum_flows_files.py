#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sum_flows_files
short_description: Write the flows export of a fleet (CSV, change request, Markdown, Mermaid) on the controller
version_added: 1.2.0
description:
  - Renders the flows export of the plans (C(sum_ports)) of O(hosts) in one pass, the text the filter
    P(hpsum.ports.sum_flows_export#filter) returns, and writes its files into the directory O(dest) of the
    controller - C(flows.csv), C(change-request.csv), C(flows.md), C(flows.mmd) and C(manual-steps.txt).
  - One task instead of a render, a directory and a copy per file; no module is run on any host.
  - Each file is written only when its content differs, atomically (a temporary file in O(dest), then a rename);
    a new file gets mode C(0644), an existing one keeps its mode. O(dest) is created (C(0755)) when missing.
    The task is changed only when a file or the directory was created or changed.
  - Hosts without a plan are left out; the export of a fleet without plans has its headers only.
author:
  - hpsum.ports maintainers (@hpsum)
attributes:
  check_mode:
    description: Check mode renders and compares the files and writes none of them.
    support: full
    details: Nothing is written; RV(changed_files) and the diff say what a real run would write.
options:
  hosts:
    description: The hosts whose plans are exported, usually C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  sum_servers:
    description: The SUM servers (C(groups['sum_servers'])), the left column of the Mermaid diagram.
    type: list
    elements: str
    default: []
  inventory_plans:
    description:
      - Read the plans from the inventory (the inventory plugin P(hpsum.ports.sum_plan#inventory)'s C(sum_ports))
        instead of each host's variables, which is much faster for a large fleet.
        RV(hpsum.ports.sum_fleet_plan#module:inventory_plans) says when they are there.
    type: bool
    default: false
  expiry:
    description: The change request's deadline (the C(expiry) column); empty for none.
    type: str
    default: ""
extends_documentation_fragment:
  - hpsum.ports.controller_files
seealso:
  - module: hpsum.ports.sum_fleet_plan
  - plugin: hpsum.ports.sum_flows_export
    plugin_type: filter
notes:
  - The C(hpsum.ports.sum_plan) role runs it when C(sum_plan_export_dir) is set.
"""

EXAMPLES = r"""
- name: Write the flows export of the play's hosts
  hpsum.ports.sum_flows_files:
    dest: "{{ playbook_dir }}/sum-flows"
    hosts: "{{ ansible_play_hosts_all }}"
    sum_servers: "{{ groups['sum_servers'] | default([]) }}"
  run_once: true
"""

RETURN = r"""
dest:
  description: The directory, as an absolute path.
  returned: success
  type: str
  sample: /home/ops/sum-flows
files:
  description: The files of the export.
  returned: success
  type: list
  elements: str
  sample: [change-request.csv, flows.csv, flows.md, flows.mmd, manual-steps.txt]
changed_files:
  description: The files whose content was written (in check mode - would be written).
  returned: success
  type: list
  elements: str
  sample: [flows.csv]
hosts:
  description: How many hosts had a plan to export.
  returned: success
  type: int
  sample: 14
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hpsum.ports.plugins.module_utils.plan.facts_spec import FLOWS_FILES_ARGUMENT_SPEC


def main() -> t.NoReturn:
    """Only reached without the action plugin: the plans are in the controller's inventory."""
    module = AnsibleModule(argument_spec=FLOWS_FILES_ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="hpsum.ports.sum_flows_files runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
