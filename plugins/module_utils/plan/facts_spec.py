# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The argument spec of sum_port_facts, shared by the action plugin and the module file."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan import port_matrix as pm
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import DEFAULTS, build_plan

ARGUMENT_SPEC = {
    "from_inventory": {"type": "bool", "default": False},
    "hosts": {"type": "list", "elements": "str"},
    "use_plan": {"type": "dict"},
    "host_role": {"type": "str", "choices": list(pm.HOST_ROLES)},
    "node_type": {"type": "str", "choices": list(pm.NODE_TYPES)},
    "sum_server_os": {"type": "str", "choices": list(pm.SERVER_OSES)},
    "sum_version": {"type": "str"},
    "phases": {"type": "list", "elements": "str", "choices": list(pm.PHASES), "default": DEFAULTS["phases"]},
    "http_port": {"type": "int", "default": DEFAULTS["http_port"]},
    "https_port": {"type": "int", "default": DEFAULTS["https_port"]},
    "ftp_port": {"type": "int"},
    "peers": {"type": "list", "elements": "raw", "default": []},
    "browser_sources": {"type": "list", "elements": "str", "default": []},
    "optional_ports": {"type": "bool", "default": DEFAULTS["optional_ports"]},
    "addresses": {"type": "list", "elements": "str", "default": []},
    "sum_servers": {"type": "list", "elements": "str", "default": []},
}
REQUIRED_BY = {"hosts": ("from_inventory",)}
REQUIRED_IF = [("host_role", "node", ("node_type",))]
# from_inventory: the options that are fleet settings, and the sum_plan variable each stands for.
SETTING_OPTIONS = ("sum_version", "phases", "http_port", "https_port", "ftp_port", "browser_sources", "optional_ports")
MUTUALLY_EXCLUSIVE = [("from_inventory", "host_role"), ("from_inventory", "node_type"),
                      ("from_inventory", "sum_server_os"), ("use_plan", "host_role"), ("use_plan", "from_inventory")]


class SumPortFacts:
    """The sum_port_facts module run on a host without its action plugin: one host's plan from its options."""

    def __init__(self, module: t.Any) -> None:
        self.module = module

    def run(self) -> t.Dict[str, t.Any]:
        """The plan as ``ansible_facts.sum_ports``; the inventory modes need the controller."""
        params = dict(self.module.params)
        if params.pop("from_inventory"):
            raise SumPortsError("from_inventory: true needs the action plugin (the inventory is on the controller)")
        params.pop("hosts")
        if params.pop("use_plan") is not None:
            raise SumPortsError("use_plan needs the action plugin")
        return {"changed": False, "ansible_facts": {"sum_ports": build_plan(params)}}
