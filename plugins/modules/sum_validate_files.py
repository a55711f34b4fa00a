#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sum_validate_files
short_description: Write the validation report (JSON, Markdown, JUnit XML, HTML) on the controller
version_added: 1.2.0
description:
  - Writes the report that the filter P(hpsum.ports.sum_validate_report#filter) built into the directory O(dest) of
    the controller, as four files - C(sum-validate.json) (what P(ansible.builtin.to_nice_json#filter) writes, with a
    final newline), C(sum-validate.md) (P(hpsum.ports.sum_validate_markdown#filter)), C(sum-validate.xml)
    (P(hpsum.ports.sum_validate_junit#filter)) and C(sum-validate.html) (P(hpsum.ports.sum_validate_html#filter)).
  - One task instead of a directory and a copy per file; no module is run on any host, the controller included.
  - Each file is written only when its content differs, atomically (a temporary file in O(dest), then a rename);
    a new file gets mode C(0644), an existing one keeps its mode. O(dest) is created (C(0755)) when missing.
    The task is changed only when a file or the directory was created or changed (a report holds the time it
    was made, so a new report changes its files).
author:
  - hpsum.ports maintainers (@hpsum)
attributes:
  check_mode:
    description: Check mode renders and compares the files and writes none of them.
    support: full
    details: >-
      Nothing is written; RV(changed_files) and the diff say what a real run would write. The
      P(hpsum.ports.sum_validate#role) role runs it with C(check_mode: false): the report is what validation
      produces, also in check mode.
options:
  report:
    description:
      - The report, the result of P(hpsum.ports.sum_validate_report#filter).
      - A value without its C(failed), C(summary), C(paths) and C(groups) keys fails the task and writes nothing.
    type: dict
    required: true
extends_documentation_fragment:
  - hpsum.ports.controller_files
seealso:
  - plugin: hpsum.ports.sum_validate_report
    plugin_type: filter
  - plugin: hpsum.ports.sum_validate_html
    plugin_type: filter
  - module: hpsum.ports.sum_flows_files
notes:
  - The P(hpsum.ports.sum_validate#role) role runs it once per play after the probes.
"""

EXAMPLES = r"""
- name: Write the validation report next to the playbook
  hpsum.ports.sum_validate_files:
    report: "{{ report }}"
    dest: "{{ playbook_dir }}/sum-validate-report"
  run_once: true
"""

RETURN = r"""
dest:
  description: The directory, as an absolute path.
  returned: success
  type: str
  sample: /home/ops/sum-validate-report
files:
  description: The files of the report.
  returned: success
  type: list
  elements: str
  sample: [sum-validate.json, sum-validate.md, sum-validate.xml, sum-validate.html]
changed_files:
  description: The files whose content was written (in check mode - would be written).
  returned: success
  type: list
  elements: str
  sample: [sum-validate.json, sum-validate.md, sum-validate.xml, sum-validate.html]
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hpsum.ports.plugins.module_utils.validate.report_files import REPORT_FILES_ARGUMENT_SPEC


def main() -> t.NoReturn:
    """Only reached without the action plugin: the report is written on the controller."""
    module = AnsibleModule(argument_spec=REPORT_FILES_ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="hpsum.ports.sum_validate_files runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
