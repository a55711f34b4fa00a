# SPDX-License-Identifier: GPL-3.0-or-later
"""esxi_firewall_rule and the sum_firewall role's ESXi tasks against the lab's ESXi-like host.

The host blocks outbound traffic but to 80, 443 and 5989 (table inet esxi) and carries the esxcli
test double (tests/lab/esxi/esxcli). Every proof is a real TCP connection from that host, with a
listener at the other end. Runs on the default lab (esxi1, sum1, outsider), or the lab
HPSUM_LAB_FILE names (tests/lab/labs/esxi.yml: ex-esxi1, ex-sum1, ex-outsider). Every test leaves
the ESXi host as it found it (nftables ruleset, /etc/vmware/firewall, /etc/rc.local.d).
"""

from __future__ import annotations

import datetime
import os
import subprocess
import time
import typing as t

import labutil
import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.apply import window
from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi import esxi_xml

pytestmark = pytest.mark.lab

FW_DIR = "/etc/vmware/firewall"
OWN_FILE = FW_DIR + "/hpsum_ports.xml"
OTHER_FILE = FW_DIR + "/zz_hpsum_test_other.xml"
LOCAL_SH_DIR = "/etc/rc.local.d"
LOCAL_SH = LOCAL_SH_DIR + "/local.sh"
# ESXi's stock /etc/rc.local.d/local.sh, as the lab's ESXi-like host has it (the lab writes it once).
with open(os.path.join(labutil.REPO, "tests", "lab", "esxi", "local.sh"), encoding="utf-8") as _stock:
    STOCK_LOCAL_SH = _stock.read()
CRONTAB = "/var/spool/cron/crontabs/root"
OPEN_PLAYBOOK = os.path.join(labutil.REPO, "playbooks", "open.yml")
CLOSE_PLAYBOOK = os.path.join(labutil.REPO, "playbooks", "close.yml")
APPLY_PLAYBOOK = "tests/integration/playbooks/esxi_apply.yml"
MODULE_PLAYBOOK = "tests/integration/playbooks/esxi_module.yml"
MODULE = "hpsum.ports.esxi_firewall_rule"


class Esx(t.NamedTuple):
    lab: labutil.LabInfo
    esxi: str
    server: str
    outsider: str

    def run(self, argv: t.Sequence[str], check: bool = True) -> str:
        return labutil.host_exec(self.esxi, argv, lab=self.lab, check=check).stdout

    def connect(self, address: str, port: int) -> str:
        return labutil.connect(address, port, source=self.esxi, lab=self.lab, timeout=1.5)

    def module(self, check: bool = False, **args: t.Any) -> t.Dict[str, t.Any]:
        res = labutil.run_module(MODULE, self.lab.inventory, args, hosts=self.esxi, check=check, diff=True)
        assert res.rc in (0, 2), res.explain()
        return res.result(self.esxi)

    def snapshot(self) -> t.Dict[str, str]:
        """What must be the same before and after every test."""
        return {
            "nft": self.run(["nft", "list", "ruleset"]),
            # not `ls -l`: overlayfs changes a copied-up directory's link count, which is no change
            "firewall_dir": self.run(["sh", "-c", "find %s -type f -printf '%%M %%u %%g %%s %%P\\n' -o "
                                                  "-printf '%%M %%u %%g %%P\\n' | sort" % FW_DIR]),
            "rc_local": self.run(["sh", "-c", "find %s -type f -printf '%%M %%u %%g %%s %%P\\n' -o "
                                              "-printf '%%M %%u %%g %%P\\n' 2>&1 | sort || true" % LOCAL_SH_DIR]),
            "standin_state": self.run(["sh", "-c", "ls /var/lib/esxcli-standin 2>&1 || true"]),
            "local_sh": self.run(["sh", "-c", "cat %s 2>&1 || true" % LOCAL_SH]),
            "crontab": self.run(["sh", "-c", "cat %s 2>&1 || true" % CRONTAB]),
            "expiry": self.run(["sh", "-c", "ls /etc/hpsum_ports 2>&1 || true"]),
        }


@pytest.fixture(scope="module")
def esx() -> Esx:
    lab = labutil.require_lab()
    return Esx(lab, lab.group("esxi_nodes")[0], lab.group("sum_servers")[0], lab.group("outsiders")[0])


@pytest.fixture
def as_found(esx: Esx) -> t.Iterator[Esx]:
    """Snapshot the ESXi host, run the test, remove what the test made, and prove it is as found."""
    before = esx.snapshot()
    had_local_sh = "local.sh" in before["rc_local"]
    try:
        yield esx
    finally:
        esx.run(["rm", "-f", OTHER_FILE], check=False)
        esx.module(state="absent")
        if not had_local_sh:
            esx.run(["rm", "-rf", LOCAL_SH_DIR], check=False)
        assert esx.snapshot() == before


def stock_local_sh(esx: Esx) -> None:
    """ESXi's stock local.sh, on a host the lab made before it wrote one."""
    script = f"[ -f {LOCAL_SH} ] || {{ mkdir -p {LOCAL_SH_DIR} && cat > {LOCAL_SH} && chmod 1755 {LOCAL_SH}; }}"
    labutil.host_exec(esx.esxi, ["sh", "-c", script], lab=esx.lab, check=True, input=STOCK_LOCAL_SH)


def standin_state(esx: Esx) -> t.Tuple[str, str, str]:
    """What the esxcli double reports, read as an operator would."""
    return (
        esx.run(["esxcli", "network", "firewall", "ruleset", "list"]),
        esx.run(["esxcli", "network", "firewall", "ruleset", "allowedip", "list", "--ruleset-id", "hpsumPorts"]),
        esx.run(["esxcli", "network", "firewall", "ruleset", "rule", "list", "--ruleset-id", "hpsumPorts"]),
    )


def test_open_reaches_the_sum_server_only_and_close_closes(as_found: Esx) -> None:
    """The user-level path: plan + open (+ the ESXi tasks), real TCP from the ESXi host, then close."""
    esx = as_found
    server_ip, outsider_ip = esx.lab.address(esx.server), esx.lab.address(esx.outsider)
    limit = [esx.server, esx.esxi]
    use_site = os.path.exists(OPEN_PLAYBOOK) and os.path.exists(CLOSE_PLAYBOOK)
    open_pb = OPEN_PLAYBOOK if use_site else APPLY_PLAYBOOK
    close_pb = CLOSE_PLAYBOOK if use_site else APPLY_PLAYBOOK

    def play(playbook: str, state: str) -> labutil.Result:
        return labutil.run_playbook(playbook, esx.lab.inventory, limit=limit, extra_vars={"esxi_test_state": state})

    with labutil.listening(esx.server, 63001, lab=esx.lab), labutil.listening(esx.outsider, 63001, lab=esx.lab), \
            labutil.listening(esx.outsider, 443, lab=esx.lab):
        assert esx.connect(server_ip, 63001) == labutil.TIMEOUT  # ESXi's default: blocked outbound
        try:
            res = play(open_pb, "present")
            assert res.rc == 0, res.explain()
            assert res.stats[esx.esxi].changed > 0
            assert esx.connect(server_ip, 63001) == labutil.OPEN
            assert esx.connect(outsider_ip, 63001) == labutil.TIMEOUT  # not a peer: still blocked
            assert esx.connect(outsider_ip, 443) == labutil.OPEN  # the outsider listens: the block is ESXi's
            again = play(open_pb, "present")
            assert again.rc == 0 and again.stats[esx.esxi].changed == 0, again.explain()
        finally:
            res = play(close_pb, "absent")
        assert res.rc == 0, res.explain()
        assert esx.connect(server_ip, 63001) == labutil.TIMEOUT
        assert esx.run(["ls", FW_DIR]).strip() == ""


def test_module_check_apply_idempotent_and_read_back(as_found: Esx) -> None:
    """check mode predicts, the real run does it (diff = the XML), check and run again change nothing."""
    esx = as_found
    outsider_ip, server_ip = esx.lab.address(esx.outsider), esx.lab.address(esx.server)
    args = {"ports": [63001, 63002], "allowed_ips": [outsider_ip]}
    res = labutil.run_playbook(MODULE_PLAYBOOK, esx.lab.inventory, limit=esx.esxi, extra_vars={"esxi_test_args": args})
    assert res.rc == 0, res.explain()
    check, apply, check2, apply2 = (res.result(esx.esxi, name) for name in
                                    ("Check mode", "Apply", "Check mode again", "Apply again"))
    assert check["changed"] and apply["changed"] and not check2["changed"] and not apply2["changed"]
    assert check["msg"].startswith("would change: ") and apply2["msg"].startswith("no change: ")
    expected = esxi_xml.render(esxi_xml.Ruleset("hpsumPorts", (63001, 63002))).decode()
    assert apply["diff"][0]["before"] == "" and apply["diff"][0]["after"] == expected
    assert labutil.read_file(esx.esxi, OWN_FILE, lab=esx.lab) == expected
    listing, allowed, rules = standin_state(esx)
    assert "hpsumPorts" in listing and allowed.splitlines()[-1].split() == ["hpsumPorts", outsider_ip]
    assert [line.split()[-2:] for line in rules.splitlines()[2:]] == [["63001", "63001"], ["63002", "63002"]]
    with labutil.listening(esx.outsider, 63002, lab=esx.lab), labutil.listening(esx.server, 63002, lab=esx.lab):
        assert esx.connect(outsider_ip, 63002) == labutil.OPEN
        assert esx.connect(server_ip, 63002) == labutil.TIMEOUT  # not an allowed IP now
    # Changing the allowed IPs converges without rewriting the file.
    moved = esx.module(ports=[63001, 63002], allowed_ips=[server_ip])
    assert moved["changed"] and moved["diff"][0]["before"] == moved["diff"][0]["after"]
    assert esx.module(check=True, ports=[63001, 63002], allowed_ips=[server_ip])["changed"] is False


def test_broken_own_file_is_replaced_and_another_file_left_alone(as_found: Esx) -> None:
    esx = as_found
    broken = "<ConfigRoot><service id='0000'><id>hand</id>\n"
    labutil.host_exec(esx.esxi, ["sh", "-c", "cat > %s; cp %s %s" % (OWN_FILE, OWN_FILE, OTHER_FILE)], lab=esx.lab,
                      check=True, input=broken)
    result = esx.module(ports=[63001], allowed_ips=[esx.lab.address(esx.outsider)])
    assert result["changed"] and result["diff"][0]["before"] == broken
    assert labutil.read_file(esx.esxi, OWN_FILE, lab=esx.lab) == esxi_xml.render(
        esxi_xml.Ruleset("hpsumPorts", (63001,))).decode()
    assert labutil.read_file(esx.esxi, OTHER_FILE, lab=esx.lab) == broken
    assert esx.module(ports=[63001], allowed_ips=[esx.lab.address(esx.outsider)])["changed"] is False


def test_ports_moved_to_80_and_443_need_no_rule(as_found: Esx) -> None:
    esx = as_found
    result = esx.module(ports=[80, 443], allowed_ips=[esx.lab.address(esx.server)])
    assert result["changed"] is False and result["skipped_ports"] == [80, 443]
    assert "no custom rule needed" in result["msg"]
    assert esx.run(["ls", FW_DIR]).strip() == ""


def test_bad_input_changes_nothing(as_found: Esx) -> None:
    esx = as_found
    res = labutil.run_module(MODULE, esx.lab.inventory, {"ports": [63001], "allowed_ips": ["198.18.0.999"]},
                             hosts=esx.esxi)
    assert res.rc != 0 and "allowed_ips: '198.18.0.999' is not an IP address" in res.result(esx.esxi)["msg"]
    assert esx.run(["ls", FW_DIR]).strip() == ""


def test_persist_recreates_the_ruleset_from_local_sh(as_found: Esx) -> None:
    """persist adds our block before `exit 0`; running local.sh after a "reboot" (file and ruleset gone)
    brings the ruleset back; absent takes the block out and leaves local.sh byte for byte."""
    esx = as_found
    outsider_ip = esx.lab.address(esx.outsider)
    stock_local_sh(esx)
    result = esx.module(ports=[63001], allowed_ips=[outsider_ip], persist=True)
    assert result["changed"] and result["persisted"]
    text = labutil.read_file(esx.esxi, LOCAL_SH, lab=esx.lab) or ""
    assert text.startswith(STOCK_LOCAL_SH[: -len("exit 0\n")] + "# BEGIN hpsum.ports esxi_firewall_rule")
    assert text.endswith("# END hpsum.ports esxi_firewall_rule hpsum_ports.xml\nexit 0\n")
    # "Reboot": ESXi loses the file and the ruleset.
    esx.run(["rm", OWN_FILE])
    esx.run(["esxcli", "network", "firewall", "refresh"])
    with labutil.listening(esx.outsider, 63001, lab=esx.lab):
        assert esx.connect(outsider_ip, 63001) == labutil.TIMEOUT
        esx.run(["sh", LOCAL_SH])
        assert esx.connect(outsider_ip, 63001) == labutil.OPEN
    assert esx.module(ports=[63001], allowed_ips=[outsider_ip], persist=True)["changed"] is False
    assert esx.module(state="absent")["changed"] is True
    assert labutil.read_file(esx.esxi, LOCAL_SH, lab=esx.lab) == STOCK_LOCAL_SH


ESXI_TASK = ("hpsum.ports.sum_firewall : ESXi | Let the host call SUM back "
             "(outbound ruleset restricted to the SUM server)")
# Long enough for check mode, the real run, a second run and a restart; rounded up to a whole minute on ESXi.
EXPIRES = "100s"


def test_window_closes_itself_after_a_restart(as_found: Esx) -> None:
    """sum_firewall_expires on ESXi: busybox crond removes the ruleset at the deadline, after a power cycle.

    open.yml with a deadline (and persist, so that the ruleset itself comes back at boot): check mode
    predicts the schedule, the real run installs it, a second run keeps it. The host is powered off
    and booted again (its boot drops the crontab line, the script and the ruleset file, as ESXi's does);
    local.sh brings the ruleset and the crontab line back. Nobody acts after that: at the deadline the
    host's crond runs the removal, and the host is as before the window, byte for byte.
    """
    esx = as_found
    stock_local_sh(esx)
    before = esx.snapshot()
    server_ip = esx.lab.address(esx.server)
    extra = {"sum_firewall_expires": EXPIRES, "sum_firewall_esxi_persist": True}
    limit = [esx.server, esx.esxi]
    with labutil.listening(esx.server, 63001, lab=esx.lab):
        try:
            check = labutil.run_playbook(OPEN_PLAYBOOK, esx.lab.inventory, extra_vars=extra, check=True, diff=True,
                                         limit=limit)
            real = labutil.run_playbook(OPEN_PLAYBOOK, esx.lab.inventory, extra_vars=extra, diff=True, limit=limit)
            assert check.rc == 0 and real.rc == 0, check.explain() + real.explain()
            predicted, done = check.result(esx.esxi, ESXI_TASK), real.result(esx.esxi, ESXI_TASK)
            # the same files change; the ruleset itself exactly (the deadline counts from each run's own open)
            assert [d["after_header"] for d in predicted["diff"]] == [d["after_header"] for d in done["diff"]]
            assert [d["after"] for d in predicted["diff"][:2]] == [d["after"] for d in done["diff"][:2]]
            deadline = window.parse_stamp(done["expires_at"])
            assert deadline is not None and deadline.second == 0 and done["changed"]
            # check mode predicts the deadline its own open would get (the real run opens a little later)
            expiry = [d["after"] for d in predicted["diff"] if d["after_header"] == "expiry"]
            assert expiry == ["closes at %s (busybox crond, %s)\n" % (predicted["expires_at"], CRONTAB)]
            assert datetime.timedelta(0) <= deadline - window.parse_stamp(predicted["expires_at"]) \
                <= datetime.timedelta(minutes=3)
            line = "%d %d %d %d * /bin/sh /etc/hpsum_ports/expire-hpsum_ports.xml.sh" % (
                deadline.minute, deadline.hour, deadline.day, deadline.month)
            assert esx.run(["cat", CRONTAB]) == before["crontab"] + line + "\n"
            assert esx.connect(server_ip, 63001) == labutil.OPEN
            # the same duration again: the deadline found stays, nothing changes
            again = labutil.run_playbook(OPEN_PLAYBOOK, esx.lab.inventory, extra_vars=extra, diff=True, limit=limit)
            assert again.rc == 0, again.explain()
            kept = again.result(esx.esxi, ESXI_TASK)
            assert not kept["changed"] and kept["expires_at"] == done["expires_at"]
            # power off and on: ESXi's boot drops the ruleset file, the script and the crontab line; local.sh
            # brings them back
            proc = subprocess.run([labutil.LAB_TOOL, "restart", "--lab", esx.lab.file, esx.esxi],
                                  capture_output=True, text=True, timeout=300, check=False)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert deadline > window.utc_now(), "the restart took too long"
            assert wait_for(lambda: line in esx.run(["cat", CRONTAB]), 30), "local.sh did not re-arm the deadline"
            assert esx.connect(server_ip, 63001) == labutil.OPEN, "local.sh did not bring the ruleset back"
            # nobody acts from here: the host's own crond closes the window at the deadline
            wait = (deadline - window.utc_now()).total_seconds() + 30
            assert wait_for(lambda: esx.run(["cat", CRONTAB]) == before["crontab"], wait), "still scheduled"
            assert wait_for(lambda: esx.snapshot() == before, 10), (esx.snapshot(), before)
            assert esx.connect(server_ip, 63001) == labutil.TIMEOUT
            log = esx.run(["journalctl", "-t", "hpsum_ports", "-o", "cat"])
            assert "the SUM update window closed: hpsum_ports.xml removed" in log, log
        finally:
            closed = labutil.run_playbook(CLOSE_PLAYBOOK, esx.lab.inventory, limit=limit)
    assert closed.rc == 0, closed.explain()
    assert esx.snapshot() == before


def wait_for(condition: t.Callable[[], bool], seconds: float) -> bool:
    """Whether ``condition`` holds within ``seconds`` (checked every 2 s)."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(2)
    return True
