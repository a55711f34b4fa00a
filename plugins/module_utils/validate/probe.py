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

import errno
import os
import selectors
import socket
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
REASON_BLOCKED_ON_SOURCE = "blocked on source"
REASON_UDP = "udp"
REASON_RESOLVE = "resolve"
REASON_SOCKET = "socket"

# errno -> (state, reason). EPERM/EACCES on connect: the probing host refused to send (a
# prohibit route, a local policy). Its own netfilter looks like a remote firewall instead: an
# output drop is a timeout (TCP retries the SYN), an output reject ECONNREFUSED/EHOSTUNREACH.
_ERRNO_STATES: t.Dict[int, t.Tuple[str, str]] = {
    0: (OPEN, REASON_CONNECTED),
    errno.ECONNREFUSED: (CLOSED, REASON_REFUSED),
    errno.ECONNRESET: (CLOSED, REASON_REFUSED),
    errno.ETIMEDOUT: (FILTERED, REASON_TIMEOUT),
    errno.EHOSTUNREACH: (FILTERED, REASON_HOST_UNREACHABLE),
    errno.ENETUNREACH: (FILTERED, REASON_NET_UNREACHABLE),
    errno.EPERM: (FILTERED, REASON_BLOCKED_ON_SOURCE),
    errno.EACCES: (FILTERED, REASON_BLOCKED_ON_SOURCE),
}
_IN_PROGRESS = (errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK, errno.EINTR)

MAX_TIMEOUT = 3600.0
# File descriptors kept free for the interpreter and Ansible's own plumbing.
_FD_RESERVE = 64


class Target(t.NamedTuple):
    """One pair to probe; ``id`` is echoed back untouched so callers can match results."""

    address: str
    port: int
    protocol: str = "tcp"
    id: t.Optional[str] = None
    source: t.Optional[str] = None


def classify_errno(code: int) -> t.Tuple[str, str]:
    """The (state, reason) of a finished connect whose error number is ``code``."""
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


def validate_limits(timeout: float, concurrency: int) -> None:
    """Reject a timeout or a concurrency limit that cannot work."""
    if not 0 < timeout <= MAX_TIMEOUT:
        raise option_error("timeout", timeout, "is outside 0-%d seconds (exclusive of 0)" % MAX_TIMEOUT)
    if not 1 <= concurrency <= 65535:
        raise option_error("concurrency", concurrency, "is outside 1-65535")


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
            resolved: t.Optional[str] = None) -> t.Dict[str, t.Any]:
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


class _Pending(t.NamedTuple):
    index: int
    target: Target
    sock: socket.socket
    started: float
    resolved: str


def probe(targets: t.Sequence[Target], timeout: float = 3.0, concurrency: int = 128,
          clock: t.Callable[[], float] = time.monotonic) -> t.List[t.Dict[str, t.Any]]:
    """Connect to every TCP target, at most ``concurrency`` at once; one result per target, in order.

    UDP targets are not probed: a TCP connect proves nothing about them (state ``untested``).
    A connect that neither completes nor fails within ``timeout`` seconds is ``filtered``.
    """
    validate_limits(timeout, concurrency)
    limit = effective_concurrency(concurrency)
    results: t.List[t.Optional[t.Dict[str, t.Any]]] = [None] * len(targets)
    queue = []
    for index, target in enumerate(targets):
        if target.protocol != "tcp":
            results[index] = _result(target, UNTESTED, REASON_UDP, 0.0,
                                     "a TCP connect cannot prove a %s port" % target.protocol.upper())
        else:
            queue.append((index, target))
    queue.reverse()  # pop() from the end keeps input order
    selector = selectors.DefaultSelector()
    inflight: t.Dict[int, _Pending] = {}
    try:
        while queue or inflight:
            while queue and len(inflight) < limit:
                index, target = queue.pop()
                pending = _start(index, target, clock, results)
                if pending is not None:
                    inflight[pending.sock.fileno()] = pending
                    selector.register(pending.sock, selectors.EVENT_WRITE)
            if not inflight:
                continue
            now = clock()
            first_deadline = min(p.started for p in inflight.values()) + timeout
            for key, _events in selector.select(max(0.0, first_deadline - now)):
                pending = inflight.pop(key.fd)
                selector.unregister(pending.sock)
                code = pending.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                _finish(pending, code, clock(), results)
            now = clock()
            for fd in [fd for fd, p in inflight.items() if now - p.started >= timeout]:
                pending = inflight.pop(fd)
                selector.unregister(pending.sock)
                pending.sock.close()
                results[pending.index] = _result(pending.target, FILTERED, REASON_TIMEOUT, now - pending.started,
                                                 "no answer within %gs" % timeout, pending.resolved)
    finally:
        for pending in inflight.values():
            pending.sock.close()
        selector.close()
    return t.cast(t.List[t.Dict[str, t.Any]], results)


def _start(index: int, target: Target, clock: t.Callable[[], float],
           results: t.List[t.Optional[t.Dict[str, t.Any]]]) -> t.Optional[_Pending]:
    """Begin one non-blocking connect; record the result at once when it finishes synchronously."""
    started = clock()
    try:
        family, sockaddr = _resolve(target)
    except (socket.gaierror, UnicodeError) as exc:
        results[index] = _result(target, ERROR, REASON_RESOLVE, clock() - started, "cannot resolve: %s" % exc)
        return None
    resolved = sockaddr[0]
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        results[index] = _result(target, ERROR, REASON_SOCKET, clock() - started, "socket: %s" % exc, resolved)
        return None
    sock.setblocking(False)
    if target.source:
        try:
            # Prove the path from one given local address (a host's management address, rule 8).
            sock.bind((target.source, 0))
        except OSError as exc:
            sock.close()
            results[index] = _result(target, ERROR, REASON_SOCKET, clock() - started,
                                     "cannot use source address %s: %s" % (target.source, exc), resolved)
            return None
    code = sock.connect_ex(sockaddr)
    pending = _Pending(index, target, sock, started, resolved)
    if code in _IN_PROGRESS:
        return pending
    _finish(pending, code, clock(), results)
    return None


def _finish(pending: _Pending, code: int, now: float, results: t.List[t.Optional[t.Dict[str, t.Any]]]) -> None:
    pending.sock.close()
    state, reason = classify_errno(code)
    error = None if code == 0 else "%s: %s" % (errno.errorcode.get(code, code), os.strerror(code))
    results[pending.index] = _result(pending.target, state, reason, now - pending.started, error, pending.resolved)


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
    validate_limits(timeout, concurrency)
    started = time.monotonic()
    results = probe(targets, timeout=timeout, concurrency=concurrency)
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
