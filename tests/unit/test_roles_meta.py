"""Every role's meta/argument_specs.yml equals its defaults/main.yml: same variables, same defaults."""
from __future__ import annotations

import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent for p in ROOT.glob("roles/*/meta/argument_specs.yml"))


def _load(path: pathlib.Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_argument_spec_equals_defaults(role: pathlib.Path) -> None:
    defaults = _load(role / "defaults" / "main.yml")
    options = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(options) == sorted(defaults), "variables differ between argument spec and defaults"
    for name, spec in options.items():
        assert spec.get("default") == defaults[name], "%s: default %r != %r" % (
            name, spec.get("default"), defaults[name])
        assert name.startswith(role.name + "_"), "%s is not prefixed with the role name" % name


def test_every_role_has_an_argument_spec() -> None:
    roles = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
    assert roles == sorted(r.name for r in ROLES)
