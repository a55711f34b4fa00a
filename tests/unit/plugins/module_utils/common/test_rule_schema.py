"""The rule schema is the one shape of a plan rule: the facts' RETURN, the doc fragment, plans and host_firewall."""
from __future__ import annotations

import yaml

from ansible_collections.hpsum.ports.plugins.doc_fragments.plan_rules import ModuleDocFragment
from ansible_collections.hpsum.ports.plugins.module_utils.common import rule_schema
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import build_plan
from ansible_collections.hpsum.ports.plugins.modules import host_firewall, sum_port_facts

TYPES = {key: (kind, elements) for key, kind, elements in rule_schema.RULE_TYPES}


def test_facts_return_documents_the_schema() -> None:
    rules = yaml.safe_load(sum_port_facts.RETURN)["ansible_facts"]["contains"]["sum_ports"]["contains"]["rules"]
    documented = rules["contains"]
    assert tuple(documented) == rule_schema.RULE_KEYS
    assert {k: (v["type"], v.get("elements")) for k, v in documented.items()} == TYPES


def test_doc_fragment_equals_the_argument_spec() -> None:
    option = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["rules"]
    spec = rule_schema.rules_argument_spec()
    assert (option["type"], option["elements"], option["default"]) == (spec["type"], spec["elements"], spec["default"])
    assert tuple(option["suboptions"]) == rule_schema.RULE_KEYS
    for key, sub in option["suboptions"].items():
        documented = {k: v for k, v in sub.items() if k != "description"}
        assert documented == spec["options"][key], key


def test_host_firewall_takes_the_schema() -> None:
    assert host_firewall.ARGUMENT_SPEC["rules"] == rule_schema.rules_argument_spec()
    assert "hpsum.ports.plan_rules" in yaml.safe_load(host_firewall.DOCUMENTATION)["extends_documentation_fragment"]


def test_plans_make_rules_of_the_schema() -> None:
    plan = build_plan({"host_role": "node", "node_type": "linux", "sum_server_os": "linux", "sum_version": "7.6.0",
                       "peers": ["198.18.0.10"]})
    assert plan["rules"] and all(tuple(rule) == rule_schema.RULE_KEYS for rule in plan["rules"])
