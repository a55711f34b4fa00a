# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Temporary TCP listeners on SUM's callback ports, so callbacks can be proven before SUM runs.

The module binds every free port itself (so "busy" is decided by the kernel, with no race),
then hands the listening sockets to a detached child that accepts and closes connections
and exits by itself after ``timeout`` seconds. A JSON pidfile names the child, its ports and a
random token; stop signals a pid only when /proc/PID/cmdline carries the marker and that token.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import contextlib
import errno
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common import checks
from ansible_collections.hpsum.ports.plugins.module_utils.common._io import write_file_atomic
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError, option_error

MARKER = "hpsum.ports.port_listener"
MAX_TIMEOUT = 86400
_STOP_GRACE = 5.0

# The child: argv = [python, -c, CODE, MARKER, token, timeout, pidfile, fd,fd,...].
# Accept-and-close until the deadline or SIGTERM; then remove the pidfile if it is still ours.
CHILD_CODE = r"""
import json, os, selectors, signal, socket, sys, time
marker, token, timeout, pidfile, fds = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
def _term(signum, frame):
    raise SystemExit(0)
signal.signal(signal.SIGTERM, _term)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
deadline = time.monotonic() + timeout
sel = selectors.DefaultSelector()
for fd in fds.split(","):
    sock = socket.socket(fileno=int(fd))
    sock.setblocking(False)
    sel.register(sock, selectors.EVENT_READ)
try:
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            try:
                conn, _peer = key.fileobj.accept()
                conn.close()
            except OSError:
                pass
finally:
    try:
        with open(pidfile) as handle:
            if json.load(handle).get("token") == token:
                os.unlink(pidfile)
    except (OSError, ValueError):
        pass
"""


def validate(ports: t.Sequence[int], timeout: int, state: str) -> t.List[int]:
    """Sorted unique ports; errors name the option and the value."""
    for index, port in enumerate(ports):
        checks.port("ports[%d]" % index, port)
    if state == "started" and not ports:
        raise option_error("ports", list(ports), "is empty; state=started needs at least one port")
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise option_error("timeout", timeout, "is outside 1-%d seconds" % MAX_TIMEOUT)
    return sorted(set(ports))


def check_bind_address(address: t.Optional[str]) -> t.Optional[str]:
    """An IP address to bind (an IPv6 zone is allowed: binding a link-local address needs it), or None."""
    if address is None:
        return None
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise option_error("address", address, "is not an IP address") from None
    return address


def check_pidfile(path: str) -> str:
    """A pidfile path that can be a file: not a directory, in a directory (errors name pidfile)."""
    if os.path.isdir(path):
        raise option_error("pidfile", path, "is a directory; name a file in it (for example %s)"
                           % os.path.join(path, "hpsum_ports_listener.json"))
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.exists(parent) and not os.path.isdir(parent):
        raise option_error("pidfile", path, "is inside %s, which is not a directory" % parent)
    return path


def read_pidfile(path: str) -> t.Optional[t.Dict[str, t.Any]]:
    """The pidfile's content, or None when there is none; a garbled file counts as stale (pid 0)."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"pid": 0, "token": None, "ports": []}
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return {"pid": 0, "token": None, "ports": []}
    return data


def cmdline(pid: int) -> t.List[str]:
    """argv of a live process; [] when it is gone or a zombie (zombies have an empty cmdline)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            raw = handle.read()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def is_ours(pid: int, token: t.Optional[str]) -> bool:
    """True only when ``pid`` runs our child code with this very token (guards against pid reuse)."""
    if pid <= 0 or not token:
        return False
    argv = cmdline(pid)
    return MARKER in argv and token in argv


def port_owners(port: int, proc: str = "/proc") -> t.List[t.Dict[str, t.Any]]:
    """Processes listening on TCP ``port`` (best effort: needs /proc and the right to read other fds)."""
    inodes = set()
    for table in ("net/tcp", "net/tcp6"):
        try:
            with open(os.path.join(proc, table)) as handle:
                next(handle, None)
                for line in handle:
                    fields = line.split()
                    if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add("socket:[%s]" % fields[9])
        except OSError:
            continue
    owners = []
    if not inodes:
        return owners
    for name in os.listdir(proc):
        if not name.isdigit():
            continue
        fd_dir = os.path.join(proc, name, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        links = set()
        for fd in fds:
            try:
                links.add(os.readlink(os.path.join(fd_dir, fd)))
            except OSError:  # closed meanwhile (the listdir's own fd, for one)
                continue
        if links & inodes:
            try:
                with open(os.path.join(proc, name, "comm")) as handle:
                    program = handle.read().strip()
            except OSError:
                program = None
            owners.append({"pid": int(name), "program": program})
    return owners


def _families(address: t.Optional[str]) -> t.List[t.Tuple[int, str]]:
    """(family, address) to try: the given one, or dual-stack ``::`` then IPv4-only ``0.0.0.0``."""
    if address:
        return [(socket.AF_INET6 if ":" in address else socket.AF_INET, address)]
    return [(socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")]


def bind_port(port: int, address: t.Optional[str]) -> socket.socket:
    """A socket bound to ``port`` (not yet listening); raises OSError(EADDRINUSE) when busy."""
    last: t.Optional[OSError] = None
    for family, host in _families(address):
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:  # no IPv6 in this kernel
            last = exc
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and not address:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind((host, port))
            return sock
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise
            last = exc
    raise last if last is not None else OSError(errno.EADDRNOTAVAIL, "no address to bind")


class Listener:
    """Start or stop the temporary listener described by a pidfile."""

    def __init__(self, module: t.Any) -> None:
        self.module = module
        params = module.params
        self.state = params["state"]
        self.timeout = int(params["timeout"])
        self.ports = validate(params.get("ports") or [], self.timeout, self.state)
        self.address = check_bind_address(params.get("address") or None)
        self.pidfile = check_pidfile(params["pidfile"])
        self.check_mode = bool(getattr(module, "check_mode", False))

    def current(self) -> t.Tuple[t.Optional[t.Dict[str, t.Any]], bool]:
        """(pidfile data, whether its process is alive and ours)."""
        data = read_pidfile(self.pidfile)
        if data is None:
            return None, False
        return data, is_ours(int(data["pid"]), data.get("token"))

    def run(self) -> t.Dict[str, t.Any]:
        """Do what ``state`` asks; the result carries changed, diff and the listener's pid and ports."""
        data, alive = self.current()
        before = {"pid": data["pid"], "ports": data.get("ports", [])} if alive and data else {"pid": None, "ports": []}
        result = self._stop(data, alive) if self.state == "stopped" else self._start(data, alive)
        after = {"pid": result["pid"], "ports": result["ports"]}
        header = "%s (listener)" % self.pidfile
        result["diff"] = {"before": before, "after": after, "before_header": header, "after_header": header}
        result["pidfile"] = self.pidfile
        result["state"] = self.state
        return result

    def _stop(self, data: t.Optional[t.Dict[str, t.Any]], alive: bool) -> t.Dict[str, t.Any]:
        if data is None:
            return {"changed": False, "pid": None, "ports": [], "stopped_pid": None, "stale": False, "busy": []}
        pid = int(data["pid"])
        if not self.check_mode:
            if alive:
                terminate(pid, data.get("token"))
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.pidfile)
        return {"changed": True, "pid": None, "ports": [], "stopped_pid": pid if alive else None,
                "stale": not alive, "busy": []}

    def _start(self, data: t.Optional[t.Dict[str, t.Any]], alive: bool) -> t.Dict[str, t.Any]:
        held = sorted(data.get("ports", [])) if alive and data else []
        if alive and data and data.get("address") == self.address:
            # Nothing to do when every port is ours already or held by another program.
            busy = self._busy([p for p in self.ports if p not in held])
            if len(busy) == len([p for p in self.ports if p not in held]):
                return {"changed": False, "pid": int(data["pid"]), "ports": held, "busy": busy,
                        "stopped_pid": None, "stale": False, "expires": data.get("expires")}
        changed = data is not None  # a running listener to replace or a stale pidfile to drop
        stopped = None
        if data is not None and not self.check_mode:
            stopped = self._stop(data, alive)["stopped_pid"]
        free, busy, sockets = self._claim(set(held) if self.check_mode else set())
        if not free:
            return {"changed": changed, "pid": None, "ports": [], "busy": busy, "stopped_pid": stopped,
                    "stale": bool(data) and not alive, "expires": None}
        pid, expires = (None, None) if self.check_mode else self._spawn(free, sockets)
        return {"changed": True, "pid": pid, "ports": free, "busy": busy, "stopped_pid": stopped,
                "stale": bool(data) and not alive, "expires": expires}

    def _busy(self, ports: t.Sequence[int]) -> t.List[t.Dict[str, t.Any]]:
        """The ports of ``ports`` another program holds (each tested with a bind released at once)."""
        busy = []
        for port in ports:
            try:
                bind_port(port, self.address).close()
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    busy.append({"port": port, "owners": port_owners(port), "error": os.strerror(errno.EADDRINUSE)})
        return busy

    def _claim(self, ours: t.Set[int]) -> t.Tuple[t.List[int], t.List[t.Dict[str, t.Any]], t.List[socket.socket]]:
        """Bind every requested port that is free; busy ones are reported with their owners."""
        free, busy, sockets = [], [], []
        for port in self.ports:
            if port in ours:  # check mode: our own listener holds it and would be replaced
                free.append(port)
                continue
            try:
                sock = bind_port(port, self.address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    busy.append({"port": port, "owners": port_owners(port), "error": os.strerror(errno.EADDRINUSE)})
                    continue
                for held in sockets:
                    held.close()
                raise SumPortsError("cannot bind port %d on %s: %s" % (port, self.address or "all addresses", exc),
                                    port=port, address=self.address) from exc
            if self.check_mode:
                sock.close()
            else:
                sockets.append(sock)
            free.append(port)
        return free, busy, sockets

    def _spawn(self, ports: t.List[int], sockets: t.List[socket.socket]) -> t.Tuple[int, float]:
        """Start the detached child with the bound sockets; write the pidfile; close our copies."""
        token = os.urandom(12).hex()
        fds = []
        try:
            for sock in sockets:
                sock.listen(128)
                fds.append(sock.fileno())
            argv = [sys.executable or "/usr/bin/python3", "-c", CHILD_CODE, MARKER, token, str(self.timeout),
                    self.pidfile, ",".join(str(fd) for fd in fds)]
            started = time.time()
            child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, pass_fds=fds, close_fds=True,
                                     start_new_session=True, cwd="/")
        finally:
            for sock in sockets:
                sock.close()
        expires = round(started + self.timeout, 3)
        content = {"pid": child.pid, "token": token, "ports": ports, "address": self.address,
                   "started": round(started, 3), "expires": expires}
        try:
            directory = os.path.dirname(os.path.abspath(self.pidfile))
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o755)
            write_file_atomic(self.module, self.pidfile, json.dumps(content).encode("utf-8") + b"\n", 0o644)
        except Exception as exc:
            terminate(child.pid, token)
            raise SumPortsError("cannot write pidfile %s: %s" % (self.pidfile, exc), pidfile=self.pidfile) from exc
        return child.pid, expires


def _reap(pid: int) -> None:
    """Collect the exit status when the child is ours to wait for (same process); else init does."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def terminate(pid: int, token: t.Optional[str], grace: float = _STOP_GRACE) -> bool:
    """SIGTERM our child (SIGKILL after ``grace`` seconds); never signals a pid that is not ours."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        if not is_ours(pid, token):
            return True
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            # An exiting process loses its command line (is_ours turns false) before it is a
            # zombie: wait until it is gone or a zombie, so "stopped" means no longer running.
            if not is_ours(pid, token) and _gone(pid):
                return True
            time.sleep(0.02)
    return not is_ours(pid, token)


def _gone(pid: int) -> bool:
    """True when pid no longer runs: no such process, or a zombie waiting to be reaped."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True
