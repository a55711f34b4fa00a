# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A reusable fixture to run a module's main() in-process: args in, exit_json/fail_json out as exceptions.

Usage::

    def test_x(run_module):
        result = run_module(sum_ini.main, {"path": "/tmp/x"}, check_mode=True, diff=True)
        assert result["changed"]
        failure = run_module(sum_ini.main, {"path": 1}, fails=True)
        assert "path" in failure["msg"]
"""

from __future__ import annotations

import typing as t

import pytest
from _module_args import patch_module_args
from ansible.module_utils import basic


class ModuleExit(Exception):
    """exit_json was called; ``result`` holds its keyword arguments."""

    def __init__(self, result: t.Dict[str, t.Any]) -> None:
        super().__init__(result)
        self.result = result


class ModuleFail(Exception):
    """fail_json was called; ``result`` holds msg and its other keyword arguments."""

    def __init__(self, result: t.Dict[str, t.Any]) -> None:
        super().__init__(result.get("msg"))
        self.result = result


def _exit_json(self: basic.AnsibleModule, **kwargs: t.Any) -> t.NoReturn:
    kwargs.setdefault("changed", False)
    raise ModuleExit(kwargs)


def _fail_json(self: basic.AnsibleModule, msg: str, **kwargs: t.Any) -> t.NoReturn:
    kwargs["msg"] = msg
    kwargs["failed"] = True
    raise ModuleFail(kwargs)


# This folder is a package (its __init__.py) so that tests here may share a basename with tests in
# module_utils/ (test_sum_ini.py is in both).

RunModule = t.Callable[..., t.Dict[str, t.Any]]


@pytest.fixture
def run_module(monkeypatch: pytest.MonkeyPatch) -> RunModule:
    """Call ``main`` with ``args``; return exit_json's result, or fail_json's when ``fails=True``.

    A run that ends the other way than expected fails the test with the module's own result.
    """
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)

    def _run(
        main: t.Callable[[], t.Any],
        args: t.Dict[str, t.Any],
        check_mode: bool = False,
        diff: bool = False,
        fails: bool = False,
    ) -> t.Dict[str, t.Any]:
        full = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        with patch_module_args(full):
            try:
                main()
            except ModuleExit as done:
                if fails:
                    pytest.fail(f"expected fail_json, got exit_json: {done.result!r}")
                return done.result
            except ModuleFail as failed:
                if not fails:
                    pytest.fail(f"expected exit_json, got fail_json: {failed.result!r}")
                return failed.result
        pytest.fail("the module returned without calling exit_json or fail_json")

    return _run
