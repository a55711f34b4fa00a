"""The ipfilter_rules filter: module_utils.apply.hpux.ipfilter's text, errors as AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hpsum.ports.plugins.filter.ipfilter_rules import FilterModule, ipfilter_rules
from ansible_collections.hpsum.ports.plugins.module_utils.apply.hpux import ipfilter
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan

PLAN = build_plan({"host_role": "node", "node_type": "hpux", "sum_server_os": "linux", "sum_version": "7.6.0",
                   "peers": ["198.18.0.10"]})


def test_filter_returns_the_text() -> None:
    assert FilterModule().filters()["ipfilter_rules"] is ipfilter_rules
    assert ipfilter_rules(PLAN, "hpux1") == ipfilter.render_text(PLAN, "hpux1")
    assert "pass in quick proto tcp from 198.18.0.10/32 to any port = 22 keep state\n" in ipfilter_rules(PLAN)


def test_filter_error_names_the_key() -> None:
    with pytest.raises(AnsibleFilterError, match=r"^ipfilter_rules: sum_ports.firewall: 'esxi' is not hpux"):
        ipfilter_rules({"firewall": "esxi"})
