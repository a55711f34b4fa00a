# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The window's deadline: parsing, the systemd timer and service, keep / move / cancel, check mode."""

from __future__ import annotations

import datetime
import json
import pathlib
import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.apply import window
from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux import expiry
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

UTC = datetime.timezone.utc
SYSTEMCTL = "/usr/sbin/systemctl"
COMMANDS = {(SYSTEMCTL, "daemon-reload"): (0, "", ""), (SYSTEMCTL, "enable", "hpsum-ports-expire.timer"): (0, "", ""),
            (SYSTEMCTL, "restart", "hpsum-ports-expire.timer"): (0, "", ""),
            (SYSTEMCTL, "disable", "--now", "hpsum-ports-expire.timer"): (0, "", "")}


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("4h", ("duration", 14400)), ("90m", ("duration", 5400)), ("1h30m", ("duration", 5400)),
     ("45s", ("duration", 45)), ("2d", ("duration", 172800)), (" 1D2H ", ("duration", 93600)),
     ("2026-12-02T07:00:00Z", ("at", datetime.datetime(2026, 12, 2, 7, 0, tzinfo=UTC))),
     ("2026-12-02 08:00:00+01:00", ("at", datetime.datetime(2026, 12, 2, 7, 0, tzinfo=UTC)))],
)
def test_parse_expires(value: str, parsed: t.Tuple[str, t.Any]) -> None:
    assert window.parse_expires(value) == parsed


@pytest.mark.parametrize(
    ("value", "message"),
    [("0h", "expires: '0h' is a duration of zero"), ("soon", "expires: 'soon' is neither a duration"),
     ("2026-12-02T07:00:00", "expires: '2026-12-02T07:00:00' is neither a duration"), ("", "expires: '' is neither"),
     ("4 hours", "is neither a duration")],
)
def test_bad_expires_names_the_option(value: str, message: str) -> None:
    with pytest.raises(SumPortsError) as exc:
        window.parse_expires(value)
    assert str(exc.value).startswith(message) or message in str(exc.value)
    assert exc.value.details["option"] == "expires"


def make(replay: t.Any, tmp_path: pathlib.Path, files: t.Optional[dict] = None) -> t.Tuple[expiry.Expiry, t.Any]:
    runner = replay(dict(COMMANDS), files=files or {}, commands=["systemctl"])
    payload = tmp_path / "payload.zip"
    payload.write_bytes(b"PK zip of the module")
    params = {"backend": "auto", "persist": True, "nftables_conf": "/etc/nftables.conf",
              "iptables_rules_v4": "/etc/iptables/rules.v4", "iptables_rules_v6": "/etc/iptables/rules.v6"}
    return expiry.Expiry(runner, params, state_dir=str(tmp_path / "state"), systemd_dir="/etc/systemd/system",
                         python="/usr/bin/python3", payload=str(payload)), runner


def test_duration_installs_a_persistent_timer_and_is_kept(replay: t.Any, tmp_path: pathlib.Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.datetime(2026, 12, 2, 5, 0, 0, tzinfo=UTC)
    monkeypatch.setattr(expiry, "utc_now", lambda: now)
    exp, runner = make(replay, tmp_path)
    plan = exp.plan("present", "4h", "nftables")
    assert plan["changed"] and plan["expires_at"] == "2026-12-02T09:00:00Z" and runner.writes == []
    exp.apply(plan)
    timer = runner.files["/etc/systemd/system/hpsum-ports-expire.timer"].decode()
    assert "OnCalendar=2026-12-02 09:00:00 UTC\nPersistent=true\n" in timer and "WantedBy=timers.target" in timer
    service = runner.files["/etc/systemd/system/hpsum-ports-expire.service"].decode()
    args_path = str(tmp_path / "state" / "expire-args.json")
    state_dir = tmp_path / "state"
    assert 'ExecStart=/bin/sh -c "/usr/bin/python3 -m %s %s && rm -f %s %s && rmdir %s"\n' % (
        expiry.MODULE_FQN, args_path, state_dir / "host_firewall.zip", args_path, state_dir) in service
    assert "PYTHONPATH=%s" % (tmp_path / "state" / "host_firewall.zip") in service
    args = json.loads(runner.files[args_path])["ANSIBLE_MODULE_ARGS"]
    assert args["state"] == "absent" and args["backend"] == "nftables" and "rules" not in args
    assert runner.files[str(tmp_path / "state" / "host_firewall.zip")] == b"PK zip of the module"
    assert runner.argvs() == [(SYSTEMCTL, "daemon-reload"), (SYSTEMCTL, "enable", "hpsum-ports-expire.timer"),
                              (SYSTEMCTL, "restart", "hpsum-ports-expire.timer")]
    # an hour later, the same 4h: the deadline found on the host stays, nothing changes
    monkeypatch.setattr(expiry, "utc_now", lambda: now + datetime.timedelta(hours=1))
    again = exp.plan("present", "4h", "nftables")
    assert not again["changed"] and again["expires_at"] == "2026-12-02T09:00:00Z"
    assert again["before"] == again["after"] == ["closes at 2026-12-02T09:00:00Z (systemd timer "
                                                 "hpsum-ports-expire.timer)"]
    # no deadline asked: the one there is stays
    kept = exp.plan("present", None, "nftables")
    assert not kept["changed"] and kept["expires_at"] == "2026-12-02T09:00:00Z"
    # a later absolute deadline moves it: a change
    later = exp.plan("present", "2026-12-02T12:00:00Z", "nftables")
    assert later["changed"] and later["after"][0].startswith("closes at 2026-12-02T12:00:00Z")


def test_absent_cancels_everything(replay: t.Any, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expiry, "utc_now", lambda: datetime.datetime(2026, 12, 2, 5, 0, tzinfo=UTC))
    exp, runner = make(replay, tmp_path)
    exp.apply(exp.plan("present", "1m", "iptables"))
    check = exp.plan("absent", None, "iptables")
    assert check["changed"] and check["expires_at"] is None and check["after"] == []
    exp.apply(check)
    assert runner.files == {} and not (tmp_path / "state").exists()
    assert (SYSTEMCTL, "disable", "--now", "hpsum-ports-expire.timer") in runner.argvs()
    assert not exp.plan("absent", None, "iptables")["changed"]


def test_the_timers_own_run_leaves_its_zip_to_the_shell(replay: t.Any, tmp_path: pathlib.Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expiry, "utc_now", lambda: datetime.datetime(2026, 12, 2, 5, 0, tzinfo=UTC))
    exp, runner = make(replay, tmp_path)
    exp.apply(exp.plan("present", "1m", "ufw"))
    monkeypatch.setattr(expiry, "payload_source", lambda: exp.paths["payload"])  # running from the payload
    exp.apply(exp.plan("absent", None, "ufw"))
    assert sorted(runner.files) == sorted([exp.paths["payload"], exp.paths["args"]])
    assert exp.current() is None  # nothing scheduled any more


def test_past_deadline_is_refused(replay: t.Any, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expiry, "utc_now", lambda: datetime.datetime(2026, 12, 2, 5, 0, tzinfo=UTC))
    exp, runner = make(replay, tmp_path)
    with pytest.raises(SumPortsError, match=r"^expires: '2026-12-01T00:00:00Z' gives 2026-12-01T00:00:00Z, which is "
                                            r"not in the future"):
        exp.plan("present", "2026-12-01T00:00:00Z", "ufw")
    assert runner.writes == []


def test_no_systemd_or_no_payload_fails_before_any_change(replay: t.Any, tmp_path: pathlib.Path) -> None:
    runner = replay({}, commands=[])
    exp = expiry.Expiry(runner, {}, state_dir=str(tmp_path), payload=str(tmp_path / "x.zip"))
    with pytest.raises(SumPortsError, match="no systemctl"):
        exp.preflight()
    exp = expiry.Expiry(replay({}, commands=["systemctl"]), {}, state_dir=str(tmp_path))
    with pytest.raises(SumPortsError, match="does not run from Ansible's module zip"):
        exp.preflight()  # in a test, the module_utils are plain files: no zip to leave on a host
