# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sum_validate_files action plugin: the report's four files written on this machine, the same text as the
filters give, check mode, diff, idempotence, bad input."""

from __future__ import annotations

import json
import os
import pathlib
import stat
import typing as t

import pytest
from _actions import run_action
from _fleet import GROUPS, HOSTVARS, fleet
from ansible.errors import AnsibleFilterError

from ansible_collections.hpsum.ports.plugins.action.sum_validate_files import ActionModule
from ansible_collections.hpsum.ports.plugins.filter.sum_validate import FilterModule
from ansible_collections.hpsum.ports.plugins.filter.sum_validate_html import sum_validate_html

FILTERS = FilterModule().filters()
NAMES = ["sum-validate.json", "sum-validate.md", "sum-validate.xml", "sum-validate.html"]


def _report(generated: str = "2026-12-02T20:00:00Z") -> t.Dict[str, t.Any]:
    """The report of the test fleet with every probed path open, as the role builds it."""
    plans = fleet()
    hostvars = {h: dict(v, sum_ports=plans[h]) if h in plans else dict(v) for h, v in HOSTVARS.items()}
    bundle = FILTERS["sum_validate_plan"](hostvars, list(GROUPS["all"]), GROUPS)
    for source, targets in bundle["probes"].items():
        hostvars[source]["probe"] = {"results": [dict(id=target["id"], state="open", reason="connected",
                                                      elapsed_ms=1.0, error=None) for target in targets]}
    hostvars["sum1"]["listener"] = {"pid": 10, "ports": bundle["listen"]["sum1"], "busy": []}
    return FILTERS["sum_validate_report"](bundle, hostvars, list(GROUPS["all"]), "probe", "listener",
                                          {"generated": generated})


def _run(dest: pathlib.Path, report: t.Any, check: bool = False, diff: bool = False) -> t.Dict[str, t.Any]:
    return run_action(ActionModule, "hpsum.ports.sum_validate_files", {"dest": str(dest), "report": report}, {},
                      check=check, diff=diff)


def test_writes_the_filters_text_then_nothing_changes(tmp_path: pathlib.Path) -> None:
    report = _report()
    dest = tmp_path / "report"
    first = _run(dest, report)
    assert first["changed"] and first["files"] == NAMES and first["changed_files"] == NAMES
    nice_json = json.dumps(report, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"
    assert (dest / "sum-validate.json").read_text() == nice_json
    assert json.loads((dest / "sum-validate.json").read_text()) == report
    assert (dest / "sum-validate.md").read_text() == FILTERS["sum_validate_markdown"](report)
    assert (dest / "sum-validate.xml").read_text() == FILTERS["sum_validate_junit"](report)
    assert (dest / "sum-validate.html").read_text() == sum_validate_html(report)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in dest.iterdir()} == {0o644}
    again = _run(dest, report)
    assert not again["changed"] and again["changed_files"] == []


def test_a_new_report_rewrites_what_changed_and_keeps_modes(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "report"
    _run(dest, _report())
    os.chmod(dest / "sum-validate.html", 0o600)
    later = _report("2026-12-02T21:00:00Z")
    result = _run(dest, later, diff=True)
    assert result["changed"] and "sum-validate.json" in result["changed_files"]
    assert [d["after_header"] for d in result["diff"]] == [str(dest / n) for n in result["changed_files"]]
    assert json.loads((dest / "sum-validate.json").read_text())["meta"]["generated"] == "2026-12-02T21:00:00Z"
    assert stat.S_IMODE((dest / "sum-validate.html").stat().st_mode) == 0o600
    assert sorted(p.name for p in dest.iterdir()) == sorted(NAMES)  # no temporary file left


def test_check_mode_writes_nothing_and_predicts_the_real_run(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "report"
    predicted = _run(dest, _report(), check=True, diff=True)
    assert predicted["changed"] and not dest.exists() and predicted["changed_files"] == NAMES
    real = _run(dest, _report(), diff=True)
    assert real["diff"] == predicted["diff"]


@pytest.mark.parametrize("report, message", [
    ({"paths": []}, "report: must be the result of hpsum.ports.sum_validate_report; it has no failed, summary, "
                    "groups"),
    ({"failed": False, "summary": {}, "paths": []}, "report: must be the result of "
                                                    "hpsum.ports.sum_validate_report; it has no groups"),
])
def test_a_value_that_is_no_report_fails_naming_the_option(tmp_path: pathlib.Path, report: t.Any,
                                                           message: str) -> None:
    result = _run(tmp_path / "report", report)
    assert result["failed"] and result["msg"] == message
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("value, message", [
    ("text", "sum_validate_html: must be the result of hpsum.ports.sum_validate_report, got str"),
    ({"paths": [], "groups": {}}, "sum_validate_html: must be the result of hpsum.ports.sum_validate_report; it has "
                                  "no failed, summary"),
])
def test_the_html_filter_refuses_what_the_action_refuses(value: t.Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError) as raised:
        sum_validate_html(value)
    assert str(raised.value) == message


def test_a_file_in_place_of_the_directory_fails_naming_it(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "report"
    dest.write_text("not a directory")
    result = _run(dest, _report())
    assert result["failed"] and result["msg"] == "dest: %r exists and is not a directory" % str(dest)
    assert dest.read_text() == "not a directory"
