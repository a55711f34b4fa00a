# SPDX-License-Identifier: GPL-3.0-or-later
"""The `tests/lab/lab` commands: up, down, status, inventory, exec, restart, base."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from typing import List, Optional

from .base import ensure_base
from .host import host_running, init_pid, parallel, setup_host, start_host, stop_host, wait_booted, wait_ports
from .inventory import write_inventory
from .network import ensure_bridge, remove_bridge
from .overlay import write_overlay_files
from .spec import DEFAULT_LAB, Lab
from .system import FileLock, LabError, is_mounted, link_exists, log, nsenter_argv, run, tcp_ready


def ensure_key(lab: Lab) -> str:
    """The lab's own SSH key pair (made at the first up); returns the public key."""
    if not os.path.exists(lab.key):
        os.makedirs(lab.state_dir, exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hpsum-lab-" + lab.name, "-f", lab.key])
    with open(lab.key + ".pub") as fh:
        return fh.read()


def cmd_up(lab: Lab, args: argparse.Namespace) -> int:
    """Build the base if needed and boot every host that is not running (idempotent)."""
    start = time.monotonic()
    base, built = ensure_base()
    with FileLock(lab.lock):
        os.makedirs(lab.state_dir, exist_ok=True)
        pubkey = ensure_key(lab)
        write_inventory(lab)  # record the hosts first, so a down after a failed up finds them
        ensure_bridge(lab)
        started = {}
        for host in lab.hosts:
            pid = host_running(host)
            if pid:
                changed = write_overlay_files(lab, host, pubkey)
                if changed:
                    log("{}: updated {}".format(host.name, ", ".join(changed)))
                continue
            stop_host(host, quiet=True)  # leftovers of a failed or killed run
            # A host that is not running boots fresh, in its starting state: whatever a dead run
            # left in its overlay is dropped (only `restart` boots a host from what it persisted).
            if os.path.isdir(host.dir) and not is_mounted(host.merged):
                shutil.rmtree(host.dir)
            started[host.name] = start_host(lab, host, base, pubkey)
        new = [h for h in lab.hosts if h.name in started]
        if new:
            log(f"booting {len(new)} host(s): {' '.join(h.name for h in new)}")
            parallel(new, lambda h: setup_host(h, wait_booted(h, started[h.name])))
        parallel(lab.hosts, wait_ports)
        write_inventory(lab)
    took = f" (base built in {built:.1f} s)" if built else ""
    log(f"lab {lab.name} up: {len(lab.hosts)} host(s), {len(new)} booted, in {time.monotonic() - start:.1f} s{took}")
    print(lab.inventory)
    return 0


def cmd_down(lab: Lab, args: argparse.Namespace) -> int:
    """Remove every host, namespace, mount, cgroup and file of the lab, and its bridge."""
    start = time.monotonic()
    with FileLock(lab.lock):
        hosts = lab.recorded_hosts()
        parallel(hosts, stop_host)
        remove_bridge(lab)
        if os.path.isdir(lab.state_dir):
            still = [h.name for h in hosts if is_mounted(h.merged)]
            if still:
                raise LabError("still mounted, state kept: {}".format(", ".join(still)))
            shutil.rmtree(lab.state_dir)
    log(f"lab {lab.name} down in {time.monotonic() - start:.1f} s")
    return 0


STATUS_HEADER = ("host", "address", "role", "backend", "state", "status", "ssh", "nspawn")


def cmd_status(lab: Lab, args: argparse.Namespace) -> int:
    """Print the lab's hosts; exit 3 unless every host runs and answers SSH."""
    rows = []
    up = 0
    for h in lab.hosts:
        pid = host_running(h)
        ssh = tcp_ready(h.address, 22, timeout=0.5) if pid else False
        up += bool(pid and ssh)
        rows.append((h.name, str(h.address), h.role, h.backend, h.state, "running" if pid else "down",
                     "ok" if ssh else "-", str(pid or "-")))
    bridge = "up" if link_exists(lab.bridge) else "absent"
    print(f"lab {lab.name}  subnet {lab.subnet}  bridge {lab.bridge} ({bridge})  state {lab.state_dir}")
    widths = [max(len(r[i]) for r in [*rows, STATUS_HEADER]) for i in range(len(STATUS_HEADER))]
    for r in [STATUS_HEADER, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if up == len(lab.hosts):
        print(f"all {up} host(s) up; inventory: {lab.inventory}")
        return 0
    print(f"{up} of {len(lab.hosts)} host(s) up")
    return 3


def cmd_inventory(lab: Lab, args: argparse.Namespace) -> int:
    """Print the inventory's path; exit 3 when the lab is not up."""
    if not os.path.exists(lab.inventory) or not all(host_running(h) for h in lab.hosts):
        log(f"lab {lab.name} is not up: run tests/lab/lab up --lab {lab.path}")
        return 3
    print(lab.inventory)
    return 0


def cmd_exec(lab: Lab, args: argparse.Namespace) -> int:
    """Run a command (default: a shell) inside a host's namespaces, no SSH needed."""
    hosts = {h.name: h for h in lab.hosts}
    if args.host not in hosts:
        raise LabError(f"no host {args.host!r} in lab {lab.name}")
    pid = host_running(hosts[args.host])
    ipid = init_pid(pid) if pid else None
    if not ipid:
        raise LabError(f"host {args.host} is not running")
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    os.execvp("nsenter", nsenter_argv(ipid, argv or ["bash", "-l"]))
    return 1


def cmd_restart(lab: Lab, args: argparse.Namespace) -> int:
    """Power a host off and boot it again from its overlay: its persisted configuration (and
    nothing live) is what comes back, so "persistent and live agree" can be proven."""
    hosts = {h.name: h for h in lab.hosts}
    unknown = [h for h in args.hosts if h not in hosts]
    if unknown:
        raise LabError(f"no host {', '.join(unknown)} in lab {lab.name}")
    start = time.monotonic()
    base, _ = ensure_base()
    with FileLock(lab.lock):
        if not os.path.exists(lab.record):
            raise LabError(f"lab {lab.name} is not up")
        pubkey = ensure_key(lab)
        ensure_bridge(lab)
        chosen = [hosts[h] for h in args.hosts]
        parallel(chosen, lambda h: stop_host(h, quiet=True))
        started = {h.name: start_host(lab, h, base, pubkey) for h in chosen}
        parallel(chosen, lambda h: setup_host(h, wait_booted(h, started[h.name])))
        parallel(chosen, wait_ports)
    log(f"restarted {', '.join(args.hosts)} in {time.monotonic() - start:.1f} s")
    return 0


def running_lab(lab: Lab, command: str) -> Lab:
    """LAB, or the lab its slice runs as when it was brought up before its file's `name` changed
    (as lab.json recorded it): down, status, inventory and exec work on that one."""
    former = lab.former_record()
    if former is None:
        return lab
    if command in ("up", "restart"):
        raise LabError(
            f"lab {lab.name}: its slice {lab.subnet} (bridge {lab.bridge}) is up as lab {former['name']}, "
            f"made from this file under a former name: take it down first (tests/lab/lab down --lab {lab.path})"
        )
    log(f"lab {lab.name}: slice {lab.subnet} (bridge {lab.bridge}) is up as lab {former['name']}: using that")
    return Lab.from_record(former)


COMMANDS = {
    "up": (cmd_up, "build the base if needed, boot every host (idempotent)"),
    "down": (cmd_down, "remove every host, namespace, mount, cgroup and file of the lab"),
    "status": (cmd_status, "show the lab's hosts"),
    "inventory": (cmd_inventory, "print the path of the lab's Ansible inventory"),
    "exec": (cmd_exec, "run a command inside a lab host: exec HOST -- ARGV"),
    "restart": (cmd_restart, "power hosts off and boot them again from their persisted state: restart HOST..."),
}


def main(argv: Optional[List[str]] = None) -> int:
    """Parse the command line and run one command (as root)."""
    parser = argparse.ArgumentParser(prog="tests/lab/lab", description="hpsum.ports test lab")
    sub = parser.add_subparsers(dest="command", required=True)
    helps = {name: hlp for name, (_fn, hlp) in COMMANDS.items()}
    helps["base"] = "build (or find) the shared base root filesystem and print its path"
    for name, hlp in helps.items():
        p = sub.add_parser(name, help=hlp)
        p.add_argument("--lab", default=DEFAULT_LAB, help="lab file (default: tests/lab/labs/default.yml)")
        if name == "exec":
            p.add_argument("host")
            p.add_argument("argv", nargs=argparse.REMAINDER)
        if name == "restart":
            p.add_argument("hosts", nargs="+", metavar="HOST")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        log("tests/lab/lab must run as root")
        return 2
    try:
        if args.command == "base":
            path, built = ensure_base()
            print(path)
            log("base {} ({})".format(path, f"built in {built:.1f} s" if built else "cached"))
            return 0
        return COMMANDS[args.command][0](running_lab(Lab(args.lab), args.command), args)
    except LabError as exc:
        log(f"lab: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
