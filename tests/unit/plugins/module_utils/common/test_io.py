"""write_file_atomic: content, modes, and the old file's attributes kept."""
from __future__ import annotations

import os
import stat
import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.common._io import write_file_atomic


class _Module:
    """The two AnsibleModule methods the helper uses, with AnsibleModule's own atomic_move semantics."""

    def __init__(self) -> None:
        self.cleanup: t.List[str] = []

    def add_cleanup_file(self, path: str) -> None:
        self.cleanup.append(path)

    def atomic_move(self, src: str, dest: str, unsafe_writes: bool = False) -> None:
        if os.path.exists(dest):
            st = os.stat(dest)
            os.chmod(src, stat.S_IMODE(st.st_mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(src, 0o666 & ~umask)
        os.rename(src, dest)


@pytest.mark.parametrize("mode,expected", [(None, 0o644), (0o600, 0o600), (0o640, 0o640)])
def test_new_file_gets_the_mode(tmp_path: t.Any, mode: t.Optional[int], expected: int) -> None:
    path = tmp_path / "new.conf"
    write_file_atomic(_Module(), str(path), b"a\n", mode=mode)
    assert path.read_bytes() == b"a\n"
    assert stat.S_IMODE(path.stat().st_mode) == expected
    assert sorted(os.listdir(tmp_path)) == ["new.conf"], "no temporary file left behind"


def test_existing_file_keeps_its_mode_unless_one_is_given(tmp_path: t.Any) -> None:
    path = tmp_path / "old.conf"
    path.write_bytes(b"old\n")
    path.chmod(0o604)
    write_file_atomic(_Module(), str(path), b"new\n")
    assert path.read_bytes() == b"new\n" and stat.S_IMODE(path.stat().st_mode) == 0o604
    write_file_atomic(_Module(), str(path), b"newer\n", mode=0o600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
