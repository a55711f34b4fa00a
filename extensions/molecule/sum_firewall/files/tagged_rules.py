#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Molecule verify helper, run on a lab host: the collection's accept rules, read back from the host.

Reads the backends' own views, independently of the collection's code, and prints JSON:
``{"live": [...], "saved": [...]}``, each a sorted list of ``direction:protocol:port:address``
(e.g. ``in:tcp:63001:198.18.0.243/32``) for every accept rule tagged ``hpsum.ports``:

- live: ``nft list ruleset``, ``iptables-save``/``ip6tables-save`` and ``ufw status`` comments,
  firewalld's runtime rich rules of the policies ``hpsum_ports_in``/``hpsum_ports_out``;
- saved (what the next boot loads): /etc/nftables.conf, /etc/iptables/rules.v4/v6,
  /etc/ufw/user.rules/user6.rules (ufw keeps comments hex-encoded there), firewalld's permanent
  rich rules.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import typing as t

TAGGED = re.compile(r"hpsum\.ports:(in|out):(tcp|udp):(\d+):(\S+?):accept\b")
RICH = re.compile(r'(source|destination) address="([^"]+)" port port="(\d+)" protocol="(\w+)" accept')
UFW_HEX = re.compile(r"comment=([0-9a-f]+)")


def run(argv: t.List[str]) -> str:
    """A command's stdout, or "" when the tool is missing or fails (that backend is not in use)."""
    if shutil.which(argv[0]) is None:
        return ""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return proc.stdout if proc.returncode == 0 else ""


def read(path: str) -> str:
    """A file's text, or "" when it does not exist."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def tagged(text: str) -> t.Set[str]:
    """Keys of the tagged accept rules named in comments of a ruleset text."""
    return {"%s:%s:%s:%s" % m.groups() for m in TAGGED.finditer(text)}


def ufw_saved(text: str) -> t.Set[str]:
    """ufw's user.rules keeps each rule's comment hex-encoded on its '### tuple ###' line."""
    out: t.Set[str] = set()
    for match in UFW_HEX.finditer(text):
        try:
            out |= tagged(bytes.fromhex(match.group(1)).decode("utf-8", "replace"))
        except ValueError:
            continue
    return out


def firewalld(permanent: bool) -> t.Set[str]:
    """Rich rules of the collection's firewalld policies, as keys."""
    out: t.Set[str] = set()
    for direction in ("in", "out"):
        argv = ["firewall-cmd"] + (["--permanent"] if permanent else [])
        for line in run(argv + ["--policy", "hpsum_ports_" + direction, "--list-rich-rules"]).splitlines():
            match = RICH.search(line)
            if match:
                _side, address, port, protocol = match.groups()
                out.add("%s:%s:%s:%s" % (direction, protocol, port, address))
    return out


def main() -> None:
    """Print the live and saved tagged accept rules as JSON."""
    live = tagged(run(["nft", "list", "ruleset"]) + run(["iptables-save"]) + run(["ip6tables-save"])
                  + run(["ufw", "status"])) | firewalld(permanent=False)
    saved = (tagged(read("/etc/nftables.conf") + read("/etc/iptables/rules.v4") + read("/etc/iptables/rules.v6"))
             | ufw_saved(read("/etc/ufw/user.rules") + read("/etc/ufw/user6.rules")) | firewalld(permanent=True))
    print(json.dumps({"live": sorted(live), "saved": sorted(saved)}))


if __name__ == "__main__":
    main()
