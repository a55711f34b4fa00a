# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters: the fleet's sum_ports facts -> flow rows, CSV, Markdown, a Mermaid diagram and a change request."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.hpsum.ports.plugins.module_utils.plan import flows as flows_lib
from ansible_collections.hpsum.ports.plugins.plugin_utils.fleet_plan import plans_of as _plans


def sum_flows(hostvars: t.Any, hosts: t.Sequence[str]) -> t.List[t.Dict[str, t.Any]]:
    """Rows for every host in ``hosts`` that has sum_ports."""
    return flows_lib.flow_rows(*_plans(hostvars, hosts))


def sum_flows_manual(hostvars: t.Any, hosts: t.Sequence[str]) -> str:
    """The HP-UX nodes' IPFilter lines, a manual step ("" when there is no HP-UX node)."""
    return flows_lib.manual_steps(_plans(hostvars, hosts)[0])


def sum_flows_export(hostvars: t.Any, hosts: t.Sequence[str], sum_servers: t.Sequence[str],
                     inventory_plans: bool = False, expiry: t.Optional[str] = None) -> t.Dict[str, str]:
    """The whole export, file name -> text, in one pass over the plans."""
    plans, group_names = _plans(hostvars, hosts, inventory_plans)
    try:
        return flows_lib.export_files(plans, group_names, sum_servers, expiry)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


def sum_flows_csv(rows: t.Sequence[t.Mapping[str, t.Any]]) -> str:
    """CSV text."""
    return flows_lib.to_csv(rows)


def sum_flows_change_request(rows: t.Sequence[t.Mapping[str, t.Any]], action: str = "accept",
                             expiry: t.Optional[str] = None) -> str:
    """Flow rows -> a change request as CSV (accept at open, remove at close)."""
    try:
        return flows_lib.change_request_csv(rows, action, expiry)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


def sum_flows_markdown(rows: t.Sequence[t.Mapping[str, t.Any]]) -> str:
    """Markdown table text."""
    return flows_lib.to_markdown(rows)


def sum_flows_mermaid(rows: t.Sequence[t.Mapping[str, t.Any]], sum_servers: t.Sequence[str]) -> str:
    """Mermaid flowchart text."""
    return flows_lib.to_mermaid(rows, sum_servers)


class FilterModule:
    """hpsum.ports flows filters."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        """Map filter names to functions."""
        return {
            "sum_flows": sum_flows,
            "sum_flows_manual": sum_flows_manual,
            "sum_flows_export": sum_flows_export,
            "sum_flows_csv": sum_flows_csv,
            "sum_flows_change_request": sum_flows_change_request,
            "sum_flows_markdown": sum_flows_markdown,
            "sum_flows_mermaid": sum_flows_mermaid,
        }
