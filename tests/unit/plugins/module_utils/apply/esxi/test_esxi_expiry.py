"""The ESXi deadline: crontab editing, the removal script and the local.sh block, run for real by /bin/sh."""

from __future__ import annotations

import datetime
import os
import pathlib
import subprocess
import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi import esxi_expiry as ex
from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi import esxi_firewall, esxi_xml
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

UTC = datetime.timezone.utc
STOCK_CRONTAB = (b"#min hour day mon dow command\n1    1    *   *   *   /sbin/tmpwatch.py\n"
                 b"1    *    *   *   *   /sbin/auto-backup.sh\n")
LOCAL_SH = b"#!/bin/sh ++group=host/vim/vmvisor/boot\n# mine\nexit 0\n"
XML = esxi_xml.render(esxi_xml.Ruleset("hpsumPorts", (63001,)))


class Box:
    """A host's files under a temporary directory, with an esxcli and a busybox that record their calls."""

    def __init__(self, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = tmp_path
        self.calls = tmp_path / "calls"
        for name, body in (("esxcli", 'echo "esxcli $*" >> %s\n'), ("busybox", 'echo "busybox $*" >> %s\n')):
            tool = tmp_path / name
            tool.write_text("#!/bin/sh\n" + body % self.calls)
            tool.chmod(0o755)
        (tmp_path / "crontabs").mkdir()
        self.crontab = tmp_path / "crontabs" / "root"
        self.crontab.write_bytes(STOCK_CRONTAB)
        self.local_sh = tmp_path / "local.sh"
        self.local_sh.write_bytes(LOCAL_SH)
        self.ruleset = tmp_path / "hpsum_ports.xml"
        self.ruleset.write_bytes(XML)
        for attr, value in (("crontab", self.crontab), ("crond_pid", tmp_path / "crond.pid"),
                            ("busybox", tmp_path / "busybox"), ("expiry_dir", tmp_path / "hpsum_ports")):
            monkeypatch.setattr(ex.EsxiExpiry, attr, str(value))
        self.expiry = ex.EsxiExpiry(None, "hpsum_ports.xml", str(self.ruleset), str(self.local_sh),
                                    str(tmp_path / "esxcli"))

    def sh(self, script: str) -> None:
        subprocess.run(["/bin/sh", script], check=True, capture_output=True, timeout=30)

    def recorded(self) -> t.List[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []


@pytest.fixture
def box(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Box:
    return Box(tmp_path, monkeypatch)


def test_cron_line_and_ours() -> None:
    line = ex.cron_line(datetime.datetime(2026, 12, 2, 7, 5, tzinfo=UTC), "/etc/hpsum_ports/expire-a.xml.sh")
    assert line == "5 7 2 12 * /bin/sh /etc/hpsum_ports/expire-a.xml.sh"
    assert ex.ours(line.encode() + b"\n", "/etc/hpsum_ports/expire-a.xml.sh")
    assert not ex.ours(line.encode(), "/etc/hpsum_ports/expire-b.xml.sh")
    assert not ex.ours(b"1 * * * * /sbin/auto-backup.sh", "/etc/hpsum_ports/expire-a.xml.sh")


def test_edit_crontab_keeps_every_other_byte() -> None:
    script = "/etc/hpsum_ports/expire-a.xml.sh"
    added = ex.edit_crontab(STOCK_CRONTAB, "5 7 2 12 * /bin/sh " + script, script)
    assert added == STOCK_CRONTAB + b"5 7 2 12 * /bin/sh /etc/hpsum_ports/expire-a.xml.sh\n"
    moved = ex.edit_crontab(added, "9 8 3 12 * /bin/sh " + script, script)
    assert moved == STOCK_CRONTAB + b"9 8 3 12 * /bin/sh /etc/hpsum_ports/expire-a.xml.sh\n"
    assert ex.edit_crontab(moved, None, script) == STOCK_CRONTAB
    assert ex.edit_crontab(b"x", "1 2 3 4 * /bin/sh " + script, script) == b"x\n1 2 3 4 * /bin/sh " + \
        script.encode() + b"\n"


def test_plan_install_keep_move_cancel(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.datetime(2026, 12, 2, 5, 0, 30, tzinfo=UTC)
    monkeypatch.setattr(ex, "utc_now", lambda: now)
    plan = box.expiry.plan(True, "4h", LOCAL_SH)
    # 09:00:30 rounded up to the minute: crond fires at a minute's start, never before the deadline
    assert plan["expires_at"] == "2026-12-02T09:01:00Z" and plan["changed"] and plan["restart"]
    assert plan["crontab"][1] == STOCK_CRONTAB + b"1 9 2 12 * /bin/sh %s\n" % box.expiry.script.encode()
    assert b"# BEGIN hpsum.ports esxi_firewall_rule hpsum_ports.xml expiry\n" in plan["local"]
    assert plan["local"].endswith(b"# END hpsum.ports esxi_firewall_rule hpsum_ports.xml expiry\nexit 0\n")
    box.expiry.module = FakeModule()
    box.expiry.apply(plan)
    box.local_sh.write_bytes(plan["local"])
    assert box.crontab.read_bytes() == plan["crontab"][1] and box.recorded() == ["busybox crond"]
    # an hour later, the same duration: the deadline found stays, nothing changes (crond runs)
    monkeypatch.setattr(ex, "utc_now", lambda: now + datetime.timedelta(hours=1))
    monkeypatch.setattr(ex.EsxiExpiry, "crond_running", lambda self: True)
    again = box.expiry.plan(True, "4h", plan["local"])
    assert not again["changed"] and again["local"] == plan["local"] and again["expires_at"] == plan["expires_at"]
    # no deadline asked: kept as found
    kept = box.expiry.plan(True, None, plan["local"])
    assert not kept["changed"] and kept["expires_at"] == plan["expires_at"] and not kept["install"]
    # a later absolute deadline is a change
    moved = box.expiry.plan(True, "2026-12-02T10:00:00Z", plan["local"])
    assert moved["changed"] and moved["expires_at"] == "2026-12-02T10:00:00Z"
    assert moved["crontab"][1] == STOCK_CRONTAB + b"0 10 2 12 * /bin/sh %s\n" % box.expiry.script.encode()
    # absent: everything of ours goes, every other byte stays
    cancel = box.expiry.plan(False, None, plan["local"])
    assert cancel["changed"] and cancel["restart"] and cancel["local"] == LOCAL_SH
    box.expiry.apply(cancel)
    assert box.crontab.read_bytes() == STOCK_CRONTAB and not os.path.exists(box.expiry.expiry_dir)
    assert box.expiry.plan(False, None, LOCAL_SH)["changed"] is False


def test_plan_refuses_without_local_sh_and_in_the_past(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ex, "utc_now", lambda: datetime.datetime(2026, 12, 2, 5, 0, tzinfo=UTC))
    with pytest.raises(SumPortsError, match=r"expires: '4h' needs .*local\.sh"):
        box.expiry.plan(True, "4h", None)
    with pytest.raises(SumPortsError, match="which is not in the future"):
        box.expiry.plan(True, "2026-12-02T04:00:00Z", LOCAL_SH)


def test_the_block_goes_after_the_rulesets_own(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    """At boot the ruleset's block must not run after the deadline's removal: ours is moved behind it."""
    monkeypatch.setattr(ex, "utc_now", lambda: datetime.datetime(2026, 12, 2, 5, 0, tzinfo=UTC))
    with_expiry = box.expiry.plan(True, "4h", LOCAL_SH)["local"]
    ruleset_block = esxi_firewall.boot_block(str(box.ruleset), XML, "hpsumPorts", ["198.18.0.10"], "hpsum_ports.xml")
    both = esxi_firewall.edit_local_sh(with_expiry, "hpsum_ports.xml", ruleset_block)
    assert both.index(b"hpsum_ports.xml expiry") < both.index(b"BEGIN hpsum.ports esxi_firewall_rule hpsum_ports.xml\n")
    ordered = box.expiry.plan(True, "4h", both)["local"]
    assert ordered.index(b"BEGIN hpsum.ports esxi_firewall_rule hpsum_ports.xml\n") < ordered.index(b"xml expiry")
    assert box.expiry.plan(True, "4h", ordered)["local"] == ordered


def test_script_removes_exactly_ours_when_run(box: Box) -> None:
    """The script, run by /bin/sh after its deadline, leaves local.sh and the crontab byte for byte as before."""
    when = datetime.datetime(2020, 1, 2, 3, 4, tzinfo=UTC)
    script = box.expiry.script_text(when, when)
    ruleset_block = esxi_firewall.boot_block(str(box.ruleset), XML, "hpsumPorts", ["198.18.0.10"], "hpsum_ports.xml")
    local = ex.edit_local_sh(LOCAL_SH, "hpsum_ports.xml", ruleset_block)
    local = ex.edit_local_sh(local, ex.block_key("hpsum_ports.xml"), box.expiry.boot_block(when, script))
    box.local_sh.write_bytes(local)
    box.local_sh.chmod(0o1755)
    box.crontab.write_bytes(ex.edit_crontab(STOCK_CRONTAB, ex.cron_line(when, box.expiry.script), box.expiry.script))
    os.makedirs(box.expiry.expiry_dir)
    pathlib.Path(box.expiry.script).write_bytes(script)
    box.sh(box.expiry.script)
    assert not box.ruleset.exists() and box.local_sh.read_bytes() == LOCAL_SH
    assert box.local_sh.stat().st_mode & 0o7777 == 0o1755  # ESXi marks local.sh for its backup with the sticky bit
    assert box.crontab.read_bytes() == STOCK_CRONTAB and not os.path.exists(box.expiry.expiry_dir)
    assert box.recorded() == ["esxcli network firewall refresh", "busybox crond"]


def test_script_does_nothing_before_its_deadline(box: Box) -> None:
    when = datetime.datetime(2999, 1, 2, 3, 4, tzinfo=UTC)
    path = box.root / "early.sh"
    path.write_bytes(box.expiry.script_text(when, when))
    box.sh(str(path))
    assert box.ruleset.exists() and box.recorded() == []


def test_script_leaves_a_damaged_block_alone(box: Box) -> None:
    when = datetime.datetime(2020, 1, 2, 3, 4, tzinfo=UTC)
    damaged = LOCAL_SH + b"# BEGIN hpsum.ports esxi_firewall_rule hpsum_ports.xml\necho hand-made\n"
    box.local_sh.write_bytes(damaged)
    path = box.root / "expire.sh"
    path.write_bytes(box.expiry.script_text(when, when))
    box.sh(str(path))
    assert box.local_sh.read_bytes() == damaged and not box.ruleset.exists()


@pytest.mark.parametrize("passed", [True, False])
def test_boot_block_rearms_or_closes(box: Box, passed: bool) -> None:
    """local.sh at boot (the script and the crontab line gone, as ESXi has them after a reboot)."""
    when = datetime.datetime(2020 if passed else 2999, 1, 2, 3, 4, tzinfo=UTC)
    script = box.expiry.script_text(when, when)
    local = ex.edit_local_sh(LOCAL_SH, ex.block_key("hpsum_ports.xml"), box.expiry.boot_block(when, script))
    box.local_sh.write_bytes(local)
    box.sh(str(box.local_sh))
    box.sh(str(box.local_sh)) if not passed else None  # a second boot adds no second line
    if passed:
        assert box.local_sh.read_bytes() == LOCAL_SH and box.crontab.read_bytes() == STOCK_CRONTAB
        assert not box.ruleset.exists() and not os.path.exists(box.expiry.expiry_dir)
        assert box.recorded() == ["esxcli network firewall refresh", "busybox crond"]
    else:
        line = ex.cron_line(when, box.expiry.script).encode()
        assert box.crontab.read_bytes() == STOCK_CRONTAB + line + b"\n"
        assert pathlib.Path(box.expiry.script).read_bytes() == script and box.ruleset.exists()
        assert box.recorded() == ["busybox crond", "busybox crond"]
    assert box.expiry.found(local) == {"deadline": window_stamp(when), "first_open": window_stamp(when)}


def window_stamp(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeModule:
    """Only what apply() uses: atomic writes need the module's atomic_move and cleanup list."""

    def add_cleanup_file(self, _path: str) -> None:
        pass

    def atomic_move(self, src: str, dest: str, unsafe_writes: bool = False) -> None:
        os.replace(src, dest)

    def run_command(self, argv: t.List[str]) -> t.Tuple[int, str, str]:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr
