# SPDX-License-Identifier: GPL-3.0-or-later
"""The files the lab puts on hosts and into the base, kept as real files in tests/lab/files/:

  base/customize.sh            mmdebstrap customize hook of the shared base (part of its cache key)
  host/                        listener script and unit, each backend's starting ruleset
  setup/                       first-boot scripts, run inside a host with the distro's tools
  sum/                         an installed SUM's ini files (SUM 7.x hpsum.ini, SUM 8 sum.ini)
"""

from __future__ import annotations

import os
from typing import Dict, List, Tuple

from .spec import HERE

FILES = os.path.join(HERE, "files")
ESXI = os.path.join(HERE, "esxi")
# The ESXi-like host's stand-ins (tests/lab/esxi/): (source, path on the host, mode).
ESXI_FILES: List[Tuple[str, str, int]] = [
    ("esxcli", "/usr/local/bin/esxcli", 0o755),
    ("busybox", "/usr/lib/vmware/busybox/bin/busybox", 0o755),
    ("esxi-boot", "/usr/lib/hpsl-esxi/esxi-boot", 0o755),
    ("hpsl-esxi-boot.service", "/etc/systemd/system/hpsl-esxi-boot.service", 0o644),
    ("crontab-root", "/usr/lib/hpsl-esxi/crontab-root", 0o644),
]
# Written once (then the host's own): ESXi's stock local.sh (mode 1755: ESXi's backup mark) and root's crontab.
ESXI_ONCE: List[Tuple[str, str, int]] = [
    ("local.sh", "/etc/rc.local.d/local.sh", 0o1755),
    ("crontab-root", "/var/spool/cron/crontabs/root", 0o600),
]

# First-boot scripts of each (backend, state), run in this order inside the host.
SETUP: Dict[Tuple[str, str], List[str]] = {
    ("firewalld", "open"): ["firewalld-open.sh"],
    ("firewalld", "locked"): ["firewalld-locked.sh"],
    ("ufw", "open"): ["ufw-open.sh"],
    ("ufw", "locked"): ["ufw-locked.sh"],
    ("nftables", "open"): ["nftables-enable.sh"],
    ("nftables", "locked"): ["nftables-enable.sh"],
    ("nftables", "esxi"): ["nftables-enable.sh"],
    ("iptables", "open"): ["iptables-install.sh", "iptables-persist.sh"],
    ("iptables", "locked"): ["iptables-install.sh", "iptables-persist.sh"],
    ("none", "none"): [],
}
# Where an installed SUM keeps its settings (the sum_config role's default Linux paths).
SUM_INI = {"/opt/hp/hpsum/hpsum.ini": "hpsum.ini", "/opt/sum/sum.ini": "sum.ini"}


def read(rel: str) -> str:
    """The text of tests/lab/files/REL."""
    with open(os.path.join(FILES, rel), encoding="utf-8") as fh:
        return fh.read()


def read_esxi(name: str) -> bytes:
    """The bytes of tests/lab/esxi/NAME."""
    with open(os.path.join(ESXI, name), "rb") as fh:
        return fh.read()


def setup_script(backend: str, state: str) -> str:
    """The shell script that makes a host's starting state at its first boot."""
    return "set -e\n" + "".join(read(os.path.join("setup", name)) for name in SETUP[(backend, state)])


def nftables_conf(state: str, controller: str) -> str:
    """/etc/nftables.conf of an nftables host in STATE (locked: CONTROLLER's foreign rule)."""
    return read(f"host/nftables-{state}.conf").replace("@CONTROLLER@", str(controller))


def iptables_rules(state: str) -> str:
    """iptables-restore rules of an iptables host in STATE (the same for IPv4 and IPv6)."""
    return read("host/iptables-locked.rules" if state == "locked" else "host/iptables-open.rules")
