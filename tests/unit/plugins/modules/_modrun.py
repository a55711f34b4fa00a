"""Run a module's main() in-process with given args; return (rc, result) from exit_json/fail_json."""
from __future__ import annotations

import json
import typing as t

import pytest
from ansible.module_utils.testing import patch_module_args


def run_module(main: t.Callable[[], t.Any], args: t.Dict[str, t.Any], capsys: pytest.CaptureFixture,
               check_mode: bool = False, diff: bool = False) -> t.Tuple[int, t.Dict[str, t.Any]]:
    """main() under patched module args; the exit code and the JSON it printed."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    capsys.readouterr()
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr().out
    return int(exc.value.code or 0), json.loads(out)
