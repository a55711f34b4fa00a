# SPDX-License-Identifier: GPL-3.0-or-later
"""Processes, files, mounts and links of the machine the lab runs on (no lab knowledge here)."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
from typing import List, Optional, Sequence, Union


class LabError(Exception):
    """A lab command failed: the message says what and why."""


def log(msg: str) -> None:
    """Print a progress line on stderr (stdout carries results only)."""
    print(msg, file=sys.stderr, flush=True)


def run(
    argv: Sequence[str], check: bool = True, capture: bool = True, timeout: int = 120, input_text: Optional[str] = None
) -> subprocess.CompletedProcess:
    """Run ARGV; with check, a non-zero exit raises LabError with the tail of its output."""
    proc = subprocess.run(
        list(argv),
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
        text=True,
        timeout=timeout,
        input=input_text,
        check=False,
    )
    if check and proc.returncode != 0:
        out = ((proc.stderr or "") + (proc.stdout or "")).strip()[-2000:]
        raise LabError(f"{' '.join(argv)} failed (rc {proc.returncode}): {out}")
    return proc


def write_if_changed(path: str, content: Union[str, bytes], mode: int = 0o644) -> bool:
    """Write PATH atomically unless it already has CONTENT and MODE; True when written."""
    data = content.encode() if isinstance(content, str) else content
    try:
        with open(path, "rb") as fh:
            if fh.read() == data and (os.stat(path).st_mode & 0o7777) == mode:
                return False
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".hpsl-tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


def symlink_force(target: str, path: str) -> None:
    """Make PATH a symlink to TARGET (replacing whatever is there)."""
    if os.path.islink(path) and os.readlink(path) == target:
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


class FileLock:
    """An exclusive flock on a file, held for a with-block (waits, saying so, when taken)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fh = None

    def __enter__(self) -> FileLock:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fh = open(self.path, "a")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for lock {self.path}")
            fcntl.flock(self.fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def pid_alive(pid: int) -> bool:
    """True when PID exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def pid_cmdline(pid: int) -> List[bytes]:
    """The command line of PID, split at NULs (empty when it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().split(b"\0")
    except OSError:
        return []


def nsenter_argv(pid: int, argv: Sequence[str]) -> List[str]:
    """ARGV run inside every namespace of PID, with a clean environment."""
    return [
        "nsenter",
        "-t",
        str(pid),
        "-m",
        "-u",
        "-i",
        "-n",
        "-p",
        "--",
        "/usr/bin/env",
        "-i",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root",
        "LANG=C.UTF-8",
        "TERM=dumb",
        *argv,
    ]


def is_mounted(path: str) -> bool:
    """True when PATH is a mount point."""
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            if line.split()[4].replace("\\040", " ") == path:
                return True
    return False


def link_exists(name: str, netns: Optional[str] = None) -> bool:
    """True when network link NAME exists (in NETNS, or the root namespace)."""
    argv = ["ip"] + (["-n", netns] if netns else []) + ["link", "show", "dev", name]
    return run(argv, check=False).returncode == 0


def netns_exists(name: str) -> bool:
    """True when the named network namespace exists."""
    return os.path.exists(os.path.join("/run/netns", name))


def tcp_ready(address: object, port: int, timeout: float = 1.0) -> bool:
    """True when ADDRESS:PORT accepts a connection (port 22: and sends an SSH banner)."""
    try:
        with socket.create_connection((str(address), port), timeout=timeout) as sock:
            if port == 22:
                sock.settimeout(timeout)
                return sock.recv(4).startswith(b"SSH")
            return True
    except OSError:
        return False
