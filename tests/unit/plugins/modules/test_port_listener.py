"""port_listener module: real listeners on this machine, busy ports, check mode, stop by verified pid."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.validate import listener as lst
from ansible_collections.hpsum.ports.plugins.module_utils.validate.probe import Target, probe
from ansible_collections.hpsum.ports.plugins.modules import port_listener


def _free_ports(count: int) -> t.List[int]:
    socks = [socket.socket(socket.AF_INET6) for dummy in range(count)]
    try:
        for sock in socks:
            sock.bind(("::", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def _alive(pid: int) -> bool:
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _states(ports: t.Sequence[int]) -> t.List[str]:
    return [r["state"] for r in probe([Target(a, p) for p in ports for a in ("127.0.0.1", "::1")], timeout=1)]


@pytest.fixture
def pidfile(tmp_path: t.Any) -> t.Iterator[str]:
    path = str(tmp_path / "run" / "listener.json")
    yield path
    data = lst.read_pidfile(path)  # never leave a listener behind, even when a test fails
    if data:
        lst.terminate(int(data["pid"]), data.get("token"), grace=1)


def test_start_busy_idempotent_stop(run_module: t.Any, pidfile: str) -> None:
    free1, free2 = _free_ports(2)
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("0.0.0.0", 0))
        busy.listen(8)
        busy_port = busy.getsockname()[1]
        args = {"ports": [free1, busy_port, free2, free1], "timeout": 60, "pidfile": pidfile}

        checked = run_module(port_listener.main, args, check_mode=True)
        assert (checked["changed"], checked["pid"], checked["ports"]) == (True, None, sorted([free1, free2]))
        assert not os.path.exists(pidfile)
        assert _states([free1, free2]) == ["closed"] * 4  # check mode left nothing listening

        started = run_module(port_listener.main, args, diff=True)
        assert started["changed"] is True
        assert started["ports"] == sorted([free1, free2])
        assert [b["port"] for b in started["busy"]] == [busy_port]
        with open("/proc/self/comm") as handle:
            me = {"pid": os.getpid(), "program": handle.read().strip()}
        assert me in started["busy"][0]["owners"]
        pid = started["pid"]
        with open(pidfile) as handle:
            assert _alive(pid) and lst.is_ours(pid, json.load(handle)["token"])
        assert started["diff"]["before"] == {"pid": None, "ports": []}
        assert started["diff"]["after"] == {"pid": pid, "ports": sorted([free1, free2])}
        assert _states([free1, free2]) == ["open"] * 4  # dual-stack: IPv4 and IPv6
        with open(pidfile) as handle:
            assert set(json.load(handle)) == {"pid", "token", "ports", "address", "started", "expires"}
        assert oct(os.stat(pidfile).st_mode & 0o777) == "0o644"

        again = run_module(port_listener.main, args)
        assert (again["changed"], again["pid"]) == (False, pid)
        assert _states([busy_port]) == ["open", "closed"]  # the other program's port was never taken

    check_stop = run_module(port_listener.main, {"state": "stopped", "pidfile": pidfile}, check_mode=True)
    assert (check_stop["changed"], _alive(pid)) == (True, True)

    stopped = run_module(port_listener.main, {"state": "stopped", "pidfile": pidfile})
    assert (stopped["changed"], stopped["stopped_pid"], stopped["stale"]) == (True, pid, False)
    assert not _alive(pid)
    assert not os.path.exists(pidfile)
    assert _states([free1, free2]) == ["closed"] * 4

    again = run_module(port_listener.main, {"state": "stopped", "pidfile": pidfile})
    assert (again["changed"], again["stopped_pid"]) == (False, None)


def test_other_ports_replace_the_running_listener(run_module: t.Any, pidfile: str) -> None:
    first, second = _free_ports(2)
    one = run_module(port_listener.main, {"ports": [first], "pidfile": pidfile})
    two = run_module(port_listener.main, {"ports": [first, second], "pidfile": pidfile})
    assert two["changed"] is True and two["stopped_pid"] == one["pid"] and two["ports"] == sorted([first, second])
    assert not _alive(one["pid"]) and _alive(two["pid"])
    run_module(port_listener.main, {"state": "stopped", "pidfile": pidfile})
    assert not _alive(two["pid"])


def test_exits_by_itself_after_timeout_and_removes_pidfile(run_module: t.Any, pidfile: str) -> None:
    (port,) = _free_ports(1)
    started = run_module(port_listener.main, {"ports": [port], "timeout": 1, "pidfile": pidfile})
    deadline = time.monotonic() + 10
    while _alive(started["pid"]) and time.monotonic() < deadline:
        os.waitpid(started["pid"], os.WNOHANG)  # it is our child here; in a play init reaps it
        time.sleep(0.05)
    assert not _alive(started["pid"])
    assert not os.path.exists(pidfile)
    assert _states([port]) == ["closed", "closed"]


def test_stale_pidfile_never_signals_a_foreign_pid(run_module: t.Any, pidfile: str) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        os.makedirs(os.path.dirname(pidfile), exist_ok=True)
        with open(pidfile, "w") as handle:
            json.dump({"pid": other.pid, "token": "not-its-token", "ports": [1]}, handle)
        out = run_module(port_listener.main, {"state": "stopped", "pidfile": pidfile})
        assert (out["changed"], out["stale"], out["stopped_pid"]) == (True, True, None)
        assert other.poll() is None  # still running: not ours, not signalled
        assert not os.path.exists(pidfile)
    finally:
        other.kill()
        other.wait()


def test_garbled_pidfile_is_stale(run_module: t.Any, pidfile: str) -> None:
    os.makedirs(os.path.dirname(pidfile), exist_ok=True)
    with open(pidfile, "w") as handle:
        handle.write("{not json")
    (port,) = _free_ports(1)
    out = run_module(port_listener.main, {"ports": [port], "pidfile": pidfile})
    assert (out["changed"], out["stale"]) == (True, True)
    assert _alive(out["pid"])
    run_module(port_listener.main, {"state": "stopped", "pidfile": pidfile})


def test_all_ports_busy_starts_nothing(run_module: t.Any, pidfile: str) -> None:
    with socket.socket(socket.AF_INET6) as busy:
        busy.bind(("::", 0))
        busy.listen(1)
        out = run_module(port_listener.main, {"ports": [busy.getsockname()[1]], "pidfile": pidfile})
    assert (out["changed"], out["pid"], out["ports"]) == (False, None, [])
    assert len(out["busy"]) == 1
    assert not os.path.exists(pidfile)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"ports": [0]}, "ports[0]: 0 is outside 1-65535"),
        ({"ports": [22, 65536]}, "ports[1]: 65536 is outside 1-65535"),
        ({"ports": []}, "ports: [] is empty; state=started needs at least one port"),
        ({"ports": [63001], "timeout": 0}, "timeout: 0 is outside 1-86400 seconds"),
        ({"ports": [63001], "state": "running"}, "value of state must be one of: started, stopped"),
        ({"ports": [63001], "address": "198.18.0.125"}, "cannot bind port 63001 on 198.18.0.125"),
        ({"ports": [63001], "address": "not-an-ip"}, "address: 'not-an-ip' is not an IP address"),
    ],
)
def test_bad_input_fails_before_any_change(run_module: t.Any, pidfile: str, args: dict,
                                           message: str) -> None:
    out = run_module(port_listener.main, dict(args, pidfile=pidfile), fails=True)
    assert out["failed"] is True
    assert message in out["msg"]
    assert not os.path.exists(pidfile)


def test_cmdline_and_ownership_checks() -> None:
    assert lst.cmdline(os.getpid())
    assert lst.cmdline(2**22 + 12345) == []
    assert lst.is_ours(os.getpid(), "x") is False
    assert lst.is_ours(0, "x") is False
    assert lst.read_pidfile("/nonexistent/dir/file") is None


def test_pidfile_that_is_a_directory_fails_naming_pidfile(run_module: t.Any, tmp_path: t.Any) -> None:
    for check_mode in (True, False):  # check mode fails the same way, and changes nothing
        out = run_module(port_listener.main, {"ports": [63001], "pidfile": str(tmp_path)}, check_mode=check_mode,
                         fails=True)
        assert out["msg"].startswith("pidfile: %r is a directory" % str(tmp_path)), out["msg"]
        out = run_module(port_listener.main, {"state": "stopped", "pidfile": str(tmp_path)}, check_mode=check_mode,
                         fails=True)
        assert out["msg"].startswith("pidfile: %r is a directory" % str(tmp_path))
    assert list(tmp_path.iterdir()) == []
