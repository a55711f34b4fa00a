# SPDX-License-Identifier: GPL-3.0-or-later
"""The test lab itself: hosts answer, firewalls block the way their backend does, the outsider
reaches nothing it should not, and down leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import labutil
import pytest
from labutil import OPEN, TIMEOUT, UNREACHABLE, connect, host_exec, listening, read_file, run_module, tls_banner

pytestmark = pytest.mark.lab

PROBE_PORT = 8765  # a port nothing in the lab opens: the tests put a listener there


@pytest.fixture(scope="module")
def lab() -> labutil.LabInfo:
    """The default lab itself (these tests prove its hosts and starting states), whatever HPSUM_LAB_FILE says."""
    return labutil.require_lab(labutil.DEFAULT_LAB_FILE)

DEFAULT_HOSTS = {
    "sum1",
    "node-fwd",
    "node-ufw",
    "node-nft",
    "node-ipt",
    "lock-nft",
    "lock-ipt",
    "lock-ufw",
    "lock-fwd",
    "node-mh",
    "esxi1",
    "ilo1",
    "oa1",
    "vc1",
    "proxy1",
    "outsider",
}


def test_every_host_answers_ping(lab):
    res = run_module("ping", lab.inventory)
    assert res.rc == 0, res.explain()
    assert set(res.stats) == DEFAULT_HOSTS
    for host, stats in res.stats.items():
        assert (stats.ok, stats.failed, stats.unreachable) == (1, 0, 0), host
        assert res.result(host)["ping"] == "pong"


def test_inventory_contract(lab):
    res = run_module("ansible.builtin.debug", lab.inventory, args="var=hostvars[inventory_hostname]")
    assert res.rc == 0, res.explain()
    hv = {h: res.result(h)["hostvars[inventory_hostname]"] for h in DEFAULT_HOSTS}
    groups = hv["sum1"]["groups"]
    assert groups["sum_servers"] == ["sum1"]
    assert sorted(groups["linux_nodes"]) == ["node-fwd", "node-ipt", "node-mh", "node-nft", "node-ufw"]
    assert sorted(groups["locked_nodes"]) == ["lock-fwd", "lock-ipt", "lock-nft", "lock-ufw"]
    assert groups["esxi_nodes"] == ["esxi1"]
    assert sorted(groups["management"]) == ["ilo1", "oa1", "vc1"]
    assert groups["outsiders"] == ["outsider"]
    assert groups["validate_proxies"] == ["proxy1"]
    assert hv["sum1"]["sum_server_os"] == "linux" and "sum_node_type" not in hv["sum1"]
    assert {h: hv[h].get("sum_node_type") for h in ("esxi1", "ilo1", "oa1", "vc1", "outsider", "lock-ufw")} == {
        "esxi1": "vmware",
        "ilo1": "ilo",
        "oa1": "oa",
        "vc1": "vc",
        "outsider": None,
        "lock-ufw": "linux",
    }
    for h in DEFAULT_HOSTS:
        assert hv[h]["ansible_host"] == lab.address(h)
        assert hv[h]["ansible_user"] == "root"
        assert hv[h]["ansible_python_interpreter"] == "/usr/bin/python3"
        assert hv[h]["sum_plan_version"] == "7.2.1"
        assert hv[h]["lab_backend"] == lab.hosts[h]["backend"]
        assert hv[h]["lab_state"] == lab.hosts[h]["state"]


# (host, how a connection from the controller to a listening, not-allowed port ends)
BLOCKED = [
    ("lock-nft", TIMEOUT),  # input policy drop
    ("lock-ipt", TIMEOUT),  # INPUT policy DROP
    ("lock-ufw", TIMEOUT),  # default deny incoming (ufw drops)
    ("lock-fwd", TIMEOUT),  # zone target DROP
    ("node-fwd", UNREACHABLE),  # firewalld's default target rejects: "No route to host"
    ("node-ufw", TIMEOUT),  # ufw's out-of-the-box deny incoming
    ("node-nft", OPEN),  # Debian's default nftables ruleset accepts everything
    ("node-ipt", OPEN),  # ACCEPT policies
    ("outsider", OPEN),  # no firewall
]


@pytest.mark.parametrize(("host", "expected"), BLOCKED)
def test_listening_port_fails_the_backends_way(lab, host, expected):
    addr = lab.address(host)
    assert connect(addr, PROBE_PORT) != OPEN or expected == OPEN  # nothing listens yet: never open
    with listening(host, PROBE_PORT, lab=lab):
        # the listener is really there: from inside the host (loopback is always allowed) it is open
        assert connect("127.0.0.1", PROBE_PORT, source=host, lab=lab) == OPEN
        assert connect(addr, PROBE_PORT) == expected
    assert connect(addr, 22, timeout=5) == OPEN  # SSH still works


@pytest.mark.parametrize("host", ["lock-ipt", "lock-ufw", "esxi1"])
def test_outbound_is_blocked_where_the_state_says(lab, host):
    # lock-ipt: OUTPUT policy DROP; lock-ufw: deny outgoing; esxi1: only tcp 80, 443, 5989 out
    assert connect(lab.address("sum1"), 22, source=host, lab=lab) == TIMEOUT
    assert connect(lab.address("outsider"), 22, source="sum1", lab=lab) == OPEN  # the path itself works


def test_esxi_outbound_defaults_and_listeners(lab):
    assert connect(lab.address("ilo1"), 443, source="esxi1", lab=lab) == OPEN
    for port in (443, 5989):
        assert f"hpsum lab TLS listener on port {port}" in tls_banner(lab.address("esxi1"), port)
    assert host_exec("esxi1", ["test", "-d", "/etc/vmware/firewall"], lab=lab).returncode == 0
    ruleset = host_exec("esxi1", ["nft", "list", "table", "inet", "esxi"], lab=lab, check=True).stdout
    assert "policy drop" in ruleset and "80, 443, 5989" in ruleset
    src = os.path.join(labutil.REPO, "tests", "lab", "esxi", "esxcli")
    if os.path.exists(src):
        # up installs the stand-in and keeps it current (it boots nothing when the lab is up)
        assert labutil.lab_command("up", lab.file).returncode == 0
        with open(src, encoding="utf-8") as fh:
            assert read_file("esxi1", "/usr/local/bin/esxcli", lab=lab) == fh.read()


@pytest.mark.parametrize("host", ["ilo1", "oa1", "vc1"])
def test_management_processors_listen_and_have_no_firewall(lab, host):
    assert "hpsum lab TLS listener on port 443" in tls_banner(lab.address(host), 443)
    assert connect(lab.address(host), 22) == OPEN
    assert host_exec(host, ["nft", "list", "ruleset"], lab=lab, check=True).stdout.strip() == ""
    for unit in ("firewalld", "ufw", "nftables", "netfilter-persistent"):
        assert host_exec(host, ["systemctl", "is-active", unit], lab=lab).stdout.strip() != "active", unit


def test_each_host_has_exactly_one_backend_active(lab):
    units = ("firewalld", "ufw", "nftables", "netfilter-persistent")
    for host, spec in lab.hosts.items():
        states = host_exec(host, ["systemctl", "is-active", *units], lab=lab).stdout.split()
        assert len(states) == len(units), host
        active = {unit for unit, state in zip(units, states) if state == "active"}
        want = {
            "firewalld": {"firewalld"},
            "ufw": {"ufw"},
            "nftables": {"nftables"},
            "iptables": {"netfilter-persistent"},
            "none": set(),
        }[spec["backend"]]
        assert active == want, host


def test_locked_states_are_persisted_the_distros_way(lab):
    nft = read_file("lock-nft", "/etc/nftables.conf", lab=lab)
    assert "policy drop;" in nft and 'comment "foreign"' in nft
    for rules in ("/etc/iptables/rules.v4", "/etc/iptables/rules.v6"):
        text = read_file("lock-ipt", rules, lab=lab)
        assert ":INPUT DROP" in text and ":OUTPUT DROP" in text and "--dport 22 -j ACCEPT" in text
    ufw_conf = read_file("lock-ufw", "/etc/ufw/ufw.conf", lab=lab)
    assert "ENABLED=yes" in ufw_conf
    ufw_default = read_file("lock-ufw", "/etc/default/ufw", lab=lab)
    assert 'DEFAULT_INPUT_POLICY="DROP"' in ufw_default and 'DEFAULT_OUTPUT_POLICY="DROP"' in ufw_default
    zone = read_file("lock-fwd", "/etc/firewalld/zones/public.xml", lab=lab)
    assert 'target="DROP"' in zone and '<service name="ssh"/>' in zone


def test_foreign_rule_admits_only_the_controller(lab):
    addr = lab.address("lock-nft")
    with listening("lock-nft", 9999, lab=lab):
        assert connect(addr, 9999) == OPEN  # from 198.18.0.1: the foreign rule
        assert connect(addr, 9999, source="outsider", lab=lab) == TIMEOUT


def test_outsider_reaches_nothing_it_should_not(lab):
    with listening("lock-fwd", PROBE_PORT, lab=lab), listening("node-fwd", PROBE_PORT, lab=lab), listening(
        "node-ufw", PROBE_PORT, lab=lab
    ):
        assert connect(lab.address("lock-fwd"), PROBE_PORT, source="outsider", lab=lab) == TIMEOUT
        assert connect(lab.address("node-fwd"), PROBE_PORT, source="outsider", lab=lab) == UNREACHABLE
        assert connect(lab.address("node-ufw"), PROBE_PORT, source="outsider", lab=lab) == TIMEOUT
    # the lab is an island: the outsider has only its connected lab route, the bridge forwards nothing
    routes = host_exec("outsider", ["ip", "-4", "route", "show"], lab=lab, check=True).stdout.split("\n")
    assert [r.split()[0] for r in routes if r.strip()] == ["198.18.0.0/26"]
    with open("/proc/sys/net/ipv4/conf/hpsl-default/forwarding") as fh:
        assert fh.read().strip() == "0"


def test_second_up_changes_nothing(lab):
    before = {h: host_exec(h, ["cat", "/proc/1/stat"], lab=lab).stdout.split()[21] for h in ("sum1", "outsider")}
    inv_before = os.stat(lab.inventory).st_mtime_ns
    proc = labutil.lab_command("up", lab.file)
    assert proc.returncode == 0, proc.stderr
    assert "0 booted" in proc.stderr
    assert proc.stdout.strip() == lab.inventory
    assert os.stat(lab.inventory).st_mtime_ns == inv_before
    after = {h: host_exec(h, ["cat", "/proc/1/stat"], lab=lab).stdout.split()[21] for h in ("sum1", "outsider")}
    assert after == before  # same boot of each container's pid 1


# --------------------------------------------------------------------------- lifecycle (own lab)

LIFECYCLE = os.path.join(labutil.REPO, "tests", "lab", "labs", "lifecycle.yml")
LC_HOSTS = ("lc-lock", "lc-mp")


def _leftovers():
    names = [f"hpsl-lifecycle-{h}" for h in LC_HOSTS]
    found = []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout.split()
    found += ["netns " + n for n in names if n in netns]
    with open("/proc/self/mountinfo") as fh:
        found += ["mount " + line.split()[4] for line in fh if "/var/lib/hpsum-lab/lifecycle/" in line]
    for root in ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"):
        found += ["cgroup " + os.path.join(root, n) for n in names if os.path.exists(os.path.join(root, n))]
    for n in names:
        for d in ("/run/systemd/nspawn/propagate", "/run/systemd/nspawn/unix-export"):
            if os.path.lexists(os.path.join(d, n)):
                found.append("nspawn " + os.path.join(d, n))
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    found += ["link hpsl-lcyc"] if " hpsl-lcyc:" in links else []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        found += [f"process {pid}" for n in names if (f"--machine={n}").encode() in cmd]
    if os.path.exists("/var/lib/hpsum-lab/lifecycle"):
        found.append("state /var/lib/hpsum-lab/lifecycle")
    return found


@pytest.fixture()
def lifecycle_lab():
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    if labutil.lab_info(labutil.DEFAULT_LAB_FILE) is None and not os.path.isdir("/var/cache/hpsum-lab"):
        pytest.skip("no lab base built on this machine: run tests/lab/lab up first")
    labutil.lab_command("down", LIFECYCLE)
    yield LIFECYCLE
    labutil.lab_command("down", LIFECYCLE)


def test_down_leaves_nothing_behind(lifecycle_lab, tmp_path):
    up = labutil.lab_command("up", lifecycle_lab)
    assert up.returncode == 0, up.stderr
    info = labutil.lab_info(lifecycle_lab)
    assert info is not None and set(info.hosts) == set(LC_HOSTS)
    assert connect(info.address("lc-mp"), 443) == OPEN
    assert _leftovers(), "the lab should be visible before down"

    # another lab naming the same bridge is refused, and its down leaves our bridge alone
    squatter = tmp_path / "squatter.yml"
    squatter.write_text(
        "name: squatter\nsubnet: 198.18.0.192/29\nbridge: hpsl-lcyc\nhosts:\n"
        "  - name: sq-a\n    address: 198.18.0.194\n    role: outsider\n"
    )
    refused = labutil.lab_command("up", str(squatter))
    assert refused.returncode == 1 and "bridge hpsl-lcyc belongs to lab lifecycle" in refused.stderr
    assert labutil.lab_command("down", str(squatter)).returncode == 0
    assert labutil.lab_command("status", lifecycle_lab).returncode == 0

    # a host killed hard (a crashed or interrupted run) is rebooted fresh by the next up ...
    host_exec("lc-mp", ["touch", "/etc/left-by-a-dead-run"], lab=info, check=True)
    with open("/var/lib/hpsum-lab/lifecycle/hosts/lc-mp/nspawn.pid") as fh:
        os.kill(int(fh.read()), signal.SIGKILL)
    time.sleep(0.5)
    assert labutil.lab_command("status", lifecycle_lab).returncode == 3
    again = labutil.lab_command("up", lifecycle_lab)
    assert again.returncode == 0 and "1 booted" in again.stderr, again.stderr
    assert labutil.lab_command("status", lifecycle_lab).returncode == 0
    assert host_exec("lc-mp", ["test", "-e", "/etc/left-by-a-dead-run"], lab=info).returncode == 1

    # ... and down removes everything, also after another hard kill (nothing shut down cleanly)
    with open("/var/lib/hpsum-lab/lifecycle/hosts/lc-lock/nspawn.pid") as fh:
        os.kill(int(fh.read()), signal.SIGKILL)
    down = labutil.lab_command("down", lifecycle_lab)
    assert down.returncode == 0, down.stderr
    assert _leftovers() == []
    # down is idempotent
    assert labutil.lab_command("down", lifecycle_lab).returncode == 0
    assert labutil.lab_command("status", lifecycle_lab).returncode == 3


def test_restart_brings_back_the_persisted_state_only(lifecycle_lab):
    assert labutil.lab_command("up", lifecycle_lab).returncode == 0
    lab = labutil.lab_info(lifecycle_lab)
    host_exec(
        "lc-lock",
        ["nft", "add", "rule", "inet", "filter", "input", "tcp", "dport", "7777", "accept"],
        lab=lab,
        check=True,
    )
    assert "dport 7777" in host_exec("lc-lock", ["nft", "list", "ruleset"], lab=lab, check=True).stdout
    assert connect(lab.address("lc-lock"), 22, source="lc-mp", lab=lab) == OPEN  # lc-mp learns lc-lock's MAC
    proc = subprocess.run(
        [labutil.LAB_TOOL, "restart", "--lab", lifecycle_lab, "lc-lock"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    ruleset = host_exec("lc-lock", ["nft", "list", "ruleset"], lab=lab, check=True).stdout
    assert "dport 7777" not in ruleset  # live-only change gone
    assert "policy drop;" in ruleset and 'comment "foreign"' in ruleset  # /etc/nftables.conf loaded at boot
    assert connect(lab.address("lc-lock"), 22) == OPEN
    assert connect(lab.address("lc-lock"), 22, source="lc-mp", lab=lab) == OPEN  # neighbours still valid
