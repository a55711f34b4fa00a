# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab files: loading (PyYAML), validation, and the lab and host model the other parts use.

A lab file (tests/lab/README.md, "Lab files") names a lab, its subnet slice and bridge, `vars`
for the inventory, and its hosts. Every error names the key and the value.
"""

from __future__ import annotations

import glob
import ipaddress
import json
import os
import re
from typing import Any, Dict, List, Optional

import yaml

from . import names
from .system import LabError

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/lab
REPO = os.path.dirname(os.path.dirname(HERE))
LABS_DIR = os.path.join(HERE, "labs")
DEFAULT_LAB = os.path.join(LABS_DIR, "default.yml")
LAB_NETWORK = ipaddress.ip_network("198.18.0.0/24")

BACKENDS = ("firewalld", "ufw", "nftables", "iptables", "none")
STATES = ("open", "locked", "esxi", "none")
# The starting states each backend offers (files/setup/ has how each is made).
BACKEND_STATES = {
    "firewalld": ("open", "locked"),
    "ufw": ("open", "locked"),
    "nftables": ("open", "locked", "esxi"),
    "iptables": ("open", "locked"),
    "none": ("none",),
}
ROLE_GROUPS = {
    "sum_server": "sum_servers",
    "node": "linux_nodes",
    "locked": "locked_nodes",
    "esxi": "esxi_nodes",
    "management": "management",
    "outsider": "outsiders",
}
ROLE_TLS_PORTS = {"esxi": [443, 5989], "management": [443]}
LAB_KEYS = ("name", "subnet", "bridge", "bridge_address", "vars", "hosts")
HOST_KEYS = ("name", "address", "role", "backend", "state", "groups", "vars", "tls_ports")


def repo_lab_files() -> List[str]:
    """Every lab file of the repository (tests/lab/labs/, the molecule scenarios' labs under it)."""
    return sorted(glob.glob(os.path.join(LABS_DIR, "**", "*.yml"), recursive=True))


def load_text(text: str, source: str = "lab file") -> Dict[str, Any]:
    """Parse a lab file's text: a YAML mapping with only the known top-level keys."""
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LabError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise LabError(f"{source}: expected a mapping, got {type(spec).__name__}")
    unknown = sorted(str(k) for k in set(spec) - set(LAB_KEYS))
    if unknown:
        raise LabError(f"{source}: unknown keys {', '.join(unknown)} (known: {', '.join(LAB_KEYS)})")
    return spec


def vars_comments(text: str) -> Dict[str, List[str]]:
    """Full-line comments right above a key of the lab file's top-level `vars` mapping, by key,
    so the inventory can carry them over (YAML parsers drop comments)."""
    out: Dict[str, List[str]] = {}
    inside = False
    indent = None
    pending: List[str] = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped == "---":
            pending = []
            continue
        if not raw[0].isspace() and not stripped.startswith("#"):
            inside = re.match(r"^vars:\s*(#.*)?$", raw) is not None
            pending, indent = [], None
            continue
        if not inside:
            continue
        if stripped.startswith("#"):
            pending.append(stripped)
            continue
        width = len(raw) - len(raw.lstrip())
        if indent is None:
            indent = width
        match = re.match(r"^([A-Za-z0-9_.-]+):", stripped)
        if width == indent and match and pending:
            out[match.group(1)] = pending
        pending = []
    return out


class Host:
    """One lab host: its spec, checked, and the names derived from the lab and host names."""

    def __init__(self, lab: Lab, spec: Dict[str, Any]) -> None:
        if not isinstance(spec, dict):
            raise LabError(f"lab {lab.name}: each host is a mapping, got {spec!r}")
        unknown = set(spec) - set(HOST_KEYS)
        if unknown:
            raise LabError("host {!r}: unknown keys {}".format(spec.get("name"), ", ".join(sorted(unknown))))
        self.name = spec.get("name")
        if not isinstance(self.name, str) or not names.NAME_RE.match(self.name):
            raise LabError(f"host name {self.name!r}: use [a-z][a-z0-9-]*, at most 31 characters")
        self.role = spec.get("role")
        if self.role not in ROLE_GROUPS:
            raise LabError("host {}: role {!r} is not one of {}".format(self.name, self.role, ", ".join(ROLE_GROUPS)))
        self.backend = spec.get("backend", "none")
        if self.backend not in BACKENDS:
            raise LabError(
                "host {}: backend {!r} is not one of {}".format(self.name, self.backend, ", ".join(BACKENDS))
            )
        self.state = spec.get("state", "none" if self.backend == "none" else "open")
        if self.state not in BACKEND_STATES[self.backend]:
            raise LabError(
                "host {}: state {!r} is not available with backend {!r} (choose from {})".format(
                    self.name, self.state, self.backend, ", ".join(BACKEND_STATES[self.backend])
                )
            )
        try:
            self.address = ipaddress.ip_address(str(spec.get("address")))
        except ValueError as exc:
            raise LabError(f"host {self.name}: address: {exc}") from None
        if self.address not in lab.subnet or self.address in (lab.subnet.network_address, lab.subnet.broadcast_address):
            raise LabError(
                f"host {self.name}: address {self.address} is not a host address of the lab subnet {lab.subnet}"
            )
        self.groups = list(spec.get("groups") or [ROLE_GROUPS[self.role]])
        self.vars = dict(spec.get("vars") or {})
        self.tls_ports = [int(p) for p in (spec.get("tls_ports") or ROLE_TLS_PORTS.get(self.role, []))]
        self.machine = names.machine(lab.name, self.name)
        self.netns = self.machine
        self.veth = names.veth(lab.name, self.name)
        self.mac = names.mac(lab.name, self.name)
        self.dir = os.path.join(lab.state_dir, "hosts", self.name)
        self.merged = os.path.join(self.dir, "root")
        self.pidfile = os.path.join(self.dir, "nspawn.pid")
        self.logfile = os.path.join(self.dir, "console.log")

    def as_dict(self) -> Dict[str, Any]:
        """The host as lab.json records it."""
        return {
            "name": self.name,
            "address": str(self.address),
            "role": self.role,
            "backend": self.backend,
            "state": self.state,
            "groups": self.groups,
            "vars": self.vars,
            "tls_ports": self.tls_ports,
            "machine": self.machine,
            "netns": self.netns,
            "veth": self.veth,
        }


class Lab:
    """A lab: its file's settings, checked, its hosts, and where its state lives."""

    def __init__(self, path: str, spec: Optional[Dict[str, Any]] = None, comments: Optional[Dict] = None) -> None:
        self.path = os.path.abspath(path)
        if spec is None:
            try:
                with open(self.path, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as exc:
                raise LabError(f"lab file {path}: {exc.strerror}") from None
            spec = load_text(text, f"lab file {path}")
            comments = vars_comments(text)
        self.name = spec.get("name") or os.path.splitext(os.path.basename(path))[0]
        if not names.NAME_RE.match(str(self.name)):
            raise LabError(f"lab name {self.name!r}: use [a-z][a-z0-9-]*")
        try:
            self.subnet = ipaddress.ip_network(str(spec.get("subnet")))
        except ValueError as exc:
            raise LabError(f"lab {self.name}: subnet: {exc}") from None
        if not self.subnet.subnet_of(LAB_NETWORK):
            raise LabError(f"lab {self.name}: subnet {self.subnet} is outside {LAB_NETWORK}")
        self.bridge = str(spec.get("bridge") or "")
        if not names.BRIDGE_RE.match(self.bridge):
            raise LabError(
                f"lab {self.name}: bridge {self.bridge!r} must be hpsl-<1-10 of [a-z0-9-]> (at most 15 characters)"
            )
        self.bridge_address = ipaddress.ip_address(str(spec.get("bridge_address") or next(self.subnet.hosts())))
        if self.bridge_address not in self.subnet:
            raise LabError(f"lab {self.name}: bridge_address {self.bridge_address} is outside {self.subnet}")
        self.vars = dict(spec.get("vars") or {})
        self.vars_comments = dict(comments or {})
        self.state_dir = names.state_dir(self.name)
        self.hosts = [Host(self, h) for h in (spec.get("hosts") or [])]
        seen: Dict[str, Host] = {}
        for h in self.hosts:
            for key in (h.name, str(h.address)):
                if key in seen:
                    raise LabError(f"lab {self.name}: {key} is used twice")
                seen[key] = h
        if str(self.bridge_address) in seen:
            raise LabError(f"lab {self.name}: bridge_address {self.bridge_address} is also a host's address")
        self.key = os.path.join(self.state_dir, "id_ed25519")
        self.inventory = os.path.join(self.state_dir, "inventory.yml")
        self.record = os.path.join(self.state_dir, "lab.json")

    @property
    def lock(self) -> str:
        """The lock file of this lab's up, down and restart."""
        return names.lock_file(self.name)

    @classmethod
    def from_record(cls, record: Dict[str, Any]) -> Lab:
        """The lab as a lab.json record describes it (what the last `up` made)."""
        spec = {k: record.get(k) for k in ("name", "subnet", "bridge", "bridge_address")}
        spec["hosts"] = [{k: h[k] for k in HOST_KEYS if k in h} for h in record.get("hosts", [])]
        return cls(record.get("file") or record["name"], spec=spec)

    def recorded_hosts(self) -> List[Host]:
        """Hosts of this lab as recorded by the last up (so down also finds hosts the file lost)."""
        known = {h.name: h for h in self.hosts}
        try:
            with open(self.record, encoding="utf-8") as fh:
                rec = json.load(fh)
            for spec in rec.get("hosts", []):
                if spec["name"] not in known:
                    known[spec["name"]] = Host(
                        self, {k: spec[k] for k in ("name", "address", "role", "backend", "state") if k in spec}
                    )
        except (OSError, ValueError, KeyError, LabError):
            pass
        return list(known.values())

    def former_record(self) -> Optional[Dict[str, Any]]:
        """lab.json of this lab's slice made under another lab name (the same bridge and subnet),
        when this name has none: a lab brought up before its file's `name` changed."""
        if os.path.exists(self.record) or not os.path.isdir(names.STATE_ROOT):
            return None
        for entry in sorted(os.listdir(names.STATE_ROOT)):
            try:
                with open(os.path.join(names.STATE_ROOT, entry, "lab.json"), encoding="utf-8") as fh:
                    rec = json.load(fh)
            except (OSError, ValueError):
                continue
            if rec.get("name") != self.name and rec.get("bridge") == self.bridge and rec.get("subnet") == str(
                self.subnet
            ):
                return rec
        return None


def relocated(source: str, name: str, subnet: str, bridge: str, directory: str) -> str:
    """A copy of lab file SOURCE as lab NAME in SUBNET on BRIDGE (the controller on the subnet's
    first address, the hosts on the next ones, in order), written as DIRECTORY/NAME.yml; its path.
    The benchmarks time a copy of the default lab this way, never the default lab itself."""
    with open(source, encoding="utf-8") as fh:
        spec = load_text(fh.read(), f"lab file {source}")
    addresses = ipaddress.ip_network(subnet).hosts()
    spec.update(name=name, subnet=subnet, bridge=bridge, bridge_address=str(next(addresses)))
    for host in spec.get("hosts") or []:
        host["address"] = str(next(addresses))
    path = os.path.join(directory, f"{name}.yml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"# {name}: a copy of {os.path.relpath(source, REPO)} in {subnet}\n")
        yaml.safe_dump(spec, fh, sort_keys=False)
    Lab(path)  # a copy that would not load is an error here, not at `up`
    return path
