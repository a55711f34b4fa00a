# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's bridge: made once per lab, owned by name (its alias), an island (no forwarding)."""

from __future__ import annotations

import ipaddress
import json
from typing import List, Optional, Tuple

from .names import BRIDGE_ALIAS
from .spec import Lab
from .system import LabError, link_exists, log, run


def other_labs_networks(lab: Lab) -> List[Tuple[str, ipaddress.IPv4Network]]:
    """Networks of other hpsl-* bridges in the root namespace (to refuse overlapping slices)."""
    proc = run(["ip", "-j", "addr", "show", "type", "bridge"], check=False)
    out = []
    try:
        for link in json.loads(proc.stdout or "[]"):
            if link["ifname"].startswith("hpsl-") and link["ifname"] != lab.bridge:
                for a in link.get("addr_info", []):
                    if a.get("family") == "inet":
                        net = ipaddress.ip_network("{}/{}".format(a["local"], a["prefixlen"]), strict=False)
                        out.append((link["ifname"], net))
    except (ValueError, KeyError):
        pass
    return out


def bridge_owner(bridge: str) -> Optional[str]:
    """None: no such bridge; "": a bridge without our alias; else the name of the lab that made it."""
    proc = run(["ip", "-j", "link", "show", "dev", bridge], check=False)
    if proc.returncode != 0:
        return None
    try:
        alias = json.loads(proc.stdout)[0].get("ifalias", "")
    except (ValueError, IndexError):
        return ""
    return alias[len(BRIDGE_ALIAS) :] if alias.startswith(BRIDGE_ALIAS) else ""


def ensure_bridge(lab: Lab) -> None:
    """The lab's bridge with the controller's address, refusing another lab's slice or bridge."""
    for name, net in other_labs_networks(lab):
        if net.overlaps(lab.subnet):
            raise LabError(
                f"lab {lab.name}: subnet {lab.subnet} overlaps {net} of bridge {name} (another lab): "
                "pick your own slice"
            )
    owner = bridge_owner(lab.bridge)
    if owner is not None and owner not in (lab.name, ""):
        raise LabError(f"lab {lab.name}: bridge {lab.bridge} belongs to lab {owner}: pick a bridge name of your own")
    if not link_exists(lab.bridge):
        run(["ip", "link", "add", lab.bridge, "type", "bridge"])
    if owner != lab.name:
        run(["ip", "link", "set", "dev", lab.bridge, "alias", BRIDGE_ALIAS + lab.name])
    addr = f"{lab.bridge_address}/{lab.subnet.prefixlen}"
    have = run(["ip", "-4", "-o", "addr", "show", "dev", lab.bridge]).stdout
    if (f" {addr} ") not in have:
        run(["ip", "addr", "add", addr, "dev", lab.bridge])
    # The lab is an island: nothing received on its bridge is forwarded (per-interface switch, so
    # nothing outside the lab's own names changes), no IPv6, and the hosts get no default route.
    for key, value in (
        (f"net/ipv4/conf/{lab.bridge}/forwarding", "0"),
        (f"net/ipv6/conf/{lab.bridge}/disable_ipv6", "1"),
    ):
        with open("/proc/sys/" + key, "w") as fh:
            fh.write(value)
    run(["ip", "link", "set", lab.bridge, "up"])


def remove_bridge(lab: Lab) -> None:
    """Delete the lab's bridge unless another lab made it."""
    owner = bridge_owner(lab.bridge)
    if owner in (lab.name, ""):
        run(["ip", "link", "del", lab.bridge])
    elif owner is not None:
        log(f"bridge {lab.bridge} belongs to lab {owner}: left alone")
