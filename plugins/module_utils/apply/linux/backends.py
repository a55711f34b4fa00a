# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pick the active backend (or the one named) and run host_firewall with it."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import sys
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import (
    FAIL_ENV,
    Backend,
    CommandError,
    FailHook,
    HostFirewall,
    Options,
    Runner,
    diff_text,
    management_from_env,
    normalize_peer,
)
from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.expiry import STATE_DIR, SYSTEMD_DIR, Expiry
from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.firewalld import FirewalldBackend
from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.iptables import IptablesBackend
from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.nftables import NftablesBackend
from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.ufw import USER_CHAIN, UfwBackend
from ansible_collections.hpsum.ports.plugins.module_utils.apply.window import parse_expires
from ansible_collections.hpsum.ports.plugins.module_utils.common import checks
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError


def make_backend(name: str, runner: Runner, params: t.Mapping[str, t.Any]) -> Backend:
    """The backend called ``name``, configured from the module parameters."""
    persist = params.get("persist", True)
    if name == "firewalld":
        return FirewalldBackend(runner)
    if name == "ufw":
        return UfwBackend(runner)
    if name == "nftables":
        return NftablesBackend(runner, conf=params.get("nftables_conf") or "/etc/nftables.conf", persist=persist)
    if name == "iptables":
        files = {4: params.get("iptables_rules_v4") or "/etc/iptables/rules.v4",
                 6: params.get("iptables_rules_v6") or "/etc/iptables/rules.v6"}
        return IptablesBackend(runner, files=files, persist=persist)
    raise SumPortsError("backend: %r is not one of auto, firewalld, ufw, nftables, iptables" % name,
                        option="backend", value=name)


class DetectionReads(Runner):
    """A runner that keeps what detection read: an identical read during detection, and the first one
    after it (the snapshot's read of the same state), get that output instead of running again; later
    ones run."""

    def __init__(self, runner: Runner) -> None:
        super().__init__(runner.module)
        self.inner = runner
        self.recording = True
        self.kept = {}  # type: t.Dict[t.Tuple[str, ...], t.Tuple[int, str, str]]

    def which(self, name: str) -> t.Optional[str]:
        """Path of a command, or None."""
        return self.inner.which(name)

    def run(self, argv: t.Sequence[str], data: t.Optional[str] = None, check: bool = True) -> t.Tuple[int, str, str]:
        """Run argv, or hand out the kept output of a read (no input) that detection made."""
        key = tuple(argv)
        if data is None and key in self.kept:
            rc, out, err = self.kept[key] if self.recording else self.kept.pop(key)
            if check and rc != 0:
                raise CommandError("%s failed (rc=%d): %s" % (" ".join(argv), rc, (err or out).strip()),
                                   cmd=list(argv), rc=rc, stdout=out, stderr=err)
            return rc, out, err
        result = self.inner.run(argv, data=data, check=check)
        if data is None and self.recording:
            self.kept[key] = result
        return result

    def read(self, path: str) -> t.Optional[bytes]:
        """A file's bytes, or None when it does not exist."""
        return self.inner.read(path)

    def write(self, path: str, content: t.Optional[bytes]) -> None:
        """Replace or remove a file atomically."""
        self.inner.write(path, content)

    def environ(self) -> t.Mapping[str, str]:
        """The module's environment."""
        return self.inner.environ()

    def programs(self) -> t.Optional[t.Set[str]]:
        """Names of the running programs, or None."""
        return self.inner.programs()


def _filter_table(runner: Runner) -> t.Optional[str]:
    """``iptables-save -t filter``, or None without the command or when it fails."""
    path = runner.which("iptables-save")
    if not path:
        return None
    rc, out, _err = runner.run([path, "-t", "filter"], check=False)
    return out if rc == 0 else None


def _iptables_in_use(save: t.Optional[str]) -> bool:
    """iptables carries rules or a non-ACCEPT policy (nft's own tables do not show there)."""
    return save is not None and bool(re.search(r"^(-A |:(INPUT|OUTPUT|FORWARD) (DROP|REJECT))", save, re.M))


def detect(runner: Runner) -> str:
    """The active firewall: firewalld running, ufw active, iptables in use or persisted, else nftables.

    The cheap signs come first, so a host pays only for its own firewall's tool: firewalld is asked only
    when a firewalld process runs; ufw is read from its files and the iptables-save already made.
    """
    programs = runner.programs()
    if (programs is None or "firewalld" in programs) and FirewalldBackend(runner).available():
        return "firewalld"
    save = _filter_table(runner)
    if (save is None or USER_CHAIN.search(save)) and UfwBackend(runner).available():
        return "ufw"
    # iptables with rules, or persisted the netfilter-persistent way (an open host has no rules yet).
    if _iptables_in_use(save) or runner.read("/etc/iptables/rules.v4") is not None:
        return "iptables"
    if runner.which("nft"):
        return "nftables"
    if runner.which("iptables-save"):
        return "iptables"
    raise SumPortsError("backend: no firewall found (firewalld, ufw, nft, iptables); name one with backend",
                        option="backend", value="auto")


def check_restrict_ports(ports: t.Sequence[t.Any]) -> t.List[int]:
    """restrict_ports: port numbers 1-65535; errors name the option and the value."""
    return sorted({checks.port("restrict_ports[%d]" % index, port) for index, port in enumerate(ports)})


class HostFirewallModule:
    """The host_firewall module: its parameters and environment -> a backend and options -> HostFirewall."""

    def __init__(self, module: t.Any) -> None:
        self.module = module

    def run(self) -> t.Dict[str, t.Any]:
        """Everything main() does between reading the parameters and exit_json."""
        module = self.module
        params = module.params
        runner = Runner(module)
        environ = runner.environ()
        sources, port = management_from_env(environ)
        if params.get("management_sources") is not None:
            sources = tuple(normalize_peer("management_sources[%d]" % i, s)
                            for i, s in enumerate(params["management_sources"]))
        if params.get("management_port") is not None:
            port = checks.port("management_port", params["management_port"])
        if port is None:
            port = 22  # unknown: assume SSH's port, so that it is never restricted without a known source
        options = Options(
            state=params["state"],
            allow_any_source=params["allow_any_source"],
            restrict=params["restrict"],
            restrict_ports=tuple(check_restrict_ports(params.get("restrict_ports") or [])),
            management_sources=tuple(sources),
            management_port=port,
        )
        expires = params.get("expires")
        if params["state"] == "present" and expires not in (None, ""):
            parse_expires(expires)  # a bad deadline fails before anything is read
        name = params["backend"]
        if name == "auto":
            # What detection read is the snapshot's first read of the same state: not run twice.
            runner = DetectionReads(runner)
            name = detect(runner)
            runner.recording = False
        backend = make_backend(name, runner, params)
        hook = FailHook(environ.get(FAIL_ENV, ""))
        expiry = Expiry(runner, params, state_dir=params.get("expiry_state_dir") or STATE_DIR,
                        systemd_dir=params.get("expiry_systemd_dir") or SYSTEMD_DIR, python=sys.executable)
        schedule = expiry.plan(params["state"], expires, name)
        if schedule["changed"] and schedule["files"] is not None and not module.check_mode:
            expiry.preflight()  # what the install needs is there before the rules change
        result = HostFirewall(backend, params["rules"] or [], options, module.check_mode, hook).run()
        if not module.check_mode:
            expiry.apply(schedule)
        result["changed"] = result["changed"] or schedule["changed"]
        result["expires_at"] = schedule["expires_at"]
        diff = result["diff"]
        diff["before"] += diff_text(["expiry: " + line for line in schedule["before"]])
        diff["after"] += diff_text(["expiry: " + line for line in schedule["after"]])
        return result
