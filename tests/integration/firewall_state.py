# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the firewall lab tests: a host's whole firewall state, read from inside the host.

``state(host)`` is every view the backends give (``nft list ruleset``, ``iptables-save``
and ``ip6tables-save`` without counters, ``firewall-cmd --list-all-zones`` and
``--list-all-policies``, ``ufw status verbose``) plus the boot-time files, so "equal before
and after" means byte for byte, live and persistent.
"""

from __future__ import annotations

import typing as t

import labutil

VIEWS = {
    # counters are traffic, not rules (ufw's iptables-nft chains carry them)
    "nft list ruleset": "nft list ruleset 2>/dev/null | sed 's/counter packets [0-9]* bytes [0-9]*/counter/'",
    "iptables-save": "iptables-save 2>/dev/null | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'",
    "ip6tables-save": "ip6tables-save 2>/dev/null | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'",
    "firewall-cmd --list-all-zones": "firewall-cmd --list-all-zones 2>/dev/null",
    "firewall-cmd --list-all-policies": "firewall-cmd --list-all-policies 2>/dev/null",
    "firewall-cmd --permanent --list-all-zones": "firewall-cmd --permanent --list-all-zones 2>/dev/null",
    "ufw status verbose": "ufw status verbose 2>/dev/null",
    "/etc/nftables.conf": "cat /etc/nftables.conf 2>/dev/null",
    "/etc/iptables/rules.v4": "cat /etc/iptables/rules.v4 2>/dev/null",
    "/etc/iptables/rules.v6": "cat /etc/iptables/rules.v6 2>/dev/null",
    "/etc/ufw/user.rules": "cat /etc/ufw/user.rules 2>/dev/null",
    "/etc/ufw/user6.rules": "cat /etc/ufw/user6.rules 2>/dev/null",
    # mode, owner, group (and size of files) of every entry; not link counts, which overlayfs
    # changes when a directory is copied up although nothing in it differs
    "/etc/firewalld/policies": "find /etc/firewalld/policies -type f -printf '%M %u %g %s %P\\n' -o "
                               "-printf '%M %u %g %P\\n' 2>/dev/null | sort",
}
SEPARATOR = "\n@@@@ hpsum.ports view @@@@\n"


def state(host: str, lab: labutil.LabInfo) -> t.Dict[str, str]:
    """Every firewall view and boot file of a lab host, as text."""
    script = ("echo '%s';" % SEPARATOR.strip()).join("%s;" % cmd for cmd in VIEWS.values())
    out = labutil.host_exec(host, ["sh", "-c", script], lab=lab, check=True).stdout
    parts = out.split(SEPARATOR.strip() + "\n")
    return dict(zip(VIEWS, parts))


def differences(before: t.Mapping[str, str], after: t.Mapping[str, str]) -> t.List[str]:
    """The views that differ, with both texts, for an assertion message."""
    return ["%s:\n--- before\n%s\n--- after\n%s" % (k, before[k], after.get(k))
            for k in before if before[k] != after.get(k)]


def linux_hosts(lab: labutil.LabInfo) -> t.List[str]:
    """Hosts whose own Linux firewall the collection manages: SUM servers and Linux nodes (open and locked)."""
    return [h for h, spec in lab.hosts.items()
            if spec.get("backend") in ("firewalld", "ufw", "nftables", "iptables")
            and spec.get("role") in ("sum_server", "node", "locked")]


def one(lab: labutil.LabInfo, role: str) -> str:
    """The first host of a lab role (sum_server, outsider...)."""
    return next(h for h, spec in lab.hosts.items() if spec.get("role") == role)


def blocked(outcome: str) -> bool:
    """A connection that did not complete because of a firewall (each backend fails its own way:
    tests/lab/README.md, "Starting states")."""
    return outcome in (labutil.TIMEOUT, labutil.UNREACHABLE, labutil.REFUSED)
