"""esxi_firewall_rule through main(): esxcli replayed from tables of exact argv -> (rc, stdout, stderr)."""

from __future__ import annotations

import datetime
import json
import typing as t

import pytest
from _module_args import patch_module_args
from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi import esxi_expiry, esxi_xml
from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi.esxi_expiry import EsxiExpiry
from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi.esxi_firewall import EsxiFirewallRule
from ansible_collections.hpsum.ports.plugins.modules import esxi_firewall_rule

ESXCLI = "/bin/esxcli"
XML = esxi_xml.render(esxi_xml.Ruleset("hpsumPorts", (63001, 63002)))
LOCAL_SH = b"#!/bin/sh ++group=host/vim/vmvisor/boot\n# mine\nexit 0\n"
CRONTAB = b"#min hour day mon dow command\n1    *    *   *   *   /sbin/auto-backup.sh\n"

Call = t.Tuple[t.Tuple[str, ...], t.Tuple[int, str, str]]


def cmd(*args: str) -> t.Tuple[str, ...]:
    return (ESXCLI, "network", "firewall", *args)


def ok(out: str = "") -> t.Tuple[int, str, str]:
    return 0, out, ""


def ruleset_list(enabled: t.Optional[bool]) -> Call:
    rows = "sshServer      true\n"
    if enabled is not None:
        rows += "hpsumPorts     %s\n" % ("true" if enabled else "false")
    return cmd("ruleset", "list"), ok("Name        Enabled\n----------  -------\n" + rows)


def allowedip_list(value: str) -> Call:
    text = "Ruleset     Allowed IP Addresses\n----------  --------------------\nhpsumPorts  %s\n" % value
    return cmd("ruleset", "allowedip", "list", "--ruleset-id", "hpsumPorts"), ok(text)


def rule_list(*ports: int) -> Call:
    text = "Ruleset     Direction  Protocol  Port Type  Port Begin  Port End\n"
    text += "----------  ---------  --------  ---------  ----------  --------\n"
    text += "".join("hpsumPorts  Outbound   TCP       Dst        %10d  %8d\n" % (p, p) for p in ports)
    return cmd("ruleset", "rule", "list", "--ruleset-id", "hpsumPorts"), ok(text)


def loaded(enabled: bool = True, ips: str = "198.18.0.10", ports: t.Tuple[int, ...] = (63001, 63002)) -> t.List[Call]:
    return [ruleset_list(enabled), allowedip_list(ips), rule_list(*ports)]


REFRESH = (cmd("refresh"), ok())
SET_NOT_ALL = (cmd("ruleset", "set", "--ruleset-id", "hpsumPorts", "--allowed-all", "false"), ok())
ADD_10 = (cmd("ruleset", "allowedip", "add", "--ruleset-id", "hpsumPorts", "--ip-address", "198.18.0.10"), ok())


class Host:
    """A temporary /etc/vmware/firewall and local.sh, and the esxcli replay."""

    def __init__(self, tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.dir = tmp_path / "firewall"
        self.dir.mkdir()
        self.file = self.dir / "hpsum_ports.xml"
        self.local_sh = tmp_path / "local.sh"
        self.calls: t.List[Call] = []
        monkeypatch.setattr(EsxiFirewallRule, "firewall_dir", str(self.dir))
        monkeypatch.setattr(EsxiFirewallRule, "local_sh", str(self.local_sh))
        self.secure_boot = tmp_path / "secureBoot.py"
        monkeypatch.setattr(EsxiFirewallRule, "secure_boot_tool", str(self.secure_boot))
        self.crontab = tmp_path / "crontabs" / "root"
        self.crontab.parent.mkdir()
        self.crontab.write_bytes(CRONTAB)
        self.busybox = tmp_path / "busybox"
        self.busybox.write_text("#!/bin/sh\n")
        self.busybox.chmod(0o755)
        self.crond_starts = 0
        for attr, value in (("crontab", self.crontab), ("crond_pid", tmp_path / "crond.pid"),
                            ("busybox", self.busybox), ("expiry_dir", tmp_path / "hpsum_ports")):
            monkeypatch.setattr(EsxiExpiry, attr, str(value))
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda *_a, **_k: ESXCLI)
        monkeypatch.setattr(basic.AnsibleModule, "run_command", self._run)

    def _run(self, argv: t.List[str], **_kw: t.Any) -> t.Tuple[int, str, str]:
        if argv == [str(self.secure_boot), "-s"]:
            return 0, self.secure_boot.read_text(), ""
        if argv == [str(self.busybox), "crond"]:
            self.crond_starts += 1
            return 0, "", ""
        assert self.calls, "unexpected esxcli call %r" % (argv,)
        expected, answer = self.calls.pop(0)
        assert tuple(argv) == expected
        return answer

    def run(self, calls: t.List[Call], capsys: t.Any, **args: t.Any) -> t.Dict[str, t.Any]:
        """Run main() with these args against this replay; every expected call must be made."""
        self.calls = list(calls)
        # Module warnings collect in a process-wide registry: start every run from none.
        ansible_warnings._global_warnings.clear()
        with patch_module_args(args), pytest.raises(SystemExit):
            esxi_firewall_rule.main()
        assert self.calls == [], "esxcli calls not made: %r" % self.calls
        return json.loads(capsys.readouterr().out)


@pytest.fixture
def host(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> Host:
    return Host(tmp_path, monkeypatch)


PRESENT = {"ports": [63001, 63002], "allowed_ips": ["198.18.0.10"]}


def test_first_run_writes_loads_restricts_and_reads_back(host: Host, capsys: t.Any) -> None:
    calls = [ruleset_list(None), REFRESH, *loaded(ips="All"), SET_NOT_ALL, ADD_10, *loaded()]
    result = host.run(calls, capsys, **PRESENT)
    assert result["changed"] is True
    assert host.file.read_bytes() == XML
    assert result["commands"] == [list(REFRESH[0]), list(SET_NOT_ALL[0]), list(ADD_10[0])]
    assert result["ruleset"] == {"loaded": True, "enabled": True, "allowed_all": False,
                                 "allowed_ips": ["198.18.0.10"], "ports": [63001, 63002]}
    assert result["msg"] == "changed: ruleset hpsumPorts allows outbound tcp 63001, 63002 to 198.18.0.10"
    assert result["diff"][0]["before"] == "" and result["diff"][0]["after"] == XML.decode()
    assert result["diff"][1]["before"] == "ruleset hpsumPorts: not loaded\n"


def test_second_run_only_reads(host: Host, capsys: t.Any) -> None:
    host.file.write_bytes(XML)
    result = host.run(loaded(), capsys, **PRESENT)
    assert result["changed"] is False and result["commands"] == []
    assert result["msg"].startswith("no change: ")


def test_check_mode_predicts_without_touching(host: Host, capsys: t.Any) -> None:
    result = host.run([ruleset_list(None)], capsys, _ansible_check_mode=True, **PRESENT)
    assert result["changed"] is True and not host.file.exists() and result["commands"] == []
    assert result["msg"].startswith("would change: ruleset hpsumPorts allows outbound tcp 63001, 63002")


def test_broken_own_file_is_replaced(host: Host, capsys: t.Any) -> None:
    host.file.write_bytes(b"<ConfigRoot><broken")
    other = host.dir / "other.xml"
    other.write_bytes(b"<ConfigRoot><broken")
    calls = [ruleset_list(None), REFRESH, *loaded(ips="All"), SET_NOT_ALL, ADD_10, *loaded()]
    result = host.run(calls, capsys, **PRESENT)
    assert result["changed"] and host.file.read_bytes() == XML
    assert other.read_bytes() == b"<ConfigRoot><broken"
    assert result["diff"][0]["before"] == "<ConfigRoot><broken"


def test_disabled_and_extra_ip_are_corrected_without_refresh(host: Host, capsys: t.Any) -> None:
    host.file.write_bytes(XML)
    enable = (cmd("ruleset", "set", "--ruleset-id", "hpsumPorts", "--enabled", "true"), ok())
    remove = (cmd("ruleset", "allowedip", "remove", "--ruleset-id", "hpsumPorts", "--ip-address", "198.18.0.99"), ok())
    before = loaded(enabled=False, ips="198.18.0.10, 198.18.0.99")
    result = host.run([*before, enable, remove, *loaded()], capsys, **PRESENT)
    assert result["changed"] and result["commands"] == [list(enable[0]), list(remove[0])]
    assert "allowed IPs: 198.18.0.10, 198.18.0.99" in result["diff"][1]["before"]


def test_ports_moved_to_80_443_need_nothing(host: Host, capsys: t.Any) -> None:
    result = host.run([ruleset_list(None)], capsys, ports=[80, 443], allowed_ips=["198.18.0.10"])
    assert result["changed"] is False and not host.file.exists()
    assert result["skipped_ports"] == [80, 443] and result["ports"] == []
    assert "no custom rule needed: ESXi allows outbound tcp to 80, 443, 5989 by default" in result["msg"]


def test_ports_moved_to_80_443_remove_an_old_ruleset(host: Host, capsys: t.Any) -> None:
    host.file.write_bytes(XML)
    result = host.run([*loaded(), REFRESH, ruleset_list(None)], capsys, ports=[80, 443], allowed_ips=["198.18.0.10"])
    assert result["changed"] is True and not host.file.exists()


def test_absent_removes_and_refreshes_then_is_idempotent(host: Host, capsys: t.Any) -> None:
    host.file.write_bytes(XML)
    result = host.run([*loaded(), REFRESH, ruleset_list(None)], capsys, state="absent")
    assert result["changed"] is True and not host.file.exists()
    assert result["diff"][0]["before"] == XML.decode() and result["diff"][0]["after"] == ""
    assert host.run([ruleset_list(None)], capsys, state="absent")["changed"] is False


def test_persist_adds_block_then_absent_removes_it(host: Host, capsys: t.Any) -> None:
    host.local_sh.write_bytes(LOCAL_SH)
    host.file.write_bytes(XML)
    result = host.run(loaded(), capsys, persist=True, **PRESENT)
    text = host.local_sh.read_bytes()
    assert result["changed"] and result["persisted"] is True
    assert text.startswith(b"#!/bin/sh ++group=host/vim/vmvisor/boot\n# mine\n# BEGIN hpsum.ports")
    assert text.endswith(b"# END hpsum.ports esxi_firewall_rule hpsum_ports.xml\nexit 0\n")
    assert result["diff"][2]["before"] == LOCAL_SH.decode()
    assert host.run(loaded(), capsys, persist=True, **PRESENT)["changed"] is False
    host.run([*loaded(), REFRESH, ruleset_list(None)], capsys, state="absent")
    assert host.local_sh.read_bytes() == LOCAL_SH


def test_persist_false_removes_the_block(host: Host, capsys: t.Any) -> None:
    host.local_sh.write_bytes(LOCAL_SH)
    host.file.write_bytes(XML)
    host.run(loaded(), capsys, persist=True, **PRESENT)
    assert host.run(loaded(), capsys, **PRESENT)["changed"] is True
    assert host.local_sh.read_bytes() == LOCAL_SH


def test_expires_check_mode_install_keep_and_close(host: Host, capsys: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline: check mode predicts it, the run installs it, a second run keeps it, absent cancels it."""
    now = datetime.datetime(2026, 12, 2, 5, 0, tzinfo=datetime.timezone.utc)
    monkeypatch.setattr(esxi_expiry, "utc_now", lambda: now)
    host.local_sh.write_bytes(LOCAL_SH)
    host.file.write_bytes(XML)
    check = host.run(loaded(), capsys, _ansible_check_mode=True, expires="90m", **PRESENT)
    assert check["changed"] and check["expires_at"] == "2026-12-02T06:30:00Z" and host.crond_starts == 0
    assert host.crontab.read_bytes() == CRONTAB and host.local_sh.read_bytes() == LOCAL_SH
    expiry = [d for d in check["diff"] if d["after_header"] == "expiry"]
    assert expiry == [{"before_header": "expiry", "after_header": "expiry", "before": "",
                       "after": "closes at 2026-12-02T06:30:00Z (busybox crond, %s)\n" % host.crontab}]
    real = host.run(loaded(), capsys, expires="90m", **PRESENT)
    assert [d["after"] for d in real["diff"]] == [d["after"] for d in check["diff"]]
    assert real["changed"] and real["msg"].endswith("; the window closes at 2026-12-02T06:30:00Z (busybox crond)")
    line = "30 6 2 12 * /bin/sh %s/hpsum_ports/expire-hpsum_ports.xml.sh\n" % host.crontab.parent.parent
    assert host.crontab.read_bytes() == CRONTAB + line.encode() and host.crond_starts == 1
    assert b"# BEGIN hpsum.ports esxi_firewall_rule hpsum_ports.xml expiry\n" in host.local_sh.read_bytes()
    monkeypatch.setattr(esxi_expiry, "utc_now", lambda: now + datetime.timedelta(minutes=20))
    monkeypatch.setattr(EsxiExpiry, "crond_running", lambda self: True)
    again = host.run(loaded(), capsys, expires="90m", **PRESENT)
    assert again["changed"] is False and again["expires_at"] == "2026-12-02T06:30:00Z"
    closed = host.run([*loaded(), REFRESH, ruleset_list(None)], capsys, state="absent")
    assert closed["changed"] and closed["expires_at"] is None and host.crond_starts == 2
    assert host.crontab.read_bytes() == CRONTAB and host.local_sh.read_bytes() == LOCAL_SH
    assert not (host.crontab.parent.parent / "hpsum_ports").exists()


def test_expires_without_local_sh_or_busybox_changes_nothing(host: Host, capsys: t.Any) -> None:
    host.file.write_bytes(XML)
    result = fail(host, capsys, loaded(), expires="4h", **PRESENT)
    assert "expires: '4h' needs %s" % host.local_sh in result["msg"]
    host.local_sh.write_bytes(LOCAL_SH)
    host.busybox.unlink()
    result = fail(host, capsys, loaded(), expires="4h", **PRESENT)
    assert "busybox, which runs crond) is not on this host" in result["msg"]
    assert host.local_sh.read_bytes() == LOCAL_SH and host.crontab.read_bytes() == CRONTAB
    assert "expires: 'soon' is neither a duration" in fail(host, capsys, [], expires="soon", **PRESENT)["msg"]


def fail(host: Host, capsys: t.Any, calls: t.List[Call], **args: t.Any) -> t.Dict[str, t.Any]:
    result = host.run(calls, capsys, **args)
    assert result["failed"] is True
    return result


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"ports": [70000], "allowed_ips": ["198.18.0.10"]}, "ports: 70000 is outside 1-65535"),
        ({"ports": [63001], "allowed_ips": ["198.18.0.300"]}, "allowed_ips: '198.18.0.300' is not an IP address"),
        ({"ports": [63001], "allowed_ips": []}, "allowed_ips: [] is empty"),
        ({"ports": [63001], "allowed_ips": ["198.18.0.10"], "ruleset_id": "x'y"}, "ruleset_id: \"x'y\""),
        ({"ports": [63001], "allowed_ips": ["198.18.0.10"], "file_name": "../service.xml"},
         "file_name: '../service.xml'"),
        ({"state": "present"}, "state is present but all of the following are missing: ports"),
    ],
)
def test_bad_input_fails_before_any_call(host: Host, capsys: t.Any, args: t.Dict[str, t.Any], message: str) -> None:
    assert fail(host, capsys, [], **args)["msg"].startswith(message)
    assert list(host.dir.iterdir()) == []


def test_persist_without_local_sh(host: Host, capsys: t.Any) -> None:
    result = fail(host, capsys, [ruleset_list(None)], persist=True, **PRESENT)
    assert result["msg"].startswith("persist: True needs ") and not host.file.exists()


def test_not_an_esxi_host(host: Host, capsys: t.Any) -> None:
    host.dir.rmdir()
    assert "does not exist: this is not an ESXi host" in fail(host, capsys, [], **PRESENT)["msg"]


def test_esxcli_failure_names_command(host: Host, capsys: t.Any) -> None:
    result = fail(host, capsys, [(cmd("ruleset", "list"), (1, "", "Connection failed"))], **PRESENT)
    assert result["msg"] == "esxcli failed (rc=1): Connection failed"
    assert result["cmd"] == list(cmd("ruleset", "list")) and result["rc"] == 1


def test_read_back_mismatch_fails(host: Host, capsys: t.Any) -> None:
    calls = [ruleset_list(None), REFRESH, *loaded(ips="All"), SET_NOT_ALL, ADD_10, *loaded(ports=(63001,))]
    result = fail(host, capsys, calls, **PRESENT)
    assert result["msg"] == "esxcli does not show the ruleset as wanted after the change"
    assert result["found"]["ports"] == [63001] and result["wanted"]["ports"] == [63001, 63002]


@pytest.mark.parametrize(("status", "warned"), [("Enabled\n", True), ("Disabled\n", False), (None, False)])
def test_persist_warns_under_secure_boot(host: Host, capsys: t.Any, status: t.Optional[str], warned: bool) -> None:
    host.local_sh.write_bytes(LOCAL_SH)
    host.file.write_bytes(XML)
    if status is not None:
        host.secure_boot.write_text(status)
    result = host.run(loaded(), capsys, persist=True, **PRESENT)
    warned_text = "persist: UEFI secure boot is enabled on this host, and ESXi does not run "
    assert (warned_text in str(result.get("warnings", []))) is warned
    assert "secure boot" not in str(host.run(loaded(), capsys, **PRESENT).get("warnings", []))


def test_expires_warns_under_secure_boot(host: Host, capsys: t.Any) -> None:
    """Without local.sh at boot the crontab line is lost at a reboot: the deadline warns, as persist does."""
    host.local_sh.write_bytes(LOCAL_SH)
    host.file.write_bytes(XML)
    host.secure_boot.write_text("Enabled\n")
    result = host.run(loaded(), capsys, expires="4h", **PRESENT)
    assert result["changed"] and result["expires_at"]
    assert "expires: UEFI secure boot is enabled on this host" in str(result.get("warnings", []))
