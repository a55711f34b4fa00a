# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    """SUM's port settings that a plan is made with (plugins/module_utils/plan/facts_spec.py)."""

    DOCUMENTATION = r"""
options:
  phases:
    description: The phases to plan for.
    type: list
    elements: str
    choices: [inventory, deployment]
    default: [inventory, deployment]
  http_port:
    description: SUM's HTTP port (C(/port), C(port=) in hpsum.ini). Must differ from O(https_port).
    type: int
    default: 63001
  https_port:
    description: SUM's HTTPS port (C(/ssl_port), C(ssl_port=) in hpsum.ini).
    type: int
    default: 63002
  ftp_port:
    description: SUM's FTP port (C(/ftp_port)). Omitted means FTP is disabled, the default.
    type: int
  optional_ports:
    description:
      - Plan the ports the page prints in parentheses, C((80)), as rules with C(required=false).
      - VMware's HTTPS callback (rule 7) is always planned, as not required.
    type: bool
    default: true
"""
