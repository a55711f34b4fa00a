"""probe: state classification with real sockets (loopback, and a network namespace made here)."""
from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.validate import probe
from ansible_collections.hpsum.ports.plugins.module_utils.validate.probe import Target


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (0, ("open", "connected")),
        (errno.ECONNREFUSED, ("closed", "refused")),
        (errno.ECONNRESET, ("closed", "refused")),
        (errno.ETIMEDOUT, ("filtered", "timeout")),
        (errno.EHOSTUNREACH, ("filtered", "host unreachable")),
        (errno.ENETUNREACH, ("filtered", "network unreachable")),
        (errno.EPERM, ("filtered", "blocked on source")),
        (errno.EACCES, ("filtered", "blocked on source")),
        (errno.EADDRNOTAVAIL, ("error", "EADDRNOTAVAIL")),
        (errno.EAFNOSUPPORT, ("error", "EAFNOSUPPORT")),
    ],
)
def test_classify_errno(code: int, expected: t.Tuple[str, str]) -> None:
    assert probe.classify_errno(code) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([{"address": "", "port": 22}], "targets[0].address: '' is not a host name or an IP address"),
        ([{"address": "a", "port": 22}, {"address": "b", "port": 70000}], "targets[1].port: 70000 is outside 1-65535"),
        ([{"address": "a", "port": 0}], "targets[0].port: 0 is outside 1-65535"),
        ([{"address": "a", "port": True}], "targets[0].port: True is not a port number (an integer 1-65535)"),
        ([{"address": "a", "port": 1, "protocol": "sctp"}], "targets[0].protocol: 'sctp' is not one of tcp, udp"),
    ],
)
def test_validate_targets_errors(raw: t.List[t.Dict[str, t.Any]], message: str) -> None:
    with pytest.raises(SumPortsError) as exc:
        probe.validate_targets(raw)
    assert str(exc.value) == message


def test_validate_targets_defaults_and_ids() -> None:
    got = probe.validate_targets([{"address": " 198.18.0.1 ", "port": 22, "id": 7}, {"address": "::1", "port": 1}])
    assert got == [Target("198.18.0.1", 22, "tcp", "7"), Target("::1", 1, "tcp", None)]


def test_source_address_is_bound_or_reported() -> None:
    with _listener() as listening:
        port = listening.getsockname()[1]
        results = probe.probe([Target("127.0.0.1", port, id="ok", source="127.0.0.2"),
                               Target("127.0.0.1", port, id="bad", source="198.18.0.125")], timeout=1)
    assert (results[0]["state"], results[0]["source"]) == ("open", "127.0.0.2")
    assert (results[1]["state"], results[1]["reason"]) == ("error", "socket")
    assert results[1]["error"].startswith("cannot use source address 198.18.0.125")


@pytest.mark.parametrize(
    ("timeout", "concurrency", "message"),
    [
        (0, 1, "timeout: 0 is outside 0-3600 seconds (exclusive of 0)"),
        (-1.5, 1, "timeout: -1.5 is outside"),
        (3601, 1, "timeout: 3601 is outside"),
        (1, 0, "concurrency: 0 is outside 1-65535"),
    ],
)
def test_validate_limits(timeout: float, concurrency: int, message: str) -> None:
    with pytest.raises(SumPortsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        probe.validate_limits(timeout, concurrency)


def _listener(family: int = socket.AF_INET, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(1024)
    return sock


def _closed_port(family: int = socket.AF_INET, host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago and has no listener (bound, then closed)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_loopback_open_closed_udp_and_unresolvable_ipv4_ipv6() -> None:
    with _listener() as v4, _listener(socket.AF_INET6, "::1") as v6:
        targets = [
            Target("127.0.0.1", v4.getsockname()[1], id="v4-open"),
            Target("127.0.0.1", _closed_port(), id="v4-closed"),
            Target("::1", v6.getsockname()[1], id="v6-open"),
            Target("::1", _closed_port(socket.AF_INET6, "::1"), id="v6-closed"),
            Target("127.0.0.1", 137, "udp", id="udp"),
            Target("name.invalid", 22, id="bad-name"),
            Target("localhost", v4.getsockname()[1], id="by-name"),
        ]
        results = probe.probe(targets, timeout=2, concurrency=3)
    states = {r["id"]: (r["state"], r["reason"]) for r in results}
    assert states == {
        "v4-open": ("open", "connected"),
        "v4-closed": ("closed", "refused"),
        "v6-open": ("open", "connected"),
        "v6-closed": ("closed", "refused"),
        "udp": ("untested", "udp"),
        "bad-name": ("error", "resolve"),
        "by-name": ("open", "connected"),
    }
    assert [r["id"] for r in results] == [tg.id for tg in targets]  # input order
    assert results[1]["error"].startswith("ECONNREFUSED")
    assert results[2]["resolved"] == "::1"
    assert results[4]["error"] == "a TCP connect cannot prove a UDP port"
    assert all(r["elapsed_ms"] >= 0 for r in results)
    assert probe.summarize(results) == {"open": 3, "closed": 2, "filtered": 0, "error": 1, "untested": 1}


def test_many_pairs_with_small_concurrency_keep_order() -> None:
    with _listener() as listening:
        open_port, closed_port = listening.getsockname()[1], _closed_port()
        targets = [Target("127.0.0.1", open_port if i % 2 else closed_port, id=str(i)) for i in range(300)]
        results = probe.probe(targets, timeout=2, concurrency=7)
    assert [r["id"] for r in results] == [str(i) for i in range(300)]
    assert [r["state"] for r in results] == ["open" if i % 2 else "closed" for i in range(300)]


def test_run_probe_shape() -> None:
    with _listener() as listening:
        out = probe.run_probe({"targets": [{"address": "127.0.0.1", "port": listening.getsockname()[1]}],
                               "timeout": 1.0, "concurrency": 4})
    assert out["changed"] is False
    assert out["summary"]["open"] == 1
    assert out["concurrency"] == 4
    assert set(out["results"][0]) == {"id", "address", "port", "protocol", "state", "reason", "elapsed_ms",
                                      "error", "resolved", "source"}


def test_effective_concurrency_capped_by_open_file_limit() -> None:
    import resource

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert probe.effective_concurrency(10) == 10
    if soft != resource.RLIM_INFINITY:
        assert probe.effective_concurrency(10**6) == soft - 64


# ---- filtered: a network namespace of our own, 198.18.0.96/27 (the validation slice) ----

NETNS_PROBE = r"""
import json, socket, sys
from ansible_collections.hpsum.ports.plugins.module_utils.validate import probe
spec = json.loads(sys.argv[1])
listening = []
for port in spec["listen"]:
    s = socket.socket(); s.bind((spec["self"], port)); s.listen(8); listening.append(s)
targets = [probe.Target(a, p, id=i) for a, p, i in spec["targets"]]
import time
start = time.monotonic()
res = probe.probe(targets, timeout=spec["timeout"], concurrency=spec["concurrency"])
print(json.dumps({"results": res, "wall": time.monotonic() - start}))
"""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def netns() -> t.Iterator[str]:
    """A namespace with 198.18.0.126/27 on a veth whose peer answers nothing (silent drop),
    an `unreachable` route (ICMP-like host unreachable) and a `prohibit` route (refused on the source)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to make a network namespace")
    name = "hpsum-va-u%d" % os.getpid()
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        # A veth pair inside the namespace: the peer has no address, so SYNs sent to it vanish.
        _ip("-n", name, "link", "add", "va-u0", "type", "veth", "peer", "name", "va-u1")
        _ip("-n", name, "addr", "add", "198.18.0.126/27", "dev", "va-u0")
        _ip("-n", name, "link", "set", "va-u0", "up")
        _ip("-n", name, "link", "set", "va-u1", "up")
        for host in (99, 100, 101, 102, 103):  # static neighbours: no ARP wait, no "host unreachable"
            _ip("-n", name, "neigh", "add", "198.18.0.%d" % host, "lladdr", "02:00:00:00:00:%02x" % host,
                "dev", "va-u0", "nud", "permanent")
        _ip("-n", name, "route", "add", "unreachable", "198.18.0.97/32")
        _ip("-n", name, "route", "add", "prohibit", "198.18.0.98/32")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def _probe_in(netns: str, targets: t.List[t.Tuple[str, int, str]], timeout: float, concurrency: int = 16,
              listen: t.Sequence[int] = ()) -> t.Dict[str, t.Any]:
    spec = {"targets": targets, "timeout": timeout, "concurrency": concurrency, "listen": list(listen),
            "self": "198.18.0.126"}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", NETNS_PROBE, json.dumps(spec)],
                         check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


def test_filtered_states_in_netns(netns: str) -> None:
    out = _probe_in(netns, [
        ("198.18.0.126", 8443, "self-open"),
        ("198.18.0.126", 8444, "self-closed"),
        ("198.18.0.99", 22, "dropped"),
        ("198.18.0.97", 22, "unreachable"),
        ("198.18.0.98", 22, "prohibited"),
    ], timeout=0.4, listen=[8443])
    got = {r["id"]: (r["state"], r["reason"]) for r in out["results"]}
    assert got == {
        "self-open": ("open", "connected"),
        "self-closed": ("closed", "refused"),
        "dropped": ("filtered", "timeout"),
        "unreachable": ("filtered", "host unreachable"),
        "prohibited": ("filtered", "blocked on source"),
    }
    dropped = next(r for r in out["results"] if r["id"] == "dropped")
    assert dropped["elapsed_ms"] >= 400
    assert dropped["error"] == "no answer within 0.4s"


def test_concurrency_limit_makes_waves_of_timeouts(netns: str) -> None:
    """Four silent drops at concurrency 2 take two timeouts at least; at concurrency 4 they overlap."""
    targets = [("198.18.0.%d" % (100 + i), 22, str(i)) for i in range(4)]
    serial = _probe_in(netns, targets, timeout=0.3, concurrency=2)
    assert all(r["state"] == "filtered" for r in serial["results"])
    assert serial["wall"] >= 0.6
    parallel = _probe_in(netns, targets, timeout=0.3, concurrency=4)
    assert all(r["state"] == "filtered" and r["elapsed_ms"] >= 300 for r in parallel["results"])
    assert parallel["wall"] >= 0.3
