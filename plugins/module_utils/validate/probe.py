# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrent TCP connect probes: open / closed / filtered / error / untested, per (address, port).

Pure standard library (Python 3.8+): non-blocking sockets driven by one selector, so a
thousand pairs cost one connect timeout, not a thousand. Runs on the probing host.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import collections
import errno
import math
import os
import selectors
import socket
import struct
import sys
import time
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common import checks
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import option_error

OPEN = "open"
CLOSED = "closed"
FILTERED = "filtered"
ERROR = "error"
UNTESTED = "untested"
STATES = (OPEN, CLOSED, FILTERED, ERROR, UNTESTED)

# Why a pair got its state; the report turns these into fix hints.
REASON_CONNECTED = "connected"
REASON_REFUSED = "refused"
REASON_TIMEOUT = "timeout"
REASON_HOST_UNREACHABLE = "host unreachable"
REASON_NET_UNREACHABLE = "network unreachable"
REASON_PROTOCOL_UNREACHABLE = "protocol unreachable"
REASON_PROHIBITED = "administratively prohibited"
REASON_BLOCKED_ON_SOURCE = "blocked on source"
REASON_BLACKHOLE = "blackhole route"
REASON_RATE_LIMITED = "icmp rate limit"
REASON_UDP = "udp"
REASON_RESOLVE = "resolve"
REASON_SOCKET = "socket"

# errno -> (state, reason) of a connect that failed after it started (an answer from the network).
# Linux turns ICMP unreachables into these: port -> ECONNREFUSED, host/admin-prohibited (v4) ->
# EHOSTUNREACH, network -> ENETUNREACH, protocol -> ENOPROTOOPT, host unknown -> EHOSTDOWN, host
# isolated -> ENONET, ICMPv6 administratively prohibited / reject route / policy -> EACCES.
# Its own netfilter looks like a remote firewall: an output drop is a timeout (TCP retries the
# SYN), an output reject an ICMP error from the host itself (the offender, see _icmp_origin).
_ERRNO_STATES: t.Dict[int, t.Tuple[str, str]] = {
    0: (OPEN, REASON_CONNECTED),
    errno.ECONNREFUSED: (CLOSED, REASON_REFUSED),
    errno.ECONNRESET: (CLOSED, REASON_REFUSED),
    errno.ETIMEDOUT: (FILTERED, REASON_TIMEOUT),
    errno.EHOSTUNREACH: (FILTERED, REASON_HOST_UNREACHABLE),
    errno.EHOSTDOWN: (FILTERED, REASON_HOST_UNREACHABLE),
    errno.ENETUNREACH: (FILTERED, REASON_NET_UNREACHABLE),
    errno.ENOPROTOOPT: (FILTERED, REASON_PROTOCOL_UNREACHABLE),
    errno.EPERM: (FILTERED, REASON_PROHIBITED),
    errno.EACCES: (FILTERED, REASON_PROHIBITED),
}
if hasattr(errno, "ENONET"):
    _ERRNO_STATES[errno.ENONET] = (FILTERED, REASON_HOST_UNREACHABLE)
# errno -> (state, reason) of a connect refused at once, before any packet left: the probing host's
# own routing or policy (a prohibit route: EACCES; a blackhole route: EINVAL; unreachable route:
# EHOSTUNREACH). nmap calls all of these filtered.
_LOCAL_STATES: t.Dict[int, t.Tuple[str, str]] = {
    errno.EPERM: (FILTERED, REASON_BLOCKED_ON_SOURCE),
    errno.EACCES: (FILTERED, REASON_BLOCKED_ON_SOURCE),
    errno.EINVAL: (FILTERED, REASON_BLACKHOLE),
}
_IN_PROGRESS = (errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK, errno.EINTR)

MAX_TIMEOUT = 3600.0
MAX_RETRIES = 5
# Seconds the paced retries of one rate-limited destination may take (about 60 REJECTed ports of one host).
RETRY_WINDOW = 60.0
# File descriptors kept free for the interpreter and Ansible's own plumbing.
_FD_RESERVE = 64

# Linux's extended socket errors: the ICMP error that ended a connect, and who sent it.
_IP_RECVERR = 11
_IPV6_RECVERR = 25
_MSG_ERRQUEUE = 0x2000
_EE_ORIGIN_ICMP = (2, 3)  # SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6
# (origin, type) -> the codes that mean a firewall or policy refused (the errno alone says "unreachable"):
# ICMP destination unreachable net/host/administratively prohibited (9, 10, 13); ICMPv6 administratively
# prohibited, source address failed policy, reject route (1, 5, 6).
_PROHIBITED_CODES = {(2, 3): (9, 10, 13), (3, 1): (1, 5, 6)}
_RECVERR = sys.platform.startswith("linux")


class Target(t.NamedTuple):
    """One pair to probe; ``id`` is echoed back untouched so callers can match results."""

    address: str
    port: int
    protocol: str = "tcp"
    id: t.Optional[str] = None
    source: t.Optional[str] = None


def classify_errno(code: int, immediate: bool = False) -> t.Tuple[str, str]:
    """The (state, reason) of a finished connect whose error number is ``code``;
    ``immediate``: the connect call itself failed (the probing host refused to send)."""
    if immediate and code in _LOCAL_STATES:
        return _LOCAL_STATES[code]
    if code in _ERRNO_STATES:
        return _ERRNO_STATES[code]
    return ERROR, errno.errorcode.get(code, str(code))


def validate_targets(raw: t.Iterable[t.Mapping[str, t.Any]]) -> t.List[Target]:
    """Check a list of ``{address, port, protocol, id}`` mappings; errors name the option path and value."""
    targets = []
    for index, item in enumerate(raw):
        where = "targets[%d]" % index
        address = item.get("address")
        if not isinstance(address, str) or not address.strip():
            raise option_error(where + ".address", address, "is not a host name or an IP address")
        port = checks.port(where + ".port", item.get("port"))
        protocol = checks.choice(where + ".protocol", item.get("protocol") or "tcp", checks.PROTOCOLS)
        ident = item.get("id")
        source = item.get("source") or None
        targets.append(Target(address.strip(), port, protocol, None if ident is None else str(ident), source))
    return targets


def validate_limits(timeout: float, concurrency: int, retries: int = 1, retry_pace: float = 1.0,
                    retry_window: float = RETRY_WINDOW) -> None:
    """Reject a timeout, concurrency limit or retry setting that cannot work."""
    if not 0 < timeout <= MAX_TIMEOUT:
        raise option_error("timeout", timeout, "is outside 0-%d seconds (exclusive of 0)" % MAX_TIMEOUT)
    if not 1 <= concurrency <= 65535:
        raise option_error("concurrency", concurrency, "is outside 1-65535")
    if not 0 <= retries <= MAX_RETRIES:
        raise option_error("retries", retries, "is outside 0-%d" % MAX_RETRIES)
    if not 0 <= retry_pace <= MAX_TIMEOUT:
        raise option_error("retry_pace", retry_pace, "is outside 0-%d seconds" % MAX_TIMEOUT)
    if not 0 <= retry_window <= MAX_TIMEOUT:
        raise option_error("retry_window", retry_window, "is outside 0-%d seconds" % MAX_TIMEOUT)


def effective_concurrency(concurrency: int) -> int:
    """``concurrency`` capped by the open-file limit of this process, keeping a reserve."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return concurrency
    if soft == resource.RLIM_INFINITY:
        return concurrency
    return max(1, min(concurrency, soft - _FD_RESERVE))


def _result(target: Target, state: str, reason: str, elapsed: float, error: t.Optional[str] = None,
            resolved: t.Optional[str] = None, local: t.Optional[str] = None, offender: t.Optional[str] = None,
            attempts: int = 1) -> t.Dict[str, t.Any]:
    return {
        "id": target.id,
        "address": target.address,
        "port": target.port,
        "protocol": target.protocol,
        "state": state,
        "reason": reason,
        "elapsed_ms": round(elapsed * 1000.0, 1),
        "error": error,
        "resolved": resolved,
        "source": target.source,
        "local_address": local,
        "offender": offender,
        "attempts": attempts,
    }


def _resolve(target: Target) -> t.Tuple[int, t.Any]:
    """(family, sockaddr) of the target: numeric addresses without DNS, names through getaddrinfo."""
    for flags in (socket.AI_NUMERICHOST, 0):
        try:
            info = socket.getaddrinfo(target.address, target.port, 0, socket.SOCK_STREAM, socket.IPPROTO_TCP, flags)
        except socket.gaierror:
            if flags:
                continue
            raise
        family, _type, _proto, _canon, sockaddr = info[0]
        return family, sockaddr
    raise socket.gaierror("no address")  # pragma: no cover - the loop returns or raises


def _icmp_origin(sock: socket.socket) -> t.Tuple[t.Optional[str], bool]:
    """The address that sent the ICMP error which ended this connect (Linux), or None (a reset,
    a timeout, or no error queue): the probing host itself for its own output reject, the
    destination for its firewall's reject, a router or firewall in between otherwise; and whether
    the error's code says prohibited (a firewall or policy) rather than unreachable."""
    if not _RECVERR:
        return None, False
    try:
        _data, ancillary, _flags, _addr = sock.recvmsg(1, 512, _MSG_ERRQUEUE)
    except OSError:
        return None, False
    for _level, _type, data in ancillary:
        if len(data) < 24:
            continue
        origin = data[4]
        if origin not in _EE_ORIGIN_ICMP:
            continue
        prohibited = data[6] in _PROHIBITED_CODES.get((origin, data[5]), ())
        family = struct.unpack("=H", data[16:18])[0]
        if family == socket.AF_INET:
            return socket.inet_ntop(socket.AF_INET, data[20:24]), prohibited
        if family == socket.AF_INET6 and len(data) >= 40:
            return socket.inet_ntop(socket.AF_INET6, data[24:40]), prohibited
    return None, False


class _Pending(t.NamedTuple):
    index: int
    target: Target
    sock: socket.socket
    started: float
    resolved: str
    local: t.Optional[str]


class _Job(t.NamedTuple):
    index: int
    target: Target
    not_before: float


def probe(targets: t.Sequence[Target], timeout: float = 3.0, concurrency: int = 128,
          clock: t.Callable[[], float] = time.monotonic, retries: int = 1, retry_pace: float = 1.0,
          retry_window: float = RETRY_WINDOW) -> t.List[t.Dict[str, t.Any]]:
    """Connect to every TCP target, at most ``concurrency`` at once; one result per target, in order.

    UDP targets are not probed: a TCP connect proves nothing about them (state ``untested``).
    A connect that neither completes nor fails within ``timeout`` seconds is tried again
    (``retries`` times) before it is ``filtered``. A host that rejects with ICMP errors sends
    them at a limited rate (Linux: 6 at once, then one a second to one peer), so the retries of
    such a destination start ``retry_pace`` seconds apart, never faster (faster retries would
    only meet an empty token bucket again), the last of them within ``retry_window`` seconds of
    the first retry: N silent ports of one host take about N x ``retry_pace`` seconds. A pair
    the window leaves without a retry is ``untested`` (reason ``icmp rate limit``, its error
    naming the window that would prove it), not ``filtered``. Destinations that sent no ICMP
    error are retried at once.
    """
    validate_limits(timeout, concurrency, retries, retry_pace, retry_window)
    limit = effective_concurrency(concurrency)
    results: t.List[t.Optional[t.Dict[str, t.Any]]] = [None] * len(targets)
    jobs = []
    for index, target in enumerate(targets):
        if target.protocol != "tcp":
            results[index] = _result(target, UNTESTED, REASON_UDP, 0.0,
                                     "a TCP connect cannot prove a %s port" % target.protocol.upper(), attempts=0)
        else:
            jobs.append(_Job(index, target, 0.0))
    last_icmp: t.Dict[str, float] = {}
    _wave(jobs, timeout, limit, clock, results, 1, last_icmp)
    deadline = None
    for attempt in range(2, retries + 2):
        now = clock()
        if deadline is None:
            deadline = now + retry_window
        jobs, left = _retry_jobs(targets, results, now, retry_pace, deadline, last_icmp)
        for address, (indices, needed) in left.items():
            for index in indices:
                result = results[index]
                if result is None or result["attempts"] > 1:
                    continue  # it had its retry and stayed silent: filtered stands
                result.update(state=UNTESTED, reason=REASON_RATE_LIMITED, error=(
                    "no answer within %gs and not tried again: %s answered other ports with ICMP errors, which a "
                    "host sends at a limited rate (one per retry_pace, %gs), and its %d silent ports need about %ds "
                    "of paced retries, more than retry_window (%gs): raise retry_window to %d or probe fewer of its "
                    "ports in one call" % (timeout, address, retry_pace, needed[0], math.ceil(needed[1]),
                                           retry_window, math.ceil(needed[1]) + 1)))
        if not jobs:
            break
        _wave(jobs, timeout, limit, clock, results, attempt, last_icmp)
    return t.cast(t.List[t.Dict[str, t.Any]], results)


def _retry_jobs(targets: t.Sequence[Target], results: t.Sequence[t.Optional[t.Dict[str, t.Any]]], now: float,
                pace: float, deadline: float, last_icmp: t.Mapping[str, float]
                ) -> t.Tuple[t.List[_Job], t.Dict[str, t.Tuple[t.List[int], t.Tuple[int, float]]]]:
    """The timed-out pairs to try again, paced per destination that answered with ICMP errors (the
    first one ``pace`` after its last ICMP error, then one per ``pace``, none after ``deadline``);
    and per such destination the pairs left out, with (its silent ports, the seconds they need)."""
    icmp: t.Set[str] = set()
    timed_out: t.Dict[str, t.List[int]] = collections.OrderedDict()
    for index, result in enumerate(results):
        if result is None or result["state"] == UNTESTED:
            continue
        if result["reason"] == REASON_TIMEOUT:
            timed_out.setdefault(result["resolved"], []).append(index)
        elif result["offender"] or (not _RECVERR and result["state"] in (CLOSED, FILTERED)):
            icmp.add(result["resolved"])
    jobs = []
    left: t.Dict[str, t.Tuple[t.List[int], t.Tuple[int, float]]] = {}
    for address, indices in timed_out.items():
        if address not in icmp:
            jobs.extend(_Job(index, targets[index], now) for index in indices)
            continue
        first = max(now, last_icmp.get(address, now) + pace)
        if first > deadline + 1e-9:
            fits = 0
        else:
            fits = len(indices) if pace == 0 else int((deadline - first) / pace + 1e-9) + 1
        jobs.extend(_Job(index, targets[index], first + position * pace)
                    for position, index in enumerate(indices[:fits]))
        if fits < len(indices):
            left[address] = (indices[fits:], (len(indices), first - now + len(indices) * pace))
    jobs.sort(key=lambda job: job.not_before)
    return jobs, left


def _wave(jobs: t.Sequence[_Job], timeout: float, limit: int, clock: t.Callable[[], float],
          results: t.List[t.Optional[t.Dict[str, t.Any]]], attempt: int, last_icmp: t.Dict[str, float]) -> None:
    """Run ``jobs`` (sorted by start time), at most ``limit`` connects in flight; fills ``results`` and
    ``last_icmp`` (destination -> when it last answered with an ICMP error)."""
    queue = list(reversed(jobs))  # pop() from the end keeps the order
    selector = selectors.DefaultSelector()
    inflight: t.Dict[int, _Pending] = {}
    try:
        while queue or inflight:
            now = clock()
            while queue and len(inflight) < limit and queue[-1].not_before <= now:
                job = queue.pop()
                pending = _start(job.index, job.target, clock, results, attempt)
                if pending is not None:
                    inflight[pending.sock.fileno()] = pending
                    selector.register(pending.sock, selectors.EVENT_WRITE)
            wake = [p.started + timeout for p in inflight.values()]
            if queue and len(inflight) < limit:
                wake.append(queue[-1].not_before)
            if not wake:
                continue
            if not inflight:
                time.sleep(max(0.0, min(wake) - now))
                continue
            for key, _events in selector.select(max(0.0, min(wake) - now)):
                pending = inflight.pop(key.fd)
                selector.unregister(pending.sock)
                code = pending.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                _finish(pending, code, clock(), results, attempt)
                if results[pending.index]["offender"]:
                    last_icmp[pending.resolved] = clock()
            now = clock()
            for fd in [fd for fd, p in inflight.items() if now - p.started >= timeout]:
                pending = inflight.pop(fd)
                selector.unregister(pending.sock)
                pending.sock.close()
                tries = "" if attempt == 1 else " (%d attempts)" % attempt
                results[pending.index] = _result(pending.target, FILTERED, REASON_TIMEOUT, now - pending.started,
                                                 "no answer within %gs%s" % (timeout, tries), pending.resolved,
                                                 pending.local, attempts=attempt)
    finally:
        for pending in inflight.values():
            pending.sock.close()
        selector.close()


def _start(index: int, target: Target, clock: t.Callable[[], float],
           results: t.List[t.Optional[t.Dict[str, t.Any]]], attempt: int = 1) -> t.Optional[_Pending]:
    """Begin one non-blocking connect; record the result at once when it finishes synchronously."""
    started = clock()
    try:
        family, sockaddr = _resolve(target)
    except (socket.gaierror, UnicodeError) as exc:
        results[index] = _result(target, ERROR, REASON_RESOLVE, clock() - started, "cannot resolve: %s" % exc,
                                 attempts=attempt)
        return None
    resolved = sockaddr[0]
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        results[index] = _result(target, ERROR, REASON_SOCKET, clock() - started, "socket: %s" % exc, resolved,
                                 attempts=attempt)
        return None
    sock.setblocking(False)
    if _RECVERR:
        try:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
            else:
                sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)
        except OSError:  # pragma: no cover - a kernel without extended errors
            pass
    if target.source:
        try:
            # Prove the path from one given local address (a host's management address, rule 8).
            sock.bind((target.source, 0))
        except OSError as exc:
            sock.close()
            results[index] = _result(target, ERROR, REASON_SOCKET, clock() - started,
                                     "cannot use source address %s: %s" % (target.source, exc), resolved,
                                     attempts=attempt)
            return None
    code = sock.connect_ex(sockaddr)
    local = _local_address(sock)
    pending = _Pending(index, target, sock, started, resolved, local)
    if code in _IN_PROGRESS:
        return pending
    _finish(pending, code, clock(), results, attempt, immediate=True)
    return None


def _local_address(sock: socket.socket) -> t.Optional[str]:
    """The address the kernel chose as this connect's source (None before it chose one)."""
    try:
        address = sock.getsockname()[0]
    except OSError:
        return None
    return None if address in ("0.0.0.0", "::") else address


def _finish(pending: _Pending, code: int, now: float, results: t.List[t.Optional[t.Dict[str, t.Any]]],
            attempt: int, immediate: bool = False) -> None:
    offender, prohibited = (None, False) if immediate or code == 0 else _icmp_origin(pending.sock)
    pending.sock.close()
    state, reason = classify_errno(code, immediate)
    if prohibited and state == FILTERED:
        reason = REASON_PROHIBITED  # ICMP host/net prohibited arrive as EHOSTUNREACH/ENETUNREACH
    if reason == REASON_PROHIBITED and offender is not None and offender == pending.local:
        reason = REASON_BLOCKED_ON_SOURCE  # the probing host's own firewall rejected it on output
    error = None if code == 0 else "%s: %s" % (errno.errorcode.get(code, code), os.strerror(code))
    if offender is not None and error:
        error += " (ICMP from %s)" % offender
    results[pending.index] = _result(pending.target, state, reason, now - pending.started, error, pending.resolved,
                                     pending.local, offender, attempt)


def summarize(results: t.Iterable[t.Mapping[str, t.Any]]) -> t.Dict[str, int]:
    """Count results per state; every state is present."""
    counts = dict.fromkeys(STATES, 0)
    for result in results:
        counts[result["state"]] += 1
    return counts


def run_probe(params: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """The whole port_probe module run: validated params in, the module's result out."""
    targets = validate_targets(params.get("targets") or [])
    timeout = float(params.get("timeout", 3.0))
    concurrency = int(params.get("concurrency", 128))
    retries = int(params.get("retries", 1))
    retry_pace = float(params.get("retry_pace", 1.0))
    retry_window = float(params.get("retry_window", RETRY_WINDOW))
    validate_limits(timeout, concurrency, retries, retry_pace, retry_window)
    started = time.monotonic()
    results = probe(targets, timeout=timeout, concurrency=concurrency, retries=retries, retry_pace=retry_pace,
                    retry_window=retry_window)
    return {
        "changed": False,
        "results": results,
        "summary": summarize(results),
        "elapsed_ms": round((time.monotonic() - started) * 1000.0, 1),
        "concurrency": effective_concurrency(concurrency),
    }


class PortProbe:
    """The port_probe module: its parameters in, its result out (run_probe does the work)."""

    def __init__(self, module: t.Any) -> None:
        self.module = module

    def run(self) -> t.Dict[str, t.Any]:
        """Probe every target of the module's parameters."""
        return run_probe(self.module.params)
