# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""firewalld backend: two policies of our own, written as permanent XML, then one reload.

Rich rules have no comment, so the tag is the policy itself: ``hpsum_ports_in``
(ingress ANY, egress HOST) and ``hpsum_ports_out`` (HOST -> ANY, only where a policy
filters the host's outbound traffic). Policies with a negative priority are evaluated
before any zone, so the accepts work in a zone whose target is DROP, and no zone is
touched. The change is one atomic file write per policy, ``--check-config`` and one
``--reload`` (firewalld applies a reload as one transaction); a failure puts the files
back (and reloads when the first reload had happened). A reload drops runtime-only
changes, so the module refuses to run when the runtime differs from the permanent
configuration outside our policies.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import ipaddress
import re
import typing as t
from xml.sax.saxutils import quoteattr

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import (
    TAG,
    WHOLE_FAMILY,
    Backend,
    Entry,
    FailHook,
    Runner,
    Snapshot,
    Target,
)
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

POLICIES = {"input": "hpsum_ports_in", "output": "hpsum_ports_out"}
ZONES = {"input": ("ANY", "HOST"), "output": ("HOST", "ANY")}
POLICY_PRIORITY = -100
# Rich-rule priorities inside our policy: management, then peers, then the drop of the rest.
RULE_PRIORITY = {"mgmt": -3, "accept": -2, "reply": -2, "drop": -1}
KIND_BY_PRIORITY = {-3: "mgmt", -2: "accept", -1: "drop"}
DEFAULT_DIR = "/etc/firewalld/policies"
_RICH = re.compile(r'(\w+)(?:="([^"]*)")?')


def rich_rule_xml(entry: Entry) -> str:
    """One ``<rule>`` element of a policy file."""
    attrs = ""
    if entry.family:
        attrs += ' family="ipv%d"' % entry.family
    attrs += ' priority="%d"' % RULE_PRIORITY[entry.kind]
    inner = ""
    if entry.net and not entry.whole_family:  # a whole family is said by the family attribute
        inner += "<%s address=%s/>" % ("source" if entry.address_side == "src" else "destination", quoteattr(entry.net))
    inner += '<port port="%d" protocol="%s"/>' % (entry.port, entry.protocol)
    inner += "<%s/>" % entry.verdict
    return "  <rule%s>%s</rule>\n" % (attrs, inner)


def policy_xml(hook: str, entries: t.Sequence[Entry], bad_rule: bool = False) -> bytes:
    """The whole permanent file of one of our policies."""
    ingress, egress = ZONES[hook]
    body = "".join(rich_rule_xml(e) for e in entries)
    if bad_rule:
        # firewalld skips a malformed rich rule with a warning, but rejects a policy whose
        # ingress zones mix ANY with another: the test hook needs a change the backend refuses.
        body += '  <ingress-zone name="%s"/>\n' % egress
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<policy priority="%d" target="CONTINUE">\n'
        "  <short>%s</short>\n"
        "  <description>SUM ports opened by %s host_firewall; removed by state=absent.</description>\n"
        '  <ingress-zone name="%s"/>\n'
        '  <egress-zone name="%s"/>\n'
        "%s"
        "</policy>\n" % (POLICY_PRIORITY, POLICIES[hook], TAG, ingress, egress, body)
    ).encode("utf-8")


def parse_rich_rule(text: str, hook: str) -> t.Optional[str]:
    """A rich rule as firewall-cmd prints it -> the entry key, or None when it is not one we write."""
    fields = {}  # type: t.Dict[str, str]
    verdict = ""
    last_element = ""
    for match in _RICH.finditer(text):
        name, value = match.group(1), match.group(2)
        if value is None:  # a bare word: an element (rule, source, port...) or the verdict
            if name in ("accept", "drop", "reject"):
                verdict = name
            last_element = name
            continue
        fields["%s.%s" % (last_element, name)] = value
    try:
        priority = int(fields.get("rule.priority", "0"))
        port = int(fields["port.port"])
    except (KeyError, ValueError):
        return None
    kind = KIND_BY_PRIORITY.get(priority)
    if kind is None or verdict != ("drop" if kind == "drop" else "accept"):
        return None
    address = fields.get("source.address") or fields.get("destination.address") or ""
    net = ipaddress.ip_network(address, strict=False).with_prefixlen if address else ""
    if not net and kind == "drop" and fields.get("rule.family") in ("ipv4", "ipv6"):
        net = WHOLE_FAMILY[int(fields["rule.family"][-1])]
    direction = "in" if hook == "input" else "out"
    return Entry(direction, fields.get("port.protocol", "tcp"), port, net, kind).key


def parse_policies(text: str) -> t.Dict[str, t.Dict[str, str]]:
    """``firewall-cmd --list-all-policies`` -> name -> {field: value}; the rich rules, one a line, under "rich"."""
    policies = {}  # type: t.Dict[str, t.Dict[str, str]]
    current = None  # type: t.Optional[t.Dict[str, str]]
    for line in text.splitlines():
        if line and not line[0].isspace():
            current = policies.setdefault(line.split()[0], {"rich": ""})
        elif current is not None and line.startswith("\t"):
            current["rich"] += line.strip() + "\n"
        elif current is not None and ":" in line:
            key, _sep, value = line.strip().partition(":")
            current[key.strip()] = value.strip()
    return policies


def _normalized(text: str, skip: t.Sequence[str]) -> t.List[str]:
    """Listing without markers and runtime-only interface bindings, without our policies' blocks."""
    out = []
    skipping = False
    for line in text.splitlines():
        if line and not line[0].isspace():
            skipping = line.split()[0] in skip
            line = line.split()[0]
        if skipping or line.strip().startswith("interfaces:"):
            continue
        out.append(line.rstrip())
    return out


class FirewalldBackend(Backend):
    """firewalld through firewall-cmd and its permanent policy files."""

    name = "firewalld"
    stateless_replies = False

    def __init__(self, runner: Runner, policy_dir: str = DEFAULT_DIR) -> None:
        super().__init__(runner)
        self.policy_dir = policy_dir

    def _cmd(self) -> str:
        return self.command("firewall-cmd")

    def path(self, hook: str) -> str:
        """The permanent file of one of our policies."""
        return "%s/%s.xml" % (self.policy_dir, POLICIES[hook])

    def available(self) -> bool:
        """firewall-cmd --state says running."""
        if not self.runner.which("firewall-cmd"):
            return False
        rc, out, _err = self.runner.run([self._cmd(), "--state"], check=False)
        return rc == 0 and out.strip() == "running"

    def snapshot(self) -> Snapshot:
        """Runtime rich rules of our policies, outbound filtering, our permanent files."""
        cmd = self._cmd()
        _rc, listing, _err = self.runner.run([cmd, "--list-all-policies"])
        policies = parse_policies(listing)
        lines = []
        for hook, name in POLICIES.items():
            if name not in policies:
                continue
            lines.append("policy %s" % name)
            # Priorities, not the listing order, decide the order of rich rules: compare sorted.
            lines.extend(sorted(
                "policy %s: %s" % (name, parse_rich_rule(rule, hook) or "<foreign: %s>" % rule.strip())
                for rule in policies[name]["rich"].splitlines() if rule.strip()))
        outbound = any(
            name not in POLICIES.values()
            and "HOST" in fields.get("ingress-zones", "").split()
            and fields.get("target") in ("DROP", "REJECT")
            for name, fields in policies.items()
        )
        files = {self.path(hook): self.runner.read(self.path(hook)) for hook in POLICIES}
        return Snapshot(lines, outbound, files, listing=listing)

    def target(self, snapshot: Snapshot, entries: t.Sequence[Entry]) -> Target:
        """Our policies' lines and files (a policy without entries has no file)."""
        lines = []
        files = {}
        for hook, name in POLICIES.items():
            chosen = [e for e in entries if e.hook == hook and e.kind != "lo"]
            if hook == "output" and not snapshot.outbound_filtered:
                chosen = []
            if chosen:
                lines.append("policy %s" % name)
                lines.extend(sorted("policy %s: %s" % (name, e.key) for e in chosen))
                files[self.path(hook)] = policy_xml(hook, chosen)
            else:
                files[self.path(hook)] = None
        return Target(lines, files, entries=entries)

    def drift(self, policies: str) -> t.List[str]:
        """Zones and policies (not ours) whose runtime differs from the permanent configuration.

        ``policies`` is the runtime ``--list-all-policies`` the snapshot already read.
        """
        cmd = self._cmd()
        skip = list(POLICIES.values())
        found = []
        for what in ("--list-all-zones", "--list-all-policies"):
            listing = policies if what == "--list-all-policies" else self.runner.run([cmd, what])[1]
            runtime = _normalized(listing, skip)
            permanent = _normalized(self.runner.run([cmd, "--permanent", what])[1], skip)
            if runtime != permanent:
                found.extend(sorted(set(runtime) ^ set(permanent)))
        return found

    def apply(self, snapshot: Snapshot, target: Target, hook: FailHook) -> None:
        """Write our policy files, check the config, reload; undo the files on any failure."""
        cmd = self._cmd()
        drift = self.drift(snapshot.extra["listing"])
        if drift:
            raise SumPortsError(
                "firewalld: the runtime configuration differs from the permanent one (%s); a reload would drop "
                "those runtime-only changes, so nothing was changed. Make them permanent "
                "(firewall-cmd --runtime-to-permanent) or reload first." % "; ".join(drift[:5]), drift=drift)
        reloaded = False
        try:
            for path, content in sorted(target.files.items()):
                if hook.bad_rule and content is not None:
                    content = policy_xml("input" if path == self.path("input") else "output",
                                         list(target.extra["entries"]), bad_rule=True)
                if snapshot.files.get(path) != content:
                    self.runner.write(path, content)
            hook.step_done("write policy files")
            self.runner.run([cmd, "--check-config"])
            reloaded = True
            self.runner.run([cmd, "--reload"])
            # firewalld drops a rich rule it cannot parse with a warning only: read back what it loaded.
            loaded = self.snapshot().lines
            if loaded != target.lines:
                raise SumPortsError("firewalld loaded other rules than written: %s"
                                    % "; ".join(sorted(set(loaded) ^ set(target.lines))[:5]), loaded=loaded)
        except Exception:
            self.restore_files(snapshot, target)
            if reloaded:
                self.runner.run([cmd, "--reload"], check=False)
            raise
