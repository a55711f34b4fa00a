# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The window closes by itself (sum_firewall_expires), on every backend of the lab, across a restart.

open.yml with a deadline a short while away: check mode predicts the schedule, the real run
installs it (a systemd timer and service on each Linux host), a second run with the same
duration keeps the deadline it finds and changes nothing. One host per backend is then
powered off and booted again from its persisted state: its rules and its timer come back.
No controller acts after that; at the deadline each host's own systemd removes the
collection's rules, and every firewall view and boot file equals the one before the window,
byte for byte, with nothing of the schedule left.

Runs on the default lab, or the lab HPSUM_LAB_FILE names (tests/lab/labs/firewall.yml).
"""

from __future__ import annotations

import datetime
import subprocess
import time

import firewall_state as fw
import labutil
import pytest

pytestmark = pytest.mark.lab

TASK = "hpsum.ports.sum_firewall : Linux | Apply this host's SUM rules on its firewall"
# Long enough for the real run, the second run and the restart; short enough to wait for.
EXPIRES = "150s"
SCHEDULE = ("ls -d /var/lib/hpsum_ports /etc/systemd/system/hpsum-ports-expire.* "
            "/etc/systemd/system/timers.target.wants/hpsum-ports-expire.timer 2>/dev/null; true")


@pytest.fixture(scope="module")
def lab() -> labutil.LabInfo:
    return labutil.require_lab()


def schedule(host: str, lab: labutil.LabInfo) -> str:
    """The schedule's files on a host (empty when there are none)."""
    return labutil.host_exec(host, ["sh", "-c", SCHEDULE], lab=lab, check=True).stdout


def when(stamp: str) -> datetime.datetime:
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def test_window_closes_itself_after_a_restart(lab: labutil.LabInfo) -> None:
    hosts = fw.linux_hosts(lab)
    before = {h: fw.state(h, lab) for h in hosts}
    assert all(schedule(h, lab) == "" for h in hosts)
    extra = {"sum_firewall_expires": EXPIRES}
    try:
        check = labutil.run_playbook("playbooks/open.yml", lab.inventory, extra_vars=extra, check=True, diff=True)
        real = labutil.run_playbook("playbooks/open.yml", lab.inventory, extra_vars=extra, diff=True)
        assert check.rc == 0 and real.rc == 0, check.explain() + real.explain()
        deadlines = {}
        for host in hosts:
            predicted, done = check.result(host, TASK), real.result(host, TASK)
            assert "expiry: closes at " in predicted["diff"]["after"] and done["changed"], host
            deadlines[host] = when(done["expires_at"])
            assert "hpsum-ports-expire.timer" in schedule(host, lab), host
        # the same duration again: the deadline found on each host stays, nothing changes
        again = labutil.run_playbook("playbooks/open.yml", lab.inventory, extra_vars=extra, diff=True)
        assert again.rc == 0, again.explain()
        for host in hosts:
            result = again.result(host, TASK)
            assert not result["changed"] and when(result["expires_at"]) == deadlines[host], host
        # one host per backend off and on again, from its persisted state: rules and timer come back
        restarted = list({lab.hosts[h]["backend"]: h for h in reversed(hosts)}.values())
        proc = subprocess.run([labutil.LAB_TOOL, "restart", "--lab", lab.file, *restarted],
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert max(deadlines.values()) > datetime.datetime.now(datetime.timezone.utc), "restart took too long"
        for host in restarted:
            assert fw.differences(before[host], fw.state(host, lab)) != [], "%s lost its rules at boot" % host
            timer = labutil.host_exec(host, ["systemctl", "is-enabled", "hpsum-ports-expire.timer"], lab=lab)
            assert timer.stdout.strip() == "enabled", (host, timer.stdout, timer.stderr)
        # nobody acts from here: wait for the deadline on every host
        end = max(deadlines.values()) + datetime.timedelta(seconds=60)
        pending = list(hosts)
        while pending and datetime.datetime.now(datetime.timezone.utc) < end:
            time.sleep(5)
            pending = [h for h in pending if schedule(h, lab) != ""]
        assert pending == [], "still scheduled after the deadline: %s" % pending
        for host in hosts:
            assert fw.differences(before[host], fw.state(host, lab)) == [], host
            log = labutil.host_exec(host, ["journalctl", "-u", "hpsum-ports-expire.service", "-o", "cat"], lab=lab)
            assert '"changed": true' in log.stdout, (host, log.stdout[-2000:])
    finally:
        labutil.run_playbook("playbooks/close.yml", lab.inventory)
    # close.yml after the deadline finds nothing left to remove
    for host in hosts:
        assert fw.differences(before[host], fw.state(host, lab)) == [], host
