# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Runner that replays commands from a table of exact argv -> (rc, out, err) and keeps files in memory."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import CommandError, Runner

Reply = t.Tuple[int, str, str]


class ReplayRunner(Runner):
    """Commands come from ``table`` (a list of replies is consumed in order); files live in ``files``;
    ``programs`` are the running programs (None: /proc cannot tell)."""

    def __init__(self, table: t.Dict[t.Tuple[str, ...], t.Union[Reply, t.List[Reply]]],
                 files: t.Optional[t.Dict[str, bytes]] = None, commands: t.Sequence[str] = (),
                 environ: t.Optional[t.Dict[str, str]] = None, programs: t.Optional[t.Sequence[str]] = None) -> None:
        super().__init__(module=None)
        self.table = table
        self.files = dict(files or {})
        self.commands = set(commands)
        self.calls = []  # type: t.List[t.Tuple[t.Tuple[str, ...], t.Optional[str]]]
        self.writes = []  # type: t.List[str]
        self._environ = environ or {}
        self._programs = None if programs is None else set(programs)

    def which(self, name: str) -> t.Optional[str]:
        return "/usr/sbin/%s" % name if name in self.commands else None

    def run(self, argv: t.Sequence[str], data: t.Optional[str] = None, check: bool = True) -> Reply:
        key = tuple(argv)
        self.calls.append((key, data))
        if key not in self.table:
            raise AssertionError("unexpected command: %r" % (key,))
        reply = self.table[key]
        if isinstance(reply, list):
            reply = reply.pop(0) if len(reply) > 1 else reply[0]
        rc, out, err = reply
        if check and rc != 0:
            raise CommandError("%s failed" % " ".join(argv), cmd=list(argv), rc=rc, stderr=err)
        return rc, out, err

    def read(self, path: str) -> t.Optional[bytes]:
        return self.files.get(path)

    def write(self, path: str, content: t.Optional[bytes]) -> None:
        self.writes.append(path)
        if content is None:
            self.files.pop(path, None)
        else:
            self.files[path] = content

    def environ(self) -> t.Mapping[str, str]:
        return self._environ

    def programs(self) -> t.Optional[t.Set[str]]:
        return self._programs

    def argvs(self) -> t.List[t.Tuple[str, ...]]:
        """The commands run, in order."""
        return [argv for argv, _data in self.calls]


@pytest.fixture
def replay() -> t.Type[ReplayRunner]:
    """The ReplayRunner class."""
    return ReplayRunner
