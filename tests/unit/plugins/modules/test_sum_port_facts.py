"""sum_port_facts run as a module (no action plugin): one host's plan, and the inventory modes refused."""
from __future__ import annotations

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan
from ansible_collections.hpsum.ports.plugins.modules import sum_port_facts

NODE = {"host_role": "node", "node_type": "linux", "sum_server_os": "linux", "sum_version": "7.6.0",
        "peers": ["198.18.0.10"]}


def test_one_host_plan(run_module) -> None:
    out = run_module(sum_port_facts.main, NODE)
    assert out["changed"] is False
    assert out["ansible_facts"]["sum_ports"] == build_plan(dict(NODE))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"from_inventory": True, "hosts": ["a"]}, "from_inventory: true needs the action plugin"),
        ({"use_plan": {"rules": []}}, "use_plan needs the action plugin"),
        (dict(NODE, http_port=70000), "http_port: 70000 is outside 1-65535"),
    ],
)
def test_errors(run_module, args: dict, message: str) -> None:
    out = run_module(sum_port_facts.main, args, fails=True)
    assert out["msg"].startswith(message)
