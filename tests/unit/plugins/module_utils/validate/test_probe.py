"""probe: state classification with real sockets (loopback, and a network namespace made here)."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import time
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
        (errno.ENOPROTOOPT, ("filtered", "protocol unreachable")),
        (errno.EHOSTDOWN, ("filtered", "host unreachable")),
        (errno.EPERM, ("filtered", "administratively prohibited")),
        (errno.EACCES, ("filtered", "administratively prohibited")),
        (errno.EINVAL, ("error", "EINVAL")),
        (errno.EADDRNOTAVAIL, ("error", "EADDRNOTAVAIL")),
        (errno.EAFNOSUPPORT, ("error", "EAFNOSUPPORT")),
    ],
)
def test_classify_errno(code: int, expected: t.Tuple[str, str]) -> None:
    assert probe.classify_errno(code) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (errno.EPERM, ("filtered", "blocked on source")),
        (errno.EACCES, ("filtered", "blocked on source")),
        (errno.EINVAL, ("filtered", "blackhole route")),
        (errno.EHOSTUNREACH, ("filtered", "host unreachable")),
        (errno.ECONNREFUSED, ("closed", "refused")),
    ],
)
def test_classify_errno_of_a_connect_refused_at_once(code: int, expected: t.Tuple[str, str]) -> None:
    """A connect that fails in the call itself never left the probing host: its own route or policy."""
    assert probe.classify_errno(code, immediate=True) == expected


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
                                      "error", "resolved", "source", "local_address", "offender", "attempts"}
    assert out["results"][0]["local_address"] == "127.0.0.1"
    assert out["results"][0]["attempts"] == 1


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
res = probe.probe(targets, timeout=spec["timeout"], concurrency=spec["concurrency"], **spec["options"])
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
        _ip("-n", name, "route", "add", "blackhole", "198.18.0.96/32")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def _probe_in(netns: str, targets: t.List[t.Tuple[str, int, str]], timeout: float, concurrency: int = 16,
              listen: t.Sequence[int] = (), **options: t.Any) -> t.Dict[str, t.Any]:
    spec = {"targets": targets, "timeout": timeout, "concurrency": concurrency, "listen": list(listen),
            "self": "198.18.0.126", "options": options}
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
        ("198.18.0.96", 22, "blackhole"),
    ], timeout=0.4, listen=[8443], retries=0)
    got = {r["id"]: (r["state"], r["reason"]) for r in out["results"]}
    assert got == {
        "self-open": ("open", "connected"),
        "self-closed": ("closed", "refused"),
        "dropped": ("filtered", "timeout"),
        "unreachable": ("filtered", "host unreachable"),
        "prohibited": ("filtered", "blocked on source"),
        "blackhole": ("filtered", "blackhole route"),
    }
    dropped = next(r for r in out["results"] if r["id"] == "dropped")
    assert dropped["elapsed_ms"] >= 400
    assert dropped["error"] == "no answer within 0.4s"


def test_concurrency_limit_makes_waves_of_timeouts(netns: str) -> None:
    """Four silent drops at concurrency 2 take two timeouts at least; at concurrency 4 they overlap."""
    targets = [("198.18.0.%d" % (100 + i), 22, str(i)) for i in range(4)]
    serial = _probe_in(netns, targets, timeout=0.3, concurrency=2, retries=0)
    assert all(r["state"] == "filtered" for r in serial["results"])
    assert serial["wall"] >= 0.6
    parallel = _probe_in(netns, targets, timeout=0.3, concurrency=4, retries=0)
    assert all(r["state"] == "filtered" and r["elapsed_ms"] >= 300 for r in parallel["results"])
    assert parallel["wall"] >= 0.3


def test_a_drop_is_retried_once_before_it_is_filtered(netns: str) -> None:
    out = _probe_in(netns, [("198.18.0.99", 22, "dropped")], timeout=0.3)
    dropped = out["results"][0]
    assert (dropped["state"], dropped["reason"], dropped["attempts"]) == ("filtered", "timeout", 2)
    assert dropped["error"] == "no answer within 0.3s (2 attempts)"
    assert out["wall"] >= 0.6


# ---- ICMP errors from a router: two namespaces, prober 198.18.0.110 and router 198.18.0.109 ----

ROUTED = "198.18.0.120"  # behind the router: an `unreachable` route there (ICMP host unreachable)
ROUTED_PROHIBITED = "198.18.0.119"  # behind the router: a `prohibit` route there (ICMP administratively prohibited)
ROUTED_V6 = "fd00:198:18::120"  # behind the router: a `prohibit` route there (ICMPv6 administratively prohibited)
LOCAL_V6 = "fd00:198:18::121"  # a `prohibit` route on the prober itself


@contextlib.contextmanager
def _prober_and_router(prefix: str, link: str) -> t.Iterator[t.Tuple[str, str]]:
    """Two namespaces of this test run, ``PREFIX-pPID`` (the prober) and ``PREFIX-rPID`` (its router), joined by
    the veth pair ``LINK-p0`` / ``LINK-r0`` (no addresses yet); both removed afterwards, also on failure."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to make network namespaces")
    prober, router = "%s-p%d" % (prefix, os.getpid()), "%s-r%d" % (prefix, os.getpid())
    _ip("netns", "add", prober)
    try:
        _ip("netns", "add", router)
        for name in (prober, router):
            _ip("-n", name, "link", "set", "lo", "up")
        _ip("-n", prober, "link", "add", link + "-p0", "type", "veth", "peer", "name", link + "-r0", "netns", router)
        yield prober, router
    finally:
        for name in (prober, router):
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


@pytest.fixture(scope="module")
def routed() -> t.Iterator[str]:
    """A prober namespace behind a router namespace that refuses to forward, with ICMP errors sent at the
    kernel's rate limit (about 5 at once, then one a second to one peer)."""
    with _prober_and_router("hpsum-va", "va") as (prober, router):
        _ip("-n", prober, "addr", "add", "198.18.0.110/30", "dev", "va-p0")
        _ip("-n", prober, "-6", "addr", "add", "fd00:198:18::110/64", "dev", "va-p0", "nodad")
        _ip("-n", router, "addr", "add", "198.18.0.109/30", "dev", "va-r0")
        _ip("-n", router, "-6", "addr", "add", "fd00:198:18::109/64", "dev", "va-r0", "nodad")
        _ip("-n", prober, "link", "set", "va-p0", "up")
        _ip("-n", router, "link", "set", "va-r0", "up")
        _ip("-n", prober, "route", "add", ROUTED + "/32", "via", "198.18.0.109")
        _ip("-n", prober, "route", "add", ROUTED_PROHIBITED + "/32", "via", "198.18.0.109")
        _ip("-n", prober, "-6", "route", "add", ROUTED_V6 + "/128", "via", "fd00:198:18::109")
        _ip("-n", prober, "-6", "route", "add", "prohibit", LOCAL_V6 + "/128")
        _ip("-n", router, "route", "add", "unreachable", ROUTED + "/32")
        _ip("-n", router, "route", "add", "prohibit", ROUTED_PROHIBITED + "/32")
        _ip("-n", router, "-6", "route", "add", "prohibit", ROUTED_V6 + "/128")
        for key in ("net/ipv4/conf/all/forwarding", "net/ipv6/conf/all/forwarding"):
            subprocess.run(["ip", "netns", "exec", router, "sh", "-c", "echo 1 > /proc/sys/" + key], check=True)
        # The router's own closed port answers with a TCP reset (no ICMP error, no rate limit spent): the
        # prober learns the router's link-layer address here, not within a test's short timeouts.
        warm = _probe_in(prober, [("198.18.0.109", 9, "v4"), ("fd00:198:18::109", 9, "v6")], timeout=3.0)
        assert {r["state"] for r in warm["results"]} == {"closed"}, warm
        yield prober


def test_remote_and_local_refusals_name_the_right_host(routed: str) -> None:
    out = _probe_in(routed, [(ROUTED_V6, 22, "remote"), (LOCAL_V6, 22, "local"), (ROUTED, 22, "router"),
                             (ROUTED_PROHIBITED, 22, "router-v4-prohibited")], timeout=1.0)
    got = {r["id"]: (r["state"], r["reason"], r["offender"]) for r in out["results"]}
    assert got == {
        "remote": ("filtered", "administratively prohibited", "fd00:198:18::109"),
        "local": ("filtered", "blocked on source", None),
        "router": ("filtered", "host unreachable", "198.18.0.109"),
        # ICMP code 13 reaches the socket as EHOSTUNREACH, like a host unreachable: the code tells them apart
        "router-v4-prohibited": ("filtered", "administratively prohibited", "198.18.0.109"),
    }
    assert out["results"][0]["local_address"] == "fd00:198:18::110"


def test_rate_limited_icmp_errors_are_retried_paced_until_every_port_has_its_answer(routed: str) -> None:
    """Twelve ports of one destination: the router sends 6 ICMPv6 errors at once, then one per 25 ms to one
    peer (net.ipv6.icmp.ratelimit, scaled by the route's prefix); without the retry some ports come back as
    timeouts, with the paced retry every one gets its administratively prohibited."""
    targets = [(ROUTED_V6, 40000 + i, str(i)) for i in range(12)]
    once = _probe_in(routed, targets, timeout=0.3, retries=0)
    assert any(r["reason"] == "timeout" for r in once["results"])
    paced = _probe_in(routed, targets, timeout=0.3, retries=1, retry_pace=0.2, retry_window=5.0)
    assert {(r["state"], r["reason"], r["offender"]) for r in paced["results"]} == {
        ("filtered", "administratively prohibited", "fd00:198:18::109")}, [
        (r["id"], r["reason"], r["attempts"], r["elapsed_ms"]) for r in paced["results"]]
    assert max(r["attempts"] for r in paced["results"]) == 2


def test_a_crowded_destination_is_untested_not_filtered(routed: str) -> None:
    """More rate-limited ports than retry_window can pace: the ones left without a retry are not called filtered."""
    targets = [(ROUTED_V6, 41000 + i, str(i)) for i in range(60)]
    out = _probe_in(routed, targets, timeout=0.2, retries=1, retry_pace=0.2, retry_window=0.2)
    reasons = {r["reason"] for r in out["results"]}
    assert "timeout" not in reasons, [(r["id"], r["reason"], r["attempts"], r["elapsed_ms"]) for r in out["results"]]
    limited = [r for r in out["results"] if r["reason"] == "icmp rate limit"]
    assert limited and all(r["state"] == "untested" and r["attempts"] == 1 for r in limited)
    assert "raise retry_window to " in limited[0]["error"]
    assert "or probe fewer of its ports in one call" in limited[0]["error"]


# ---- a host's own ICMP rate limit: prober 198.18.0.162 (2001:db8:160::2) behind router 198.18.0.161 ----

LIMITED_V6 = "2001:db8:176::2"  # behind the router: a `prohibit` route there (ICMPv6 administratively prohibited)


@pytest.fixture(scope="module")
def limited() -> t.Iterator[str]:
    """A prober namespace behind a router that answers every port of LIMITED_V6 with an ICMPv6 error, one per
    200 ms to one peer after a burst of 6 (net.ipv6.icmp.ratelimit 200 ms there)."""
    with _prober_and_router("hpsum-probe", "pr") as (prober, router):
        _ip("-n", prober, "-6", "addr", "add", "2001:db8:160::2/64", "dev", "pr-p0", "nodad")
        _ip("-n", router, "-6", "addr", "add", "2001:db8:160::1/64", "dev", "pr-r0", "nodad")
        _ip("-n", prober, "link", "set", "pr-p0", "up")
        _ip("-n", router, "link", "set", "pr-r0", "up")
        _ip("-n", prober, "-6", "route", "add", LIMITED_V6 + "/128", "via", "2001:db8:160::1")
        _ip("-n", router, "-6", "route", "add", "prohibit", LIMITED_V6 + "/128")
        for key, value in (("net/ipv6/conf/all/forwarding", 1), ("net/ipv6/icmp/ratelimit", 200)):
            subprocess.run(["ip", "netns", "exec", router, "sh", "-c", "echo %d > /proc/sys/%s" % (value, key)],
                           check=True)
        # The first connect waits for neighbour discovery; then the router's token bucket fills again (6 x 0.2 s).
        assert _probe_in(prober, [(LIMITED_V6, 1, "warm")], timeout=3.0, retries=0)["results"][0]["offender"]
        time.sleep(1.5)
        yield prober


def test_retries_of_a_rate_limited_host_are_never_paced_faster_than_its_limit(limited: str) -> None:
    """16 ports of a host answering one ICMP error per 200 ms after 6: a 1 s window paces 5 retries at 0.25 s
    and every one of them gets its answer; the ports left without a retry are untested and name the window that
    proves them; with that window every port gets its answer (what nmap, which slows down, reports)."""
    targets = [(LIMITED_V6, 42000 + i, str(i)) for i in range(16)]
    short = _probe_in(limited, targets, timeout=0.3, retry_pace=0.25, retry_window=1.0)
    retried = [r for r in short["results"] if r["attempts"] == 2]
    untested = [r for r in short["results"] if r["state"] == "untested"]
    assert len(retried) == 5, [(r["id"], r["reason"], r["attempts"]) for r in short["results"]]
    assert all(r["reason"] == "administratively prohibited" for r in retried), [
        (r["id"], r["reason"], r["attempts"], r["elapsed_ms"]) for r in short["results"]]
    assert untested and all((r["reason"], r["attempts"]) == ("icmp rate limit", 1) for r in untested)
    assert len(retried) + len(untested) + sum(r["attempts"] == 1 and r["state"] == "filtered"
                                              for r in short["results"]) == 16
    window = int(untested[0]["error"].split("raise retry_window to ")[1].split()[0])
    assert 2 <= window <= 4
    full = _probe_in(limited, targets, timeout=0.3, retry_pace=0.25, retry_window=float(window))
    assert {(r["state"], r["reason"]) for r in full["results"]} == {("filtered", "administratively prohibited")}
