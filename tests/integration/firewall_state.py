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
# state=absent keeps the collection's firewalld policies, empty, so that the next window needs no reload
# (docs/roles/sum_firewall.md). Deleting them (their files, then a reload; firewall-cmd --delete-policy would
# keep a .old copy), after checking that they are empty at runtime and in their files, gives back the host as it was.
DELETE_EMPTY_POLICIES = """set -e
command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1 || exit 0
gone=0
for p in hpsum_ports_in hpsum_ports_out; do
  file=/etc/firewalld/policies/$p.xml
  runtime=$(firewall-cmd --get-policies | tr ' ' '\\n' | grep -x "$p" || true)
  [ -n "$runtime" ] || [ -e "$file" ] || continue
  rules="$(firewall-cmd --policy "$p" --list-rich-rules 2>/dev/null || true)$(grep '<rule' "$file" 2>/dev/null || true)"
  if [ -n "$rules" ]; then echo "policy $p is not empty: $rules" >&2; exit 3; fi
  rm -f "$file"
  gone=1
done
[ "$gone" = 0 ] || firewall-cmd --reload >/dev/null
"""


def _same_verdict_sorted(text: str, inside: t.Callable[[str], bool], verdict: t.Callable[[str], str]) -> str:
    """Sort each run of consecutive lines with the same verdict inside the blocks ``inside`` selects."""
    out = []  # type: t.List[str]
    run = []  # type: t.List[str]
    selected = False
    for line in text.splitlines(True):
        if (line.strip() and not line[0].isspace()) or line.startswith("\tchain "):
            selected = inside(line)  # a policy's header line in the listing, a chain in the ruleset
        rule = selected and line.startswith("\t") and not line.startswith("\tchain") and line.strip() != "}"
        if run and (not rule or verdict(line) != verdict(run[0])):
            out.extend(sorted(run))
            run = []
        if rule:
            run.append(line)
        else:
            out.append(line)
    return "".join(out + sorted(run))


def normalized(views: t.Dict[str, str]) -> t.Dict[str, str]:
    """firewalld adds the rules of one priority to a policy in an order it does not let the caller choose (the
    rules the module sets at runtime in one call); in the collection's policies the rules of one priority share
    their verdict, so their order means nothing: sort them in both views of the policies."""
    views = dict(views)
    views["firewall-cmd --list-all-policies"] = _same_verdict_sorted(
        views["firewall-cmd --list-all-policies"], lambda line: line.startswith("hpsum_ports_"),
        lambda line: line.split('priority="')[1].split('"')[0] if 'priority="' in line else "")
    views["nft list ruleset"] = _same_verdict_sorted(
        views["nft list ruleset"], lambda line: "_policy_hpsum_ports_" in line,
        lambda line: line.split()[-1] if line.split() else "")
    return views


def state(host: str, lab: labutil.LabInfo) -> t.Dict[str, str]:
    """Every firewall view and boot file of a lab host, as text (see ``normalized``)."""
    script = ("echo '%s';" % SEPARATOR.strip()).join("%s;" % cmd for cmd in VIEWS.values())
    out = labutil.host_exec(host, ["sh", "-c", script], lab=lab, check=True).stdout
    parts = out.split(SEPARATOR.strip() + "\n")
    return normalized(dict(zip(VIEWS, parts)))


def closed_state(host: str, lab: labutil.LabInfo) -> t.Dict[str, str]:
    """The state after a close, for comparing with the one before the open: the collection's firewalld
    policies must be empty, and are deleted (with one reload) before the views are read."""
    labutil.host_exec(host, ["sh", "-c", DELETE_EMPTY_POLICIES], lab=lab, check=True, timeout=300)
    return state(host, lab)


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
