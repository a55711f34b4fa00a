"""The windows_firewall_rules filter: module_utils.apply.windows.windows_rules' dicts, errors as AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hpsum.ports.plugins.filter.windows_firewall_rules import FilterModule, windows_firewall_rules
from ansible_collections.hpsum.ports.plugins.module_utils.apply.windows.windows_rules import windows_rules
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan

PLAN = build_plan({"host_role": "node", "node_type": "windows", "sum_server_os": "windows", "sum_version": "7.2.1",
                   "peers": ["198.18.0.10"]})


def test_filter_returns_the_rules() -> None:
    assert FilterModule().filters()["windows_firewall_rules"] is windows_firewall_rules
    assert windows_firewall_rules(PLAN) == windows_rules(PLAN)
    assert windows_firewall_rules(PLAN, outbound=True) == windows_rules(PLAN, outbound=True)
    assert len(windows_firewall_rules(PLAN, outbound=True)) == len(windows_firewall_rules(PLAN)) + 2


def test_filter_errors() -> None:
    with pytest.raises(AnsibleFilterError, match=r"^windows_firewall_rules: sum_ports.firewall: 'linux'"):
        windows_firewall_rules({"firewall": "linux"})
    with pytest.raises(AnsibleFilterError, match="outbound: 'yes' is not a boolean"):
        windows_firewall_rules(PLAN, outbound="yes")  # type: ignore[arg-type]
