# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ESXi side of esxi_firewall_rule: esxcli runner and parsers, local.sh block editing, the manager.

esxcli is run with its default output formatter (the tables VMware's "vSphere Command-Line
Interface Concepts and Examples" prints), parsed by the column spans of the dashed line
under the header, and by header names, so columns ESXi adds in later releases are ignored:

    Name       Enabled          Ruleset    Allowed IP Addresses
    ---------  -------          ---------  --------------------
    sshServer     true          sshServer  All

A list of allowed IPs prints as ``198.18.0.10, 198.18.0.0/24``; ``All`` means allowed-all.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.apply import window
from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi import esxi_xml
from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi.esxi_expiry import EsxiExpiry
from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi.local_sh import (
    BLOCK_BEGIN,
    BLOCK_END,
    LOCAL_SH,
    edit_local_sh,
)
from ansible_collections.hpsum.ports.plugins.module_utils.common import checks
from ansible_collections.hpsum.ports.plugins.module_utils.common._io import diff_text, read_file, write_file_atomic
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError, option_error
from ansible_collections.hpsum.ports.plugins.module_utils.plan.port_matrix import ESXI_DEFAULT_OUTBOUND

FIREWALL_DIR = "/etc/vmware/firewall"
# ESXi's own tool: `secureBoot.py -s` prints Enabled or Disabled.
SECURE_BOOT_TOOL = "/usr/lib/vmware/secureboot/bin/secureBoot.py"
SECURE_BOOT_WARNING = (
    "persist: UEFI secure boot is enabled on this host, and ESXi does not run %s then: the ruleset will not "
    "come back after a reboot. Ship the ruleset file in a VIB, or re-run after each reboot." % LOCAL_SH
)

EXPIRY_SECURE_BOOT_WARNING = (
    "expires: UEFI secure boot is enabled on this host, and ESXi does not run %s then: after a reboot before the "
    "deadline, the window does not close by itself. Run close.yml." % LOCAL_SH
)
HEREDOC = "HPSUM_PORTS_RULESET_XML"


# --------------------------------------------------------------------------- esxcli output


def parse_table(text: str) -> t.List[t.Dict[str, str]]:
    """Rows of an esxcli default-format table as dicts keyed by header; empty output is no rows."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    if len(lines) < 2 or not re.match(r"\A[- ]+\Z", lines[1]) or "-" not in lines[1]:
        raise SumPortsError("esxcli output is not a table: %r" % text[:200])
    spans = [match.span() for match in re.finditer(r"-+", lines[1])]
    starts = [start for start, _end in spans]

    def cells(line: str) -> t.List[str]:
        bounds = [*starts[1:], None]
        return [line[start:end].strip() for start, end in zip(starts, bounds)]

    headers = cells(lines[0])
    return [dict(zip(headers, cells(line))) for line in lines[2:]]


def _column(row: t.Mapping[str, str], name: str) -> str:
    if name not in row:
        raise SumPortsError("esxcli output lacks the column %r (has %s)" % (name, ", ".join(row)))
    return row[name]


class Rule(t.NamedTuple):
    """One line of `esxcli network firewall ruleset rule list`."""

    direction: str
    protocol: str
    port_type: str
    port_begin: int
    port_end: int


class RulesetState(t.NamedTuple):
    """What esxcli says about one ruleset; ``loaded`` False means it is not in `ruleset list`."""

    loaded: bool
    enabled: bool = False
    allowed_all: bool = True
    allowed_ips: t.Tuple[str, ...] = ()
    ports: t.Tuple[int, ...] = ()

    def describe(self, ruleset_id: str) -> str:
        """A few lines for the diff."""
        if not self.loaded:
            return "ruleset %s: not loaded\n" % ruleset_id
        return "ruleset %s: enabled=%s\nallowed IPs: %s\noutbound tcp dst ports: %s\n" % (
            ruleset_id,
            "true" if self.enabled else "false",
            "All" if self.allowed_all else (", ".join(self.allowed_ips) or "(none)"),
            ", ".join(str(p) for p in self.ports) or "(none)",
        )

    def as_dict(self) -> t.Dict[str, t.Any]:
        """For the module's return value."""
        return {
            "loaded": self.loaded,
            "enabled": self.enabled,
            "allowed_all": self.allowed_all,
            "allowed_ips": list(self.allowed_ips),
            "ports": list(self.ports),
        }


def parse_ruleset_list(text: str) -> t.Dict[str, bool]:
    """`ruleset list`: ruleset id -> enabled."""
    return {_column(row, "Name"): _column(row, "Enabled").lower() == "true" for row in parse_table(text)}


def parse_allowedip_list(text: str, ruleset_id: str) -> t.Tuple[bool, t.Tuple[str, ...]]:
    """`ruleset allowedip list --ruleset-id ID`: (allowed_all, addresses)."""
    for row in parse_table(text):
        if _column(row, "Ruleset") == ruleset_id:
            value = _column(row, "Allowed IP Addresses")
            if value == "All":
                return True, ()
            return False, tuple(sorted(a.strip() for a in value.split(",") if a.strip()))
    raise SumPortsError("esxcli ruleset allowedip list does not show ruleset %s" % ruleset_id)


def parse_rule_list(text: str, ruleset_id: str) -> t.Tuple[Rule, ...]:
    """`ruleset rule list --ruleset-id ID`: its rules."""
    rules = []
    for row in parse_table(text):
        if _column(row, "Ruleset") != ruleset_id:
            continue
        try:
            begin, end = int(_column(row, "Port Begin")), int(_column(row, "Port End"))
        except ValueError:
            raise SumPortsError("esxcli ruleset rule list: bad port in %r" % (row,)) from None
        rules.append(
            Rule(_column(row, "Direction"), _column(row, "Protocol"), _column(row, "Port Type"), begin, end)
        )
    return tuple(rules)


def outbound_tcp_ports(rules: t.Iterable[Rule]) -> t.Tuple[int, ...]:
    """Ports of the single-port outbound TCP dst rules (the only kind we write)."""
    ports = set()
    for rule in rules:
        if (rule.direction.lower(), rule.protocol.lower(), rule.port_type.lower()) == ("outbound", "tcp", "dst"):
            ports.update(range(rule.port_begin, rule.port_end + 1))
    return tuple(sorted(ports))


class Esxcli:
    """Runs `esxcli network firewall ...` as argv lists; a failure raises with cmd, rc and stderr."""

    def __init__(self, module: t.Any, path: str) -> None:
        self.module = module
        self.path = path
        self.commands: t.List[t.List[str]] = []

    def run(self, *args: str, record: bool = True) -> str:
        """Run one esxcli command; ``record`` keeps changing commands for the return value."""
        argv = [self.path, "network", "firewall", *args]
        rc, out, err = self.module.run_command(argv)
        if record:
            self.commands.append(argv)
        if rc != 0:
            raise SumPortsError(
                "esxcli failed (rc=%d): %s" % (rc, (err or out).strip()), cmd=argv, rc=rc, stdout=out, stderr=err
            )
        return out

    def state(self, ruleset_id: str) -> RulesetState:
        """Read one ruleset back from ruleset list, allowedip list and rule list."""
        enabled = parse_ruleset_list(self.run("ruleset", "list", record=False))
        if ruleset_id not in enabled:
            return RulesetState(loaded=False)
        allowed_all, ips = parse_allowedip_list(
            self.run("ruleset", "allowedip", "list", "--ruleset-id", ruleset_id, record=False), ruleset_id
        )
        listing = self.run("ruleset", "rule", "list", "--ruleset-id", ruleset_id, record=False)
        rules = parse_rule_list(listing, ruleset_id)
        return RulesetState(True, enabled[ruleset_id], allowed_all, ips, outbound_tcp_ports(rules))

    def refresh(self) -> None:
        """Reload /etc/vmware/firewall/*.xml."""
        self.run("refresh")

    def converge(self, ruleset_id: str, current: RulesetState, desired: RulesetState) -> None:
        """Set enabled, allowed-all and the allowed IPs from ``current`` to ``desired``."""
        if current.enabled != desired.enabled:
            self.run("ruleset", "set", "--ruleset-id", ruleset_id, "--enabled", _flag(desired.enabled))
        if current.allowed_all != desired.allowed_all:
            self.run("ruleset", "set", "--ruleset-id", ruleset_id, "--allowed-all", _flag(desired.allowed_all))
        for address in desired.allowed_ips:
            if address not in current.allowed_ips:
                self.run("ruleset", "allowedip", "add", "--ruleset-id", ruleset_id, "--ip-address", address)
        for address in current.allowed_ips:
            if address not in desired.allowed_ips:
                self.run("ruleset", "allowedip", "remove", "--ruleset-id", ruleset_id, "--ip-address", address)


def _flag(value: bool) -> str:
    return "true" if value else "false"


# --------------------------------------------------------------------------- local.sh


def boot_block(path: str, content: bytes, ruleset_id: str, addresses: t.Sequence[str], file_name: str) -> bytes:
    """The local.sh block that re-creates the ruleset at boot; only validated values go in."""
    esxi_xml.validate_ruleset_id("ruleset_id", ruleset_id)
    esxi_xml.validate_file_name("file_name", file_name)
    addresses = esxi_xml.validate_addresses("allowed_ips", addresses)
    xml_text = content.decode("utf-8")
    if any(line.strip() == HEREDOC for line in xml_text.splitlines()):  # pragma: no cover - cannot happen
        raise SumPortsError("ruleset XML contains the here-document delimiter")
    cli = "esxcli network firewall"
    lines = [
        BLOCK_BEGIN % file_name,
        "# Re-creates the SUM callback ruleset at boot: ESXi keeps no file under %s." % FIREWALL_DIR,
        "cat > %s <<'%s'" % (path, HEREDOC),
        xml_text.rstrip("\n"),
        HEREDOC,
        "%s refresh" % cli,
        "%s ruleset set --ruleset-id %s --enabled true" % (cli, ruleset_id),
        "%s ruleset set --ruleset-id %s --allowed-all false" % (cli, ruleset_id),
    ]
    lines += ["%s ruleset allowedip add --ruleset-id %s --ip-address %s" % (cli, ruleset_id, a) for a in addresses]
    lines.append(BLOCK_END % file_name)
    return ("\n".join(lines) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- the manager


class EsxiFirewallRule:
    """Read the file, the ruleset and local.sh; compute the desired three; diff; apply; read back."""

    # Class attributes so tests can point them at a temporary directory.
    firewall_dir = FIREWALL_DIR
    local_sh = LOCAL_SH
    secure_boot_tool = SECURE_BOOT_TOOL

    def __init__(self, module: t.Any) -> None:
        self.module = module
        self.params = module.params

    def _validate(self) -> t.Dict[str, t.Any]:
        params = self.params
        present = params["state"] == "present"
        ruleset_id = esxi_xml.validate_ruleset_id("ruleset_id", params["ruleset_id"])
        file_name = esxi_xml.validate_file_name("file_name", params["file_name"])
        ports, skipped = esxi_xml.custom_ports(
            [checks.port("ports", p) for p in params["ports"] or []], ESXI_DEFAULT_OUTBOUND
        )
        addresses = esxi_xml.validate_addresses("allowed_ips", params["allowed_ips"] or [])
        if present and ports and not addresses:
            raise option_error("allowed_ips", params["allowed_ips"], "is empty: the ruleset must be restricted")
        expires = params.get("expires")
        if present and expires not in (None, ""):
            window.parse_expires(expires)  # a bad deadline fails before anything is read
        if not os.path.isdir(self.firewall_dir):
            raise SumPortsError("%s does not exist: this is not an ESXi host" % self.firewall_dir)
        return {
            "present": present and bool(ports),
            "ruleset_id": ruleset_id,
            "file_name": file_name,
            "ports": ports,
            "skipped": skipped,
            "addresses": addresses,
            "persist": bool(params["persist"]) and present,
            "expires": expires if present else None,
        }

    def run(self) -> t.Dict[str, t.Any]:
        """Do it (or predict it in check mode); the result for exit_json."""
        want = self._validate()
        ruleset_id, file_name = want["ruleset_id"], want["file_name"]
        path = os.path.join(self.firewall_dir, file_name)
        esxcli = Esxcli(self.module, self.module.get_bin_path("esxcli", required=True))

        before_xml = read_file(path)
        before = esxcli.state(ruleset_id)
        if want["present"]:
            after_xml: t.Optional[bytes] = esxi_xml.render(esxi_xml.Ruleset(ruleset_id, want["ports"]))
            desired = RulesetState(True, True, False, want["addresses"], want["ports"])
        else:
            after_xml, desired = None, RulesetState(loaded=False)

        local_before = read_file(self.local_sh)
        local_after = local_before
        if local_before is not None:
            block = None
            if want["persist"] and after_xml is not None:
                block = boot_block(path, after_xml, ruleset_id, want["addresses"], file_name)
            local_after = edit_local_sh(local_before, file_name, block)
        elif want["persist"] and after_xml is not None:
            raise option_error("persist", True, "needs %s, which does not exist" % self.local_sh)

        expiry = EsxiExpiry(self.module, file_name, path, self.local_sh, esxcli.path)
        schedule = expiry.plan(want["present"], want["expires"], local_after)
        local_after = schedule["local"]

        file_changed = before_xml != after_xml
        ruleset_changed = before != desired
        local_changed = local_before != local_after
        changed = file_changed or ruleset_changed or local_changed or schedule["changed"]

        if changed and not self.module.check_mode:
            expiry.preflight(schedule)  # what the deadline needs is there before anything changes
            if file_changed:
                if after_xml is None:
                    os.unlink(path)
                else:
                    write_file_atomic(self.module, path, after_xml, mode=0o644)
            current = before
            if file_changed or before.loaded != desired.loaded or before.ports != desired.ports:
                esxcli.refresh()
                current = esxcli.state(ruleset_id)
            if desired.loaded and current != desired:
                esxcli.converge(ruleset_id, current, desired)
                current = esxcli.state(ruleset_id)
            if current != desired:
                raise SumPortsError(
                    "esxcli does not show the ruleset as wanted after the change",
                    wanted=desired.as_dict(),
                    found=current.as_dict(),
                    commands=esxcli.commands,
                )
            if local_changed:
                write_file_atomic(self.module, self.local_sh, t.cast(bytes, local_after))
            expiry.apply(schedule)

        diff = [
            {"before_header": path, "after_header": path, "before": diff_text(before_xml),
             "after": diff_text(after_xml)},
            {
                "before_header": "esxcli ruleset %s" % ruleset_id,
                "after_header": "esxcli ruleset %s" % ruleset_id,
                "before": before.describe(ruleset_id),
                "after": desired.describe(ruleset_id),
            },
        ]
        if local_changed:
            diff.append(
                {
                    "before_header": self.local_sh,
                    "after_header": self.local_sh,
                    "before": diff_text(local_before),
                    "after": diff_text(local_after),
                }
            )
        if schedule["before"] or schedule["after"] or schedule["changed"]:
            diff.extend(expiry.diff(schedule))
        msg = self._message(want, changed)
        if schedule["expires_at"]:
            msg += "; the window closes at %s (busybox crond)" % schedule["expires_at"]
        result: t.Dict[str, t.Any] = {
            "changed": changed,
            "msg": msg,
            "expires_at": schedule["expires_at"],
            "path": path,
            "ruleset_id": ruleset_id,
            "ports": list(want["ports"]),
            "skipped_ports": list(want["skipped"]),
            "allowed_ips": list(want["addresses"]) if want["present"] else [],
            "persisted": want["persist"] and want["present"],
            "ruleset": desired.as_dict(),
            "commands": esxcli.commands,
            "diff": diff,
        }
        if ((want["persist"] and want["present"]) or schedule["install"]) and self._secure_boot():
            result["warnings"] = [SECURE_BOOT_WARNING if want["persist"] else EXPIRY_SECURE_BOOT_WARNING]
        return result

    def _secure_boot(self) -> bool:
        """Whether ESXi says UEFI secure boot is on (then local.sh is not run at boot); False when unknown."""
        if not os.path.exists(self.secure_boot_tool):
            return False
        rc, out, _err = self.module.run_command([self.secure_boot_tool, "-s"])
        return rc == 0 and out.strip().lower() == "enabled"

    def _message(self, want: t.Mapping[str, t.Any], changed: bool) -> str:
        verb = ("would change" if self.module.check_mode else "changed") if changed else "no change"
        if self.params["state"] == "absent":
            return "%s: ruleset %s absent" % (verb, want["ruleset_id"])
        if not want["ports"]:
            return (
                "%s: no custom rule needed: ESXi allows outbound tcp to %s by default and SUM's callback ports "
                "are %s" % (
                    verb,
                    ", ".join(str(p) for p in ESXI_DEFAULT_OUTBOUND),
                    ", ".join(str(p) for p in want["skipped"]) or "none",
                )
            )
        text = "%s: ruleset %s allows outbound tcp %s to %s" % (
            verb,
            want["ruleset_id"],
            ", ".join(str(p) for p in want["ports"]),
            ", ".join(want["addresses"]),
        )
        if want["skipped"]:
            text += " (%s allowed by ESXi by default)" % ", ".join(str(p) for p in want["skipped"])
        return text
