# SPDX-License-Identifier: GPL-3.0-or-later
"""One host's boot and teardown: overlay mount, network namespace and veth, cgroups, the
systemd-nspawn boot, first-boot setup, and everything removed again by name and pid."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from typing import Any, Callable, Dict, Iterable, Optional, Set

from . import files, names
from .overlay import SETUP_STAMP, write_overlay_files
from .spec import Host, Lab
from .system import (
    LabError,
    is_mounted,
    link_exists,
    log,
    netns_exists,
    nsenter_argv,
    pid_alive,
    pid_cmdline,
    run,
    tcp_ready,
)


def nspawn_pid(host: Host) -> Optional[int]:
    """The pid of this host's systemd-nspawn: from the pid file, checked against its command line
    (our own machine name), else by scanning /proc for that exact machine argument."""
    marker = (f"--machine={host.machine}").encode()
    try:
        with open(host.pidfile) as fh:
            pid = int(fh.read().strip())
        if pid_alive(pid) and marker in pid_cmdline(pid):
            return pid
    except (OSError, ValueError):
        pass
    for entry in os.listdir("/proc"):
        if entry.isdigit() and marker in pid_cmdline(int(entry)) and pid_alive(int(entry)):
            args = pid_cmdline(int(entry))
            if args and os.path.basename(args[0]) == b"systemd-nspawn":
                return int(entry)
    return None


def init_pid(nspawn: int) -> Optional[int]:
    """PID 1 of the container: the child of systemd-nspawn that lives in a pid namespace of its
    own (nspawn briefly has other children while it sets the container up)."""
    try:
        with open(f"/proc/{nspawn}/task/{nspawn}/children") as fh:
            kids = [int(p) for p in fh.read().split()]
        mine = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    for kid in kids:
        try:
            if os.readlink(f"/proc/{kid}/ns/pid") != mine and pid_alive(kid):
                return kid
        except OSError:
            continue
    return None


def host_running(host: Host) -> Optional[int]:
    """The host's nspawn pid when it runs with its overlay and namespace, else None."""
    pid = nspawn_pid(host)
    return pid if pid and is_mounted(host.merged) and netns_exists(host.netns) else None


def start_host(lab: Lab, host: Host, base: str, pubkey: str) -> int:
    """Overlay, namespace, veth, cgroups, and the nspawn boot of one host (does not wait)."""
    for sub in ("upper", "work", "root"):
        os.makedirs(os.path.join(host.dir, sub), exist_ok=True)
    if not is_mounted(host.merged):
        lower = "lowerdir={},upperdir={},workdir={}".format(
            base, os.path.join(host.dir, "upper"), os.path.join(host.dir, "work")
        )
        run(["mount", "-t", "overlay", "overlay", "-o", lower, host.merged])
    write_overlay_files(lab, host, pubkey)
    if not netns_exists(host.netns):
        run(["ip", "netns", "add", host.netns])
    if not link_exists("eth0", host.netns):
        if link_exists(host.veth):
            run(["ip", "link", "del", host.veth])
        run(["ip", "link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns", host.netns,
             "address", host.mac])
    # Forget the old neighbour entries for this address (a restarted host, or one made by an
    # older version with another MAC): on the bridge and in the lab's other hosts.
    run(["ip", "neigh", "del", str(host.address), "dev", lab.bridge], check=False)
    for other in lab.hosts:
        if other is not host and netns_exists(other.netns):
            run(["ip", "-n", other.netns, "neigh", "del", str(host.address), "dev", "eth0"], check=False)
    run(["ip", "link", "set", host.veth, "master", lab.bridge, "up"])
    with open(f"/proc/sys/net/ipv6/conf/{host.veth}/disable_ipv6", "w") as fh:
        fh.write("1")
    run(["ip", "netns", "exec", host.netns, "sysctl", "-q", "-w", "net.ipv6.conf.eth0.disable_ipv6=1"])
    addr = f"{host.address}/{lab.subnet.prefixlen}"
    if (f" {addr} ") not in run(["ip", "-n", host.netns, "-4", "-o", "addr", "show", "dev", "eth0"]).stdout:
        run(["ip", "-n", host.netns, "addr", "add", addr, "dev", "eth0"])
    run(["ip", "-n", host.netns, "link", "set", "lo", "up"])
    run(["ip", "-n", host.netns, "link", "set", "eth0", "up"])
    cgroups = names.cgroup_dirs(host.machine)
    for d in cgroups:
        os.makedirs(d, exist_ok=True)
    cg = " && ".join(f'echo $$ > "{d}/cgroup.procs"' for d in cgroups)
    argv = [
        "sh",
        "-c",
        cg + ' && exec "$@"',
        "sh",
        "systemd-nspawn",
        "--quiet",
        "--boot",
        "--register=no",
        "--keep-unit",
        f"--machine={host.machine}",
        f"--directory={host.merged}",
        f"--network-namespace-path=/run/netns/{host.netns}",
        "--capability=CAP_NET_ADMIN",
        "--console=read-only",
        "--link-journal=no",
        "--resolv-conf=off",
        "--timezone=off",
    ]
    with open(host.logfile, "ab") as logf:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    with open(host.pidfile, "w") as fh:
        fh.write(f"{proc.pid}\n")
    return proc.pid


def wait_booted(host: Host, pid: int, timeout: int = 120) -> int:
    """Wait until the container's systemd is up; returns its init pid."""
    deadline = time.monotonic() + timeout
    ipid = None
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            raise LabError(f"host {host.name}: systemd-nspawn exited; see {host.logfile}")
        ipid = init_pid(pid)
        if ipid:
            break
        time.sleep(0.05)
    if not ipid:
        raise LabError(f"host {host.name}: container init did not start")
    left = max(5, int(deadline - time.monotonic()))
    # The container's systemd may not answer until its own pid 1 is ready: retry briefly.
    while True:
        proc = run(nsenter_argv(ipid, ["systemctl", "is-system-running", "--wait"]), check=False, timeout=left)
        state = proc.stdout.strip()
        if state in ("running", "degraded") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if state != "running":
        failed = run(nsenter_argv(ipid, ["systemctl", "--failed", "--no-legend", "--plain"]), check=False).stdout
        log("host {}: system is {}; failed units: {}".format(host.name, state or "?", failed.strip() or "none"))
    return ipid


def setup_host(host: Host, ipid: int) -> bool:
    """First-boot starting state, applied with the distro's tools inside the host, once."""
    stamp = os.path.join(host.merged, SETUP_STAMP)
    if os.path.exists(stamp):
        return False
    proc = run(nsenter_argv(ipid, ["sh", "-c", files.setup_script(host.backend, host.state)]), check=False,
               timeout=120)
    if proc.returncode != 0:
        raise LabError(
            f"host {host.name}: setting up {host.backend}/{host.state} failed: "
            f"{(proc.stderr + proc.stdout).strip()[-1500:]}"
        )
    os.makedirs(os.path.dirname(stamp), exist_ok=True)
    with open(stamp, "w") as fh:
        fh.write(f"{host.backend} {host.state}\n")
    return True


def wait_ports(host: Host, timeout: int = 60) -> None:
    """Wait until SSH and the host's TLS listeners answer from the controller."""
    deadline = time.monotonic() + timeout
    for port in [22, *host.tls_ports]:
        while not tcp_ready(host.address, port):
            if time.monotonic() > deadline:
                raise LabError(f"host {host.name}: {host.address}:{port} does not answer from the controller")
            time.sleep(0.1)


def cgroup_pids(path: str) -> Set[int]:
    """Every pid in a cgroup folder and below."""
    pids: Set[int] = set()
    for root, _dirs, found in os.walk(path):
        if "cgroup.procs" in found:
            try:
                with open(os.path.join(root, "cgroup.procs")) as fh:
                    pids.update(int(p) for p in fh.read().split())
            except (OSError, ValueError):
                pass
    return pids


def rmdir_tree(path: str) -> bool:
    """Remove a cgroup folder, deepest first (cgroupfs folders are removed with rmdir)."""
    if not os.path.isdir(path):
        return True
    for root, dirs, _found in os.walk(path, topdown=False):
        for d in dirs:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(root, d))
    try:
        os.rmdir(path)
        return True
    except OSError:
        return False


def stop_host(host: Host, quiet: bool = False, timeout: int = 20) -> None:
    """Power the host off and remove its processes, mount, cgroups, namespace and veth."""
    pid = nspawn_pid(host)
    if pid:
        os.kill(pid, signal.SIGTERM)  # nspawn asks the container to power off
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(pid):
            log(f"{host.name}: nspawn {pid} did not stop, killing it")
            os.kill(pid, signal.SIGKILL)
    cgroups = names.cgroup_dirs(host.machine)
    # Whatever is left in our own cgroups (ours by name) is killed by pid.
    for _ in range(50):
        left: Set[int] = set()
        for d in cgroups:
            left |= cgroup_pids(d)
        left = {p for p in left if pid_alive(p)}
        if not left:
            break
        for p in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        time.sleep(0.1)
    if is_mounted(host.merged) and run(["umount", host.merged], check=False).returncode != 0:
        run(["umount", "-l", host.merged], check=False)
    for d in cgroups:
        for _ in range(20):
            if rmdir_tree(d):
                break
            time.sleep(0.1)
        else:
            log(f"{host.name}: could not remove cgroup {d}")
    if netns_exists(host.netns):
        run(["ip", "netns", "del", host.netns], check=False)
    if link_exists(host.veth):
        run(["ip", "link", "del", host.veth], check=False)
    for leftover in names.nspawn_leftovers(host.machine, host.dir):
        if os.path.isdir(leftover) and not os.path.islink(leftover):
            shutil.rmtree(leftover, ignore_errors=True)
        elif os.path.lexists(leftover):
            os.unlink(leftover)
    if not quiet:
        log(f"{host.name}: down")


def parallel(items: Iterable[Host], fn: Callable[[Host], Any]) -> Dict[str, Any]:
    """FN on every host at once; raises one LabError naming every host that failed."""
    errors = []
    results: Dict[str, Any] = {}

    def work(item: Host) -> None:
        try:
            results[item.name] = fn(item)
        except Exception as exc:
            errors.append(f"{item.name}: {exc}")

    threads = [threading.Thread(target=work, args=(i,)) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise LabError("\n".join(sorted(errors)))
    return results
