# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the sum_validate role: plans -> paths to prove; results -> report, Markdown, JUnit, message."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import addresses_of, proxy_of
from ansible_collections.hpsum.ports.plugins.module_utils.validate import report as vr


def _plain(value: t.Any) -> t.Any:
    """Hostvars values -> plain dicts and lists (the report is serialised as JSON and XML)."""
    if isinstance(value, t.Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def sum_validate_plan(hostvars: t.Any, hosts: t.Sequence[str], groups: t.Mapping[str, t.Sequence[str]]
                      ) -> t.Dict[str, t.Any]:
    """The play's plans -> {paths, probes (per source host), listen (per SUM server), hosts}."""
    try:
        plans = {}
        for host in groups.get("all", hosts):
            hvars = hostvars[host]
            # A fact: top-level only while facts are injected as variables (INJECT_FACTS_AS_VARS).
            plan = (hvars.get("ansible_facts") or {}).get("sum_ports") or hvars.get("sum_ports")
            if plan:
                plans[host] = _plain(plan)
        servers = {}
        for host in groups.get("sum_servers", []):
            servers[host] = list(plans[host]["addresses"]) if host in plans else addresses_of(host, hostvars[host])
        groups_of: t.Dict[str, t.List[str]] = {}
        for group, members in groups.items():
            for member in members:
                groups_of.setdefault(member, []).append(group)
        proxies = {}
        for host in plans:
            proxy = proxy_of(host, hostvars[host], hostvars)
            if proxy:
                proxies[host] = proxy
        connections = {host: hostvars[host].get("ansible_connection") for host in [*plans, *proxies.values()]}
        paths = vr.plan_paths(plans, servers, groups_of, list(hosts), connections, proxies)
    except SumPortsError as exc:
        raise AnsibleFilterError(str(exc)) from None
    return {
        "paths": paths,
        "probes": vr.probe_requests(paths),
        "listen": vr.listen_requests(paths),
        "hosts": {h: {"node_type": p.get("node_type"), "addresses": p.get("addresses")} for h, p in plans.items()},
    }


def sum_validate_report(bundle: t.Mapping[str, t.Any], hostvars: t.Any, hosts: t.Sequence[str],
                        probe_var: str, listener_var: str, meta: t.Optional[t.Mapping[str, t.Any]] = None
                        ) -> t.Dict[str, t.Any]:
    """The plan bundle + the registered port_probe / port_listener results of every host -> the report."""
    probes = {h: _plain(hostvars[h].get(probe_var)) for h in hosts}
    listeners = {h: _plain(hostvars[h].get(listener_var)) for h in hosts}
    return vr.build_report(bundle["paths"], probes, bundle["hosts"], listeners, _plain(meta or {}))


def sum_validate_markdown(report: t.Mapping[str, t.Any]) -> str:
    """The report as Markdown."""
    return vr.render_markdown(report)


def sum_validate_junit(report: t.Mapping[str, t.Any]) -> str:
    """The report as JUnit XML."""
    return vr.render_junit(report)


def sum_validate_failure(report: t.Mapping[str, t.Any], report_dir: t.Optional[str] = None) -> str:
    """The failure message (every broken required path with its fix); empty when nothing failed."""
    return vr.failure_message(report, report_dir)


class FilterModule:
    """hpsum.ports validation filters."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        """Map filter names to functions."""
        return {
            "sum_validate_plan": sum_validate_plan,
            "sum_validate_report": sum_validate_report,
            "sum_validate_markdown": sum_validate_markdown,
            "sum_validate_junit": sum_validate_junit,
            "sum_validate_failure": sum_validate_failure,
        }
