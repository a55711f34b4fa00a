# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The update window: its deadline (parsed and kept alike on every kind of host) and every host's outcome."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import datetime
import json
import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import option_error

# The states a host of the play ends in, in the order the summary lists them.
STATES = ("opened", "closed", "unchanged", "manual step", "not ours to change", "failed")

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> datetime.datetime:
    """The current time, UTC, to the second."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def stamp(when: datetime.datetime) -> str:
    """A UTC time as 2026-12-02T07:00:00Z."""
    return when.astimezone(datetime.timezone.utc).strftime(_STAMP)


def parse_stamp(text: t.Any) -> t.Optional[datetime.datetime]:
    """The time of a stamp written by stamp(), or None."""
    try:
        return datetime.datetime.strptime(str(text), _STAMP).replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def parse_expires(value: t.Any) -> t.Tuple[str, t.Any]:
    """``("duration", seconds)`` for 4h, 90m, 1h30m, 45s, 2d; ``("at", datetime)`` for a time with its zone."""
    text = str(value).strip()
    match = _DURATION.match(text.lower())
    if text and match and any(match.groups()):
        days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
        total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        if total <= 0:
            raise option_error("expires", value, "is a duration of zero; give one such as 4h")
        return "duration", total
    try:
        when = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise option_error("expires", value, "is neither a duration (4h, 90m, 1h30m, 2d) nor a time with its zone "
                                             "(2026-12-02T07:00:00Z, 2026-12-02 08:00:00+01:00)")
    return "at", when.astimezone(datetime.timezone.utc).replace(microsecond=0)


def deadline(expires: t.Any, found: t.Optional[t.Mapping[str, t.Any]], now: datetime.datetime,
             step: int = 1) -> t.Tuple[datetime.datetime, datetime.datetime]:
    """(deadline, first open) for ``expires``; a duration counts from the schedule's first open.

    ``step`` rounds the deadline up to a multiple of that many seconds (60 where the host's
    scheduler counts whole minutes). A deadline in the past is refused, unless it is the one found.
    """
    kind, value = parse_expires(expires)
    first = parse_stamp((found or {}).get("first_open")) or now
    when = first + datetime.timedelta(seconds=value) if kind == "duration" else value
    late = int(when.timestamp()) % step
    if late:
        when += datetime.timedelta(seconds=step - late)
    if when <= now and not (found and parse_stamp(found.get("deadline")) == when):
        raise option_error("expires", expires, "gives %s, which is not in the future (now %s)"
                           % (stamp(when), stamp(now)))
    return when, first


def record(when: datetime.datetime, first: datetime.datetime) -> t.Dict[str, str]:
    """What a host keeps of its schedule: the deadline and the first open it counts from."""
    return {"deadline": stamp(when), "first_open": stamp(first)}


def read_record(raw: t.Optional[t.Union[bytes, str]]) -> t.Optional[t.Dict[str, t.Any]]:
    """A kept record (JSON), or None when there is none; a damaged one is a record of nothing."""
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except ValueError:
        return {"deadline": None, "first_open": None}
    return data if isinstance(data, dict) else {"deadline": None, "first_open": None}


# The kinds of firewall the sum_firewall role changes itself; a host of one of them ends opened, closed,
# unchanged or failed. HP-UX is a manual step; any other kind (none: management processors, hosts nobody
# planned) is not ours to change.
APPLIED_KINDS = ("linux", "windows", "esxi")


def result_detail(kind: str, result: t.Mapping[str, t.Any]) -> str:
    """What the summary says of a host's firewall: the Linux backend, the ESXi ruleset, Windows Firewall."""
    if kind == "linux":
        return str(result.get("backend") or "")
    if kind == "esxi":
        return "ESXi ruleset %s" % result.get("ruleset_id", "")
    return "Windows Firewall"


def host_outcome(kind: str, result: t.Optional[t.Mapping[str, t.Any]], present: bool) -> t.Dict[str, t.Any]:
    """A host's state in the window (one of STATES) with its detail, from its kind of firewall and its result.

    ``result`` is what the role's task for that kind returned in this play ({} when none ran): a result with
    no ``changed`` means no task applied the host's firewall, so the host is failed.
    """
    if kind == "hpux":
        return {"state": "manual step"}
    if kind not in APPLIED_KINDS:
        return {"state": "not ours to change"}
    result = result or {}
    if "changed" not in result:
        return {"state": "failed", "detail": "no outcome: the role's tasks did not run for it"}
    detail = result_detail(kind, result)
    if result.get("expires_at"):
        detail += ", closes at %s" % result["expires_at"]
    state = ("opened" if present else "closed") if result["changed"] else "unchanged"
    return {"state": state, "detail": detail, "expires_at": result.get("expires_at"),
            "not_applied": list(result.get("not_applied") or [])}


def outcomes(hosts_all: t.Sequence[str], kinds: t.Mapping[str, str],
             results: t.Mapping[str, t.Optional[t.Mapping[str, t.Any]]], play_hosts: t.Sequence[str],
             present: bool = True, check_mode: bool = False) -> t.List[str]:
    """One line per state with its hosts; a host that left the play (failed, unreachable) is failed.

    Then one line per deadline, and one per set of planned rules a backend could not apply (the reason with
    the hosts), so that a fleet's summary stays a few lines long.
    """
    by_state = {}  # type: t.Dict[str, t.List[str]]
    deadlines = {}  # type: t.Dict[str, t.List[str]]
    unapplied = {}  # type: t.Dict[t.Tuple[str, ...], t.List[str]]
    in_play = set(play_hosts)
    for host in hosts_all:
        if host in in_play:
            outcome = host_outcome(kinds.get(host) or "none", results.get(host), present)
        else:
            outcome = {"state": "failed"}
        state = outcome["state"]
        by_state.setdefault(state, []).append(host + (" (%s)" % outcome["detail"] if outcome.get("detail") else ""))
        if outcome.get("expires_at") and state != "failed":
            deadlines.setdefault(str(outcome["expires_at"]), []).append(host)
        if outcome.get("not_applied") and state != "failed":
            unapplied.setdefault(tuple(outcome["not_applied"]), []).append(host)
    lines = ["check mode: what a real run would do" if check_mode else "the update window, per host"]
    lines.extend("%s (%d): %s" % (state, len(by_state[state]), ", ".join(by_state[state]))
                 for state in STATES if state in by_state)
    lines.extend("the window closes by itself at %s (%d): %s" % (when, len(hosts), ", ".join(hosts))
                 for when, hosts in sorted(deadlines.items()))
    lines.extend("planned but not applied (%d): %s: %s" % (len(hosts), "; ".join(reasons), ", ".join(hosts))
                 for reasons, hosts in sorted(unapplied.items()))
    return lines
