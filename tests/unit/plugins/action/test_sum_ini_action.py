# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sum_ini action plugin up to the Windows boundary.

No Windows host exists here: a FakeWindows stands for win_stat, slurp and the win_copy action,
holding files as bytes. What is tested is everything on this side of that boundary: which
modules are called with what, that check mode writes nothing, and that the bytes sent back are
exactly what the module computes on Linux for the same file.
"""

from __future__ import annotations

import base64
import ntpath
import typing as t
from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.hpsum.ports.plugins.action.sum_ini import ActionModule
from ansible_collections.hpsum.ports.plugins.module_utils.config import sum_ini as logic

PATH = "C:\\Program Files\\Smart Update Manager\\sum.ini"
SUM_INI = b"\xef\xbb\xbf[HTTP]\r\nport=63001\r\nssl_port=63002\r\n"


class FakeWindows:
    """Files on a pretend Windows host and a log of every module or action called."""

    def __init__(self, files: t.Dict[str, bytes], dirs: t.Sequence[str] = ()) -> None:
        self.files = dict(files)
        self.dirs = set(dirs) | {ntpath.dirname(p) for p in files}
        self.calls: t.List[t.Tuple[str, t.Dict[str, t.Any]]] = []
        self.fail: t.Dict[str, str] = {}

    def execute_module(self, module_name: str, module_args: t.Dict[str, t.Any], task_vars: t.Any) -> t.Dict[str, t.Any]:
        self.calls.append((module_name, dict(module_args)))
        if module_name in self.fail:
            return {"failed": True, "msg": self.fail[module_name]}
        if module_name == "ansible.windows.win_stat":
            path = module_args["path"]
            exists = path in self.files or path in self.dirs
            return {"stat": {"exists": exists, "isdir": path in self.dirs}}
        if module_name == "ansible.windows.slurp":
            return {"content": base64.b64encode(self.files[module_args["src"]]).decode(), "encoding": "base64"}
        return {"changed": False, "ran": module_name}

    def copy_action(self, name: str, task: t.Any, **_kwargs: t.Any) -> t.Any:
        assert name == "ansible.windows.win_copy"
        host = self

        class Copy:
            def run(self, task_vars: t.Any = None) -> t.Dict[str, t.Any]:
                args = dict(task.args)
                host.calls.append((name, args))
                if name in host.fail:
                    return {"failed": True, "msg": host.fail[name]}
                with open(args["src"], "rb") as handle:
                    data = handle.read()
                result: t.Dict[str, t.Any] = {"changed": True, "dest": args["dest"]}
                if args.get("backup") and args["dest"] in host.files:
                    result["backup_file"] = args["dest"] + ".1234.bak"
                    host.files[result["backup_file"]] = host.files[args["dest"]]
                host.files[args["dest"]] = data
                return result

        return Copy()


def make_action(
    host: FakeWindows, args: t.Dict[str, t.Any], check_mode: bool = False, diff: bool = False, shell: str = "powershell"
) -> ActionModule:
    """An ActionModule wired to the fake host."""
    task = mock.MagicMock()
    task.args = dict(args)
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = diff
    task.action = "hpsum.ports.sum_ini"
    task.copy.side_effect = lambda: mock.MagicMock(args={})
    connection = mock.MagicMock()
    connection._shell.SHELL_FAMILY = shell
    connection._shell.tmpdir = "C:\\tmp"
    loader = mock.MagicMock()
    loader.action_loader.get.side_effect = host.copy_action
    action = ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), loader)
    action._execute_module = host.execute_module  # type: ignore[method-assign]
    action._shared_loader_obj = loader  # ActionBase (2.19) ignores the argument and uses the global loaders
    return action


def names(host: FakeWindows) -> t.List[str]:
    """Module and action names called, in order."""
    return [name for name, _args in host.calls]


def test_windows_change_writes_the_same_bytes_as_the_module() -> None:
    host = FakeWindows({PATH: SUM_INI})
    args = {"path": PATH, "http_port": 80, "https_port": 443}
    result = make_action(host, args, diff=True).run(task_vars={})
    expected = logic.compute(PATH, SUM_INI, dict(args, flavour="auto"))["after"]
    assert result["changed"] is True and "failed" not in result
    assert host.files[PATH] == expected == b"\xef\xbb\xbf[HTTP]\r\nport=80\r\nssl_port=443\r\n"
    assert names(host) == ["ansible.windows.win_stat", "ansible.windows.slurp", "ansible.windows.win_copy"]
    assert host.calls[-1][1]["dest"] == PATH and host.calls[-1][1]["backup"] is False
    assert result["diff"]["after_header"] == PATH
    assert result["ports"] == {"http_port": 80, "https_port": 443, "ftp_port": None}


def test_windows_check_mode_writes_nothing() -> None:
    host = FakeWindows({PATH: SUM_INI})
    result = make_action(host, {"path": PATH, "http_port": 80}, check_mode=True, diff=True).run(task_vars={})
    assert result["changed"] is True
    assert "port=80" in result["diff"]["after"]
    assert host.files[PATH] == SUM_INI
    assert "ansible.windows.win_copy" not in names(host)


def test_windows_no_change_no_write() -> None:
    host = FakeWindows({PATH: SUM_INI})
    result = make_action(host, {"path": PATH, "http_port": 63001}).run(task_vars={})
    assert result["changed"] is False
    assert "diff" not in result
    assert "ansible.windows.win_copy" not in names(host)


def test_windows_backup_returns_win_copy_backup() -> None:
    host = FakeWindows({PATH: SUM_INI})
    result = make_action(host, {"path": PATH, "ftp_port": 2121, "backup": True}).run(task_vars={})
    assert result["backup_file"] == PATH + ".1234.bak"
    assert host.files[result["backup_file"]] == SUM_INI


def test_windows_create() -> None:
    new = "C:\\HP\\hpsum\\hpsum.ini"
    host = FakeWindows({}, dirs=["C:\\HP\\hpsum"])
    result = make_action(host, {"path": new, "create": True, "http_port": 80}).run(task_vars={})
    assert result["created"] is True
    assert host.files[new] == b"port=80\n"


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({PATH: SUM_INI}, {"http_port": 80, "https_port": 80}, "http_port: 80 equals https_port (80)"),
        ({PATH: SUM_INI}, {"settings": [{"key": "a", "value": "x\n[FTP]"}]}, "settings[0].value: 'x\\n[FTP]' contains"),
        ({}, {"http_port": 80}, f"path: {PATH} does not exist; set create: true"),
        ({}, {"http_port": 80, "create": True}, f"path: the directory of {PATH} does not exist"),
        ({PATH: b"[HTTP]\nport=1\nport=2\n"}, {"http_port": 80}, "lines 2 and 3"),
    ],
)
def test_windows_bad_input_fails_before_any_write(
    files: t.Dict[str, bytes], args: t.Dict[str, t.Any], message: str
) -> None:
    host = FakeWindows(files)
    host.dirs.discard(ntpath.dirname(PATH)) if not files else None
    result = make_action(host, dict(args, path=PATH)).run(task_vars={})
    assert result["failed"] is True and message in result["msg"]
    assert host.files == files
    assert "ansible.windows.win_copy" not in names(host)


def test_windows_argument_spec_errors_name_the_option() -> None:
    host = FakeWindows({PATH: SUM_INI})
    with pytest.raises(AnsibleActionFail, match="flavour"):
        make_action(host, {"path": PATH, "flavour": "sum9"}).run(task_vars={})
    assert host.calls == []


@pytest.mark.parametrize(
    ("failing", "message"),
    [
        ("ansible.windows.win_stat", "ansible.windows.win_stat failed on"),
        ("ansible.windows.slurp", "ansible.windows.slurp failed on"),
        ("ansible.windows.win_copy", f"path: cannot write {PATH}: access denied"),
    ],
)
def test_windows_remote_failures_are_reported(failing: str, message: str) -> None:
    host = FakeWindows({PATH: SUM_INI})
    host.fail[failing] = "access denied"
    result = make_action(host, {"path": PATH, "http_port": 80}).run(task_vars={})
    assert result["failed"] is True and message in result["msg"]
    assert host.files[PATH] == SUM_INI


def test_windows_directory_is_not_an_ini_file() -> None:
    host = FakeWindows({}, dirs=[PATH])
    result = make_action(host, {"path": PATH, "http_port": 80}).run(task_vars={})
    assert result["msg"] == f"path: {PATH} is a directory, not an ini file"


def test_posix_runs_the_module() -> None:
    host = FakeWindows({})
    args = {"path": "/opt/sum/sum.ini", "http_port": 80}
    result = make_action(host, args, shell="sh").run(task_vars={})
    assert result["ran"] == "hpsum.ports.sum_ini"
    assert host.calls == [("hpsum.ports.sum_ini", args)]
