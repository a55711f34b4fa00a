# SPDX-License-Identifier: GPL-3.0-or-later
"""The names of everything a lab makes, derived from the lab name and the host name.

  network namespace and nspawn machine  hpsl-<lab>-<host>
  cgroup folders                        /sys/fs/cgroup/{systemd,unified}/hpsl-<lab>-<host>
  host-side veth                        hv<8 hex of sha1(lab/host)>
  bridge                                the lab file's `bridge` (hpsl-...), alias hpsum-lab:<lab>
  state (keys, inventory, overlays)     /var/lib/hpsum-lab/<lab>/
  lock                                  /run/lock/hpsum-lab-<lab>.lock
`down` removes exactly those names, nothing else.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import List

STATE_ROOT = "/var/lib/hpsum-lab"
LOCK_DIR = "/run/lock"
CGROUP_ROOTS = ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified")
NSPAWN_RUN = "/run/systemd/nspawn"
BRIDGE_ALIAS = "hpsum-lab:"  # the bridge's alias names the lab that made it
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
BRIDGE_RE = re.compile(r"^hpsl-[a-z0-9-]{1,10}$")


def state_dir(lab: str) -> str:
    """The lab's state folder: key, inventory, lab.json, overlays, pid files, console logs."""
    return os.path.join(STATE_ROOT, lab)


def lock_file(lab: str) -> str:
    """The lock that serialises up, down and restart of one lab."""
    return os.path.join(LOCK_DIR, f"hpsum-lab-{lab}.lock")


def machine(lab: str, host: str) -> str:
    """The nspawn machine name, which is also the network namespace's name."""
    return f"hpsl-{lab}-{host}"


def _digest(lab: str, host: str) -> str:
    return hashlib.sha1(f"{lab}/{host}".encode()).hexdigest()


def veth(lab: str, host: str) -> str:
    """The host-side veth (the container side is eth0)."""
    return "hv" + _digest(lab, host)[:8]


def mac(lab: str, host: str) -> str:
    """A fixed, locally administered MAC: a restarted host keeps its neighbour entries valid."""
    digest = _digest(lab, host)
    return "02:" + ":".join(digest[i : i + 2] for i in range(8, 18, 2))


def cgroup_dirs(machine_name: str) -> List[str]:
    """The cgroup folders a host's processes live in."""
    return [os.path.join(root, machine_name) for root in CGROUP_ROOTS]


def nspawn_leftovers(machine_name: str, host_dir: str) -> List[str]:
    """What systemd-nspawn may leave behind for a machine (removed by down)."""
    return [
        os.path.join(NSPAWN_RUN, "propagate", machine_name),
        os.path.join(NSPAWN_RUN, "propagate", f".#{machine_name}.lck"),
        os.path.join(NSPAWN_RUN, "unix-export", machine_name),
        os.path.join(host_dir, ".#root.lck"),
        os.path.join(NSPAWN_RUN, "locks", machine_name),
    ]
