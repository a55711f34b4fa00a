"""The roles' port and phase defaults are the port matrix's: a role default that drifts from it fails here."""
from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.hpsum.ports.plugins.module_utils.plan import port_matrix as pm
from ansible_collections.hpsum.ports.plugins.module_utils.plan.plan import DEFAULTS

ROOT = pathlib.Path(__file__).resolve().parents[3]
SUM_PLAN = yaml.safe_load((ROOT / "roles" / "sum_plan" / "defaults" / "main.yml").read_text())


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("sum_plan_http_port", pm.DEFAULT_HTTP_PORT),
        ("sum_plan_https_port", pm.DEFAULT_HTTPS_PORT),
        ("sum_plan_phases", list(pm.PHASES)),
    ],
)
def test_sum_plan_defaults_come_from_the_matrix(variable: str, expected: object) -> None:
    assert SUM_PLAN[variable] == expected


@pytest.mark.parametrize("option", ["http_port", "https_port", "ftp_port", "phases", "browser_sources",
                                    "optional_ports"])
def test_sum_plan_defaults_equal_the_plan_defaults(option: str) -> None:
    assert SUM_PLAN["sum_plan_" + option] == DEFAULTS[option]
