"""The inventory plugin hpsum.ports.sum_plan on real inventory files: the same plans as the sum_plan role."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import typing as t

import yaml
from ansible import context
from ansible.inventory.manager import InventoryManager
from ansible.module_utils.common.collections import ImmutableDict
from ansible.parsing.dataloader import DataLoader
from ansible.vars.manager import VariableManager

from ansible_collections.hpsum.ports.plugins.module_utils.plan.inventory import plan_fleet, settings_from_variables

ROOT = pathlib.Path(__file__).resolve().parents[4]
EXAMPLE = ROOT / "docs" / "examples" / "inventory"
ROLE_DEFAULTS = yaml.safe_load((ROOT / "roles" / "sum_plan" / "defaults" / "main.yml").read_text())


def _ansible_inventory(directory: pathlib.Path, **env: str) -> subprocess.CompletedProcess:
    environ = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), **env)
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(directory),
                           "--list"], capture_output=True, text=True, env=environ, check=False, timeout=300)


def _hostvars(directory: pathlib.Path) -> t.Dict[str, t.Dict[str, t.Any]]:
    run = _ansible_inventory(directory)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)["_meta"]["hostvars"]


def _with_plugin(tmp_path: pathlib.Path, source: pathlib.Path = EXAMPLE) -> pathlib.Path:
    directory = tmp_path / "inventory"
    shutil.copytree(source, directory)
    (directory / "zz_sum_plan.yml").write_text("plugin: hpsum.ports.sum_plan\n")
    return directory


def _expected(directory: pathlib.Path) -> t.Dict[str, t.Any]:
    """What the sum_plan role plans: plan_fleet over Ansible's own host variables of the plain inventory."""
    context.CLIARGS = ImmutableDict({})
    loader = DataLoader()
    inventory = InventoryManager(loader, [str(directory / "hosts.yml")])
    manager = VariableManager(loader=loader, inventory=inventory)
    hostvars = {h.name: manager.get_vars(host=h) for h in inventory.get_hosts()}
    settings = settings_from_variables(ROLE_DEFAULTS)
    return plan_fleet(hostvars, inventory.get_groups_dict(), settings)


def test_every_host_gets_the_role_s_plan(tmp_path: pathlib.Path) -> None:
    hostvars = _hostvars(_with_plugin(tmp_path))
    expected = _expected(EXAMPLE)
    assert expected
    got = {h: v["sum_ports"] for h, v in hostvars.items() if "sum_ports" in v}
    assert got == expected
    assert {"sum-lin1", "sum-win1", "esx1", "integrity1", "ilo-db1"} <= set(got)
    # group_vars/all.yml next to the hosts is read: its browser network is in the SUM servers' rules
    assert any("198.18.0.0/28" in r["peers"] for r in got["sum-lin1"]["rules"])
    settings = hostvars["oa1"]["sum_plan_inventory_settings"]
    assert settings["sum_plan_browser_sources"] == ["198.18.0.0/28"]
    assert settings["sum_plan_version"] == ROLE_DEFAULTS["sum_plan_version"]
    # the hosts planned, for the validation's "whole inventory" rule (a slice of a sliced job lacks some)
    assert hostvars["oa1"]["sum_plan_inventory_hosts"] == sorted(expected)


def test_host_vars_and_group_precedence(tmp_path: pathlib.Path) -> None:
    directory = _with_plugin(tmp_path)
    (directory / "host_vars").mkdir(exist_ok=True)
    (directory / "host_vars" / "sum-lin1.yml").write_text("sum_plan_https_port: 63009\n")
    plans = {h: v["sum_ports"] for h, v in _hostvars(directory).items() if "sum_ports" in v}
    assert plans["sum-lin1"]["https_port"] == 63009
    assert plans["esx1"]["https_port"] == 63009  # a node takes its SUM server's settings
    assert plans == _expected(directory)


def test_a_contract_error_fails_the_load_with_the_role_s_message(tmp_path: pathlib.Path) -> None:
    directory = _with_plugin(tmp_path)
    (directory / "host_vars").mkdir(exist_ok=True)
    (directory / "host_vars" / "esx1.yml").write_text("sum_server: nosuch\n")
    run = _ansible_inventory(directory, ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="1")
    assert run.returncode != 0
    # Older ansible-core wraps warnings at the terminal's width: compare with the line breaks folded.
    assert "sum_server: 'nosuch' (host esx1) names nosuch, which is not in group sum_servers" in " ".join(
        run.stderr.split())


def test_other_file_names_are_not_this_plugin_s(tmp_path: pathlib.Path) -> None:
    directory = tmp_path / "inventory"
    shutil.copytree(EXAMPLE, directory)
    (directory / "plan.yml").write_text("plugin: hpsum.ports.sum_plan\n")
    run = _ansible_inventory(directory)
    assert "sum_ports" not in run.stdout
