# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sum_flows_files action plugin: the export written on this machine, check mode, diff, idempotence."""

from __future__ import annotations

import os
import pathlib
import stat
import typing as t

from _actions import run_action
from _fleet import GROUPS, fleet, groups_of

from ansible_collections.hpsum.ports.plugins.action.sum_flows_files import ActionModule
from ansible_collections.hpsum.ports.plugins.module_utils.plan.flows import export_files

PLANS = fleet()
GROUP_NAMES = groups_of()
HOSTVARS = {host: {"ansible_facts": {"sum_ports": plan}, "group_names": GROUP_NAMES[host]}
            for host, plan in PLANS.items()}


def _run(dest: pathlib.Path, check: bool = False, diff: bool = False, **args: t.Any) -> t.Dict[str, t.Any]:
    return run_action(ActionModule, "hpsum.ports.sum_flows_files",
                      dict({"dest": str(dest), "hosts": GROUPS["all"], "sum_servers": ["sum1"]}, **args),
                      {"hostvars": HOSTVARS}, check=check, diff=diff)


def _expected(expiry: t.Optional[str] = None) -> t.Dict[str, str]:
    return export_files(PLANS, {h: GROUP_NAMES[h] for h in PLANS}, ["sum1"], expiry)


def _files(directory: pathlib.Path) -> t.Dict[str, str]:
    return {p.name: p.read_text() for p in sorted(directory.iterdir())}


def test_writes_the_export_then_nothing_changes(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "flows"
    first = _run(dest)
    assert first["changed"] and sorted(first["changed_files"]) == sorted(_expected())
    assert _files(dest) == _expected() and first["hosts"] == len(PLANS)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in dest.iterdir()} == {0o644}
    again = _run(dest)
    assert not again["changed"] and again["changed_files"] == []


def test_check_mode_writes_nothing_and_predicts_the_real_run(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "flows"
    predicted = _run(dest, check=True, diff=True)
    assert predicted["changed"] and not dest.exists()
    assert {d["after_header"]: d["after"] for d in predicted["diff"]} == {
        str(dest / name): text for name, text in _expected().items()}
    assert sorted(_run(dest)["changed_files"]) == sorted(predicted["changed_files"])


def test_only_a_changed_file_is_rewritten_and_keeps_its_mode(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "flows"
    _run(dest)
    os.chmod(dest / "change-request.csv", 0o600)
    before = {p.name: p.stat().st_mtime_ns for p in dest.iterdir()}
    result = _run(dest, diff=True, expiry="2026-12-31T23:00:00Z")
    assert result["changed_files"] == ["change-request.csv"]
    assert [d["before"] for d in result["diff"]] == [_expected()["change-request.csv"]]
    assert _files(dest) == _expected("2026-12-31T23:00:00Z")
    assert stat.S_IMODE((dest / "change-request.csv").stat().st_mode) == 0o600
    assert {p.name: p.stat().st_mtime_ns for p in dest.iterdir() if p.name != "change-request.csv"} == {
        n: m for n, m in before.items() if n != "change-request.csv"}
    assert sorted(p.name for p in dest.iterdir()) == sorted(_expected())  # no temporary file left


def test_a_file_in_place_of_the_directory_fails_naming_it(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "flows"
    dest.write_text("not a directory")
    result = _run(dest)
    assert result["failed"] and result["msg"] == "dest: %r exists and is not a directory" % str(dest)
