# SPDX-License-Identifier: GPL-3.0-or-later
"""What each host gets in its own overlay on top of the base: identity, key, listener units,
service masks, its backend's starting ruleset, an installed SUM's ini files."""

from __future__ import annotations

import hashlib
import os
from typing import List, Union

from . import files
from .spec import Host, Lab
from .system import symlink_force, write_if_changed

SETUP_STAMP = "var/lib/hpsl/setup-done"  # inside the host: its first-boot setup ran


def write_overlay_files(lab: Lab, host: Host, pubkey: str) -> List[str]:
    """Write the host's files (only those that differ: a second up leaves them alone).
    Returns the paths written."""
    r = host.merged
    changed: List[str] = []

    def put(rel: str, content: Union[str, bytes], mode: int = 0o644) -> None:
        if write_if_changed(os.path.join(r, rel.lstrip("/")), content, mode):
            changed.append(rel)

    put("/etc/hostname", host.name + "\n")
    hosts = [
        "127.0.0.1\tlocalhost",
        f"127.0.1.1\t{host.name}",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        f"{lab.bridge_address}\tcontroller",
    ]
    hosts += [f"{h.address}\t{h.name}" for h in lab.hosts]
    put("/etc/hosts", "\n".join(hosts) + "\n")
    put("/etc/machine-id", hashlib.md5(host.machine.encode()).hexdigest() + "\n", 0o444)
    put("/root/.ssh/authorized_keys", pubkey, 0o600)
    os.chmod(os.path.join(r, "root/.ssh"), 0o700)
    if host.backend != "firewalld":
        symlink_force("/dev/null", os.path.join(r, "etc/systemd/system/firewalld.service"))
    if host.backend != "ufw":
        # ufw.service is "active" even with ufw disabled: mask it where ufw is not the backend
        # (iptables hosts also purge ufw at first boot: it Breaks: iptables-persistent)
        symlink_force("/dev/null", os.path.join(r, "etc/systemd/system/ufw.service"))
    if host.tls_ports:
        put("/usr/local/sbin/hpsl-tls-listener", files.read("host/hpsl-tls-listener"), 0o755)
        put("/etc/systemd/system/hpsl-tls@.service", files.read("host/hpsl-tls@.service"))
        for port in host.tls_ports:
            symlink_force(
                "/etc/systemd/system/hpsl-tls@.service",
                os.path.join(r, f"etc/systemd/system/multi-user.target.wants/hpsl-tls@{port}.service"),
            )
    if host.backend == "nftables" and not os.path.exists(os.path.join(r, SETUP_STAMP)):
        put("/etc/nftables.conf", files.nftables_conf(host.state, str(lab.bridge_address)), 0o755)
    if host.backend == "iptables":
        rules = files.iptables_rules(host.state)
        put("/etc/hpsl/rules.v4", rules)
        put("/etc/hpsl/rules.v6", rules)
    if host.role == "sum_server":
        # An installed SUM's settings file (no SUM runs here): written once, then it is the
        # collection's to edit (sum_config), so a second up must not put it back.
        for path, name in files.SUM_INI.items():
            if not os.path.exists(os.path.join(r, path.lstrip("/"))):
                put(path, files.read(os.path.join("sum", name)))
    if host.state == "esxi":
        os.makedirs(os.path.join(r, "etc/vmware/firewall"), exist_ok=True)
        for source, target, mode in files.ESXI_FILES:
            put(target, files.read_esxi(source), mode)
        # ESXi's own boot (tests/lab/esxi/esxi-boot): runs once per boot, after nftables.
        symlink_force("/etc/systemd/system/hpsl-esxi-boot.service",
                      os.path.join(r, "etc/systemd/system/multi-user.target.wants/hpsl-esxi-boot.service"))
        # ESXi's stock local.sh and root's crontab: written once, then they are the host's (the collection
        # edits local.sh, the boot re-creates the crontab), so a second up must not put them back.
        for source, target, mode in files.ESXI_ONCE:
            if not os.path.exists(os.path.join(r, target.lstrip("/"))):
                put(target, files.read_esxi(source), mode)
    return changed
