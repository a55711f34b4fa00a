# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sum_ini module on real files: check/real/check/real, diff, backup, attributes, every fail_json branch."""

from __future__ import annotations

import hashlib
import os
import pathlib
import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.config import sum_ini as logic
from ansible_collections.hpsum.ports.plugins.modules import sum_ini

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "ini"
SUM_INI = (FIXTURES / "sum_sections.ini").read_bytes()


def sha(path: pathlib.Path) -> str:
    """sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def ini(tmp_path: pathlib.Path) -> pathlib.Path:
    """A sum.ini copied from the corpus."""
    path = tmp_path / "sum.ini"
    path.write_bytes(SUM_INI)
    return path


def test_check_real_check_real(run_module: t.Callable[..., t.Dict[str, t.Any]], ini: pathlib.Path) -> None:
    args = {"path": str(ini), "http_port": 80, "https_port": 443}
    expected = SUM_INI.replace(b"port=63001\nssl_port=63002", b"port=80\nssl_port=443")

    first = run_module(sum_ini.main, args, check_mode=True, diff=True)
    assert first["changed"] is True
    assert ini.read_bytes() == SUM_INI  # check mode writes nothing
    assert first["diff"]["after"].encode() == expected
    assert first["diff"]["before"].encode() == SUM_INI

    second = run_module(sum_ini.main, args, diff=True)
    assert second["changed"] is True
    assert ini.read_bytes() == expected
    assert second["diff"] == first["diff"]  # check mode predicted the real run exactly
    assert second["ports"] == {"http_port": 80, "https_port": 443, "ftp_port": None}

    digest = sha(ini)
    third = run_module(sum_ini.main, args, check_mode=True, diff=True)
    fourth = run_module(sum_ini.main, args)
    assert third["changed"] is False and fourth["changed"] is False
    assert sha(ini) == digest
    assert "diff" not in fourth  # no --diff, no diff


def test_read_only_returns_values(run_module: t.Callable[..., t.Dict[str, t.Any]], ini: pathlib.Path) -> None:
    result = run_module(sum_ini.main, {"path": str(ini)})
    assert result["changed"] is False
    assert result["flavour"] == "sum"
    assert result["values"]["HTTP"] == {"port": "63001", "ssl_port": "63002"}
    assert result["ports"] == {"http_port": 63001, "https_port": 63002, "ftp_port": None}


def test_backup_names_a_copy_of_the_old_file(
    run_module: t.Callable[..., t.Dict[str, t.Any]], ini: pathlib.Path
) -> None:
    result = run_module(sum_ini.main, {"path": str(ini), "ftp_port": 2121, "backup": True})
    backup = pathlib.Path(result["backup_file"])
    assert backup.parent == ini.parent and backup != ini
    assert backup.read_bytes() == SUM_INI
    assert b"[FTP]\nport=2121\n" in ini.read_bytes()


def test_backup_not_made_without_change_or_in_check_mode(
    run_module: t.Callable[..., t.Dict[str, t.Any]], ini: pathlib.Path
) -> None:
    assert "backup_file" not in run_module(sum_ini.main, {"path": str(ini), "http_port": 63001, "backup": True})
    assert "backup_file" not in run_module(
        sum_ini.main, {"path": str(ini), "http_port": 1, "backup": True}, check_mode=True
    )
    assert sorted(os.listdir(ini.parent)) == ["sum.ini"]


def test_owner_and_mode_are_kept(run_module: t.Callable[..., t.Dict[str, t.Any]], ini: pathlib.Path) -> None:
    os.chmod(ini, 0o600)
    if os.geteuid() == 0:
        os.chown(ini, 1234, 2345)
    before = os.stat(ini)
    run_module(sum_ini.main, {"path": str(ini), "http_port": 8080})
    after = os.stat(ini)
    assert after.st_ino != before.st_ino  # replaced by a rename, not rewritten in place
    assert (after.st_mode, after.st_uid, after.st_gid) == (before.st_mode, before.st_uid, before.st_gid)
    assert [name for name in os.listdir(ini.parent) if name != "sum.ini"] == []  # no temp file left


def test_symlink_is_followed_and_kept(run_module: t.Callable[..., t.Dict[str, t.Any]], ini: pathlib.Path) -> None:
    link = ini.parent / "link.ini"
    link.symlink_to(ini)
    run_module(sum_ini.main, {"path": str(link), "http_port": 8080, "flavour": "sum"})
    assert link.is_symlink()
    assert b"port=8080" in ini.read_bytes()


def test_create(run_module: t.Callable[..., t.Dict[str, t.Any]], tmp_path: pathlib.Path) -> None:
    path = tmp_path / "hpsum.ini"
    args = {"path": str(path), "create": True, "http_port": 80, "https_port": 443}
    predicted = run_module(sum_ini.main, args, check_mode=True, diff=True)
    assert predicted["changed"] and predicted["created"] and not path.exists()
    created = run_module(sum_ini.main, args)
    assert created["created"] is True
    assert path.read_bytes() == b"port=80\nssl_port=443\n"
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert run_module(sum_ini.main, args)["changed"] is False


# --------------------------------------------------------------------------- every fail_json branch

FAILURES = [
    ({"http_port": 70000}, "http_port: 70000 is outside 1-65535"),
    ({"https_port": 0}, "https_port: 0 is outside 1-65535"),
    ({"ftp_port": "on"}, "ftp_port: 'on' is not a port number"),
    ({"http_port": 443, "https_port": 443}, "http_port: 443 equals https_port (443)"),
    ({"https_port": 63001}, "https_port: 63001 equals the http_port in effect"),
    ({"flavour": "sum9"}, "flavour"),  # the argument spec's choices: Ansible's own message names it
    ({"http_port": "eighty"}, "http_port"),  # the argument spec's type
    ({"settings": [{"key": "a", "value": "1\n[HTTP]\nport=1"}]}, "settings[0].value: '1\\n[HTTP]\\nport=1' contains"),
    ({"settings": [{"key": "[FTP]", "value": "1"}]}, "settings[0].key: '[FTP]' contains '['"),
    ({"settings": [{"key": "a"}]}, "value"),  # required_if in the argument spec
    ({"settings": [{"key": "port", "section": "HTTP", "value": "1"}], "http_port": 2}, "already sets"),
]


@pytest.mark.parametrize(("args", "message"), FAILURES)
def test_bad_input_fails_and_leaves_the_file(
    run_module: t.Callable[..., t.Dict[str, t.Any]], ini: pathlib.Path, args: t.Dict[str, t.Any], message: str
) -> None:
    digest = sha(ini)
    result = run_module(sum_ini.main, dict(args, path=str(ini)), fails=True)
    assert message in result["msg"]
    assert sha(ini) == digest
    assert sorted(os.listdir(ini.parent)) == ["sum.ini"]


def test_error_details_are_returned(run_module: t.Callable[..., t.Dict[str, t.Any]], ini: pathlib.Path) -> None:
    result = run_module(sum_ini.main, {"path": str(ini), "http_port": 70000}, fails=True)
    assert result["option"] == "http_port" and result["value"] == 70000


def test_duplicate_key_fails(run_module: t.Callable[..., t.Dict[str, t.Any]], tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sum.ini"
    path.write_bytes((FIXTURES / "duplicate_sum.ini").read_bytes())
    result = run_module(sum_ini.main, {"path": str(path), "http_port": 80}, fails=True)
    assert str(path) in result["msg"] and "'Port'" in result["msg"] and "lines 2 and 8" in result["msg"]
    assert result["lines"] == [2, 8]


def test_missing_file_without_create(run_module: t.Callable[..., t.Dict[str, t.Any]], tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sum.ini"
    result = run_module(sum_ini.main, {"path": str(path), "http_port": 80}, fails=True)
    assert result["msg"] == f"path: {path} does not exist; set create: true to create it"
    assert not path.exists()


@pytest.mark.parametrize("check_mode", [False, True])
def test_missing_directory_with_create(
    run_module: t.Callable[..., t.Dict[str, t.Any]], tmp_path: pathlib.Path, check_mode: bool
) -> None:
    path = tmp_path / "nowhere" / "sum.ini"
    result = run_module(
        sum_ini.main, {"path": str(path), "http_port": 80, "create": True}, check_mode=check_mode, fails=True
    )
    assert "the directory of" in result["msg"] and str(path) in result["msg"]


def test_directory_is_not_an_ini_file(run_module: t.Callable[..., t.Dict[str, t.Any]], tmp_path: pathlib.Path) -> None:
    result = run_module(sum_ini.main, {"path": str(tmp_path), "http_port": 80}, fails=True)
    assert result["msg"] == f"path: {tmp_path} is a directory, not an ini file"


def test_unreadable_path(run_module: t.Callable[..., t.Dict[str, t.Any]], ini: pathlib.Path) -> None:
    # A path through a regular file: the kernel answers ENOTDIR, a real read error.
    result = run_module(sum_ini.main, {"path": str(ini / "sum.ini"), "http_port": 80}, fails=True)
    assert result["msg"].startswith(f"path: cannot read {ini / 'sum.ini'}:")


def test_auto_flavour_undecidable(run_module: t.Callable[..., t.Dict[str, t.Any]], tmp_path: pathlib.Path) -> None:
    path = tmp_path / "settings.ini"
    path.write_bytes(b"; nothing here\n")
    result = run_module(sum_ini.main, {"path": str(path), "http_port": 80}, fails=True)
    assert result["msg"].startswith("flavour: 'auto' cannot tell")


def test_write_failure_is_reported(
    run_module: t.Callable[..., t.Dict[str, t.Any]], ini: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A failing disk cannot be made here without root-proof tricks; the write helper raising stands for it.
    def refuse(*_args: t.Any, **_kwargs: t.Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(logic, "write_file_atomic", refuse)
    digest = sha(ini)
    result = run_module(sum_ini.main, {"path": str(ini), "http_port": 80}, fails=True)
    assert result["msg"].startswith(f"path: cannot write {ini}:")
    assert sha(ini) == digest
