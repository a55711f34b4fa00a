# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one schema of a plan rule (``sum_ports.rules[]``): its keys, their types, its argument spec.

The plan (plan/plan.py) makes rules with exactly these keys and checks plans passed back against them;
host_firewall takes them as its ``rules`` option (argument spec below, documentation in the
``hpsum.ports.plan_rules`` doc fragment); the Linux backends read them (apply/linux/base.py). A unit
test holds sum_port_facts' RETURN and the doc fragment to this schema.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common.checks import DIRECTIONS, PROTOCOLS

DEFAULT_PROTOCOL = "tcp"

# key -> (Ansible type, elements or None); the order is the order of a rule's keys.
RULE_TYPES = (
    ("direction", "str", None),
    ("protocol", "str", None),
    ("port", "int", None),
    ("peers", "list", "str"),
    ("phases", "list", "str"),
    ("required", "bool", None),
    ("reason", "str", None),
)
RULE_KEYS = tuple(key for key, _type, _elements in RULE_TYPES)


def rule_argument_spec() -> t.Dict[str, t.Dict[str, t.Any]]:
    """The argument spec of one rule, for an option of ``type=list, elements=dict``."""
    spec = {}  # type: t.Dict[str, t.Dict[str, t.Any]]
    for key, kind, elements in RULE_TYPES:
        spec[key] = {"type": kind}
        if elements:
            spec[key]["elements"] = elements
    spec["direction"].update(required=True, choices=list(DIRECTIONS))
    spec["protocol"].update(default=DEFAULT_PROTOCOL, choices=list(PROTOCOLS))
    spec["port"].update(required=True)
    spec["peers"].update(default=[])
    return spec


def rules_argument_spec() -> t.Dict[str, t.Any]:
    """The spec of a ``rules`` option: a list of plan rules (empty by default)."""
    return {"type": "list", "elements": "dict", "default": [], "options": rule_argument_spec()}
