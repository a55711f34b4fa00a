# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""firewalld backend: two policies of our own, changed at runtime over D-Bus and in their permanent XML, no reload.

Rich rules have no comment, so the tag is the policy itself: ``hpsum_ports_in``
(ingress ANY, egress HOST) and ``hpsum_ports_out`` (HOST -> ANY, only where a policy
filters the host's outbound traffic). Policies with a negative priority are evaluated
before any zone, so the accepts work in a zone whose target is DROP, and no zone is
touched.

When our policies exist at runtime (every call but the first on a host), a change is one
D-Bus ``setPolicySettings`` per changed policy (through ``busctl``: firewalld checks the
whole rule list first, then changes only the rules that differ, in its own transactions)
and one atomic write of its permanent file (firewalld's file watcher updates its view of
the permanent configuration). No reload, so runtime-only changes of zones and other
policies stay. What firewalld then has at runtime is read back; a failure sets the old rule
list again and puts the old files back. ``state=absent`` empties our policies and keeps
them (runtime and permanent): an empty policy with target CONTINUE decides nothing, and the
next call needs no reload.

firewalld cannot create a policy at runtime, so the first call on a host (or one whose
policies were edited by hand, or without ``busctl``) writes the files, runs
``--check-config`` and one ``--reload`` (a transaction of firewalld's), reads back what
it loaded, and puts back the files (and reloads) on failure. A reload drops runtime-only
changes, so that path refuses to run when the runtime differs from the permanent
configuration outside our policies.
"""


from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import ipaddress
import json
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
# firewalld's runtime D-Bus interface for policies (firewalld.dbus(5)): bus name, object, interface.
DBUS_POLICY = ("org.fedoraproject.FirewallD1", "/org/fedoraproject/FirewallD1", "org.fedoraproject.FirewallD1.policy")
# What our policy looks like at runtime in ``--list-all-policies``; any other field must be empty.
EMPTY_FIELDS = ("services", "ports", "protocols", "forward-ports", "source-ports", "icmp-blocks")
# The test hook's rule for the runtime path: a port firewalld refuses while it checks the rule list.
BAD_RICH_RULE = 'rule family="ipv4" port port="99999" protocol="tcp" accept'


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


def rich_rule_text(entry: Entry) -> str:
    """The same rule as ``rich_rule_xml``, in the rich-rule language of firewall-cmd and D-Bus."""
    text = "rule"
    if entry.family:
        text += ' family="ipv%d"' % entry.family
    text += ' priority="%d"' % RULE_PRIORITY[entry.kind]
    if entry.net and not entry.whole_family:
        text += ' %s address="%s"' % ("source" if entry.address_side == "src" else "destination", entry.net)
    return text + ' port port="%d" protocol="%s" %s' % (entry.port, entry.protocol, entry.verdict)


def runtime_ready(fields: t.Optional[t.Mapping[str, str]], hook: str) -> bool:
    """Whether a policy listed at runtime is ours as we write it, so that only its rich rules need to change."""
    if fields is None:
        return False
    ingress, egress = ZONES[hook]
    return (fields.get("priority") == str(POLICY_PRIORITY) and fields.get("target") == "CONTINUE"
            and fields.get("ingress-zones") == ingress and fields.get("egress-zones") == egress
            and fields.get("masquerade", "no") == "no" and not any(fields.get(key) for key in EMPTY_FIELDS))


def parse_settings(text: str) -> t.List[str]:
    """``busctl --json=short call ... getPolicySettings`` -> the policy's rich rules."""
    try:
        settings = json.loads(text)["data"][0]
        return list(settings.get("rich_rules", {}).get("data", []))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
        raise SumPortsError("firewalld: unexpected getPolicySettings reply: %r" % text[:200]) from error


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
        "  <description>SUM ports opened by %s host_firewall; state=absent empties it.</description>\n"
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
        """Our policies' lines and files; a policy without entries is kept empty when it exists, else not made."""
        policies = parse_policies(snapshot.extra["listing"])
        lines = []
        files = {}
        for hook, name in POLICIES.items():
            chosen = [e for e in entries if e.hook == hook and e.kind != "lo"]
            if hook == "output" and not snapshot.outbound_filtered:
                chosen = []
            if chosen or name in policies or snapshot.files.get(self.path(hook)) is not None:
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

    def wanted(self, target: Target, hook: str) -> t.List[Entry]:
        """The entries of one of our policies in the target."""
        return [e for e in target.extra["entries"]
                if e.hook == hook and e.kind != "lo" and "policy %s: %s" % (POLICIES[hook], e.key) in target.lines]

    def apply(self, snapshot: Snapshot, target: Target, hook: FailHook) -> None:
        """Without a reload when our policies exist at runtime; else write the files and reload."""
        policies = parse_policies(snapshot.extra["listing"])
        needed = [h for h in POLICIES if target.files[self.path(h)] is not None]
        if self.runner.which("busctl") and all(runtime_ready(policies.get(POLICIES[h]), h) for h in needed):
            self.apply_runtime(snapshot, target, hook, policies)
        else:
            self.apply_reload(snapshot, target, hook)

    def set_rules(self, name: str, rules: t.Sequence[str], check: bool = True) -> None:
        """One D-Bus setPolicySettings of a policy's rich rules at runtime (firewalld checks them all first)."""
        self.runner.run([self.command("busctl"), "call", DBUS_POLICY[0], DBUS_POLICY[1], DBUS_POLICY[2],
                         "setPolicySettings", "sa{sv}", name, "1", "rich_rules", "as", str(len(rules))] + list(rules),
                        check=check)

    def runtime_rules(self, name: str) -> t.List[str]:
        """The rich rules of a policy at runtime, as firewalld has them."""
        _rc, out, _err = self.runner.run([self.command("busctl"), "--json=short", "call", DBUS_POLICY[0],
                                          DBUS_POLICY[1], DBUS_POLICY[2], "getPolicySettings", "s", name])
        return parse_settings(out)

    def apply_runtime(self, snapshot: Snapshot, target: Target, hook: FailHook,
                      policies: t.Mapping[str, t.Mapping[str, str]]) -> None:
        """Set each changed policy's rich rules at runtime, write its permanent file, read back; undo on failure."""
        changes = []  # (hook, name, old rules, new rules) of the policies whose runtime rules change
        for side, name in POLICIES.items():
            if target.files[self.path(side)] is None:
                continue
            old = [rule.strip() for rule in policies[name]["rich"].splitlines() if rule.strip()]
            new = [rich_rule_text(e) for e in self.wanted(target, side)]
            mine = sorted(line for line in target.lines if line.startswith("policy %s: " % name))
            if sorted(line for line in snapshot.lines if line.startswith("policy %s: " % name)) != mine:
                changes.append((side, name, old, new))
        if hook.bad_rule and changes:
            changes[0] = changes[0][:3] + (changes[0][3] + [BAD_RICH_RULE],)
        done = []  # type: t.List[t.Tuple[str, t.List[str]]]
        written = []  # type: t.List[str]
        try:
            for _side, name, old, new in changes:
                self.set_rules(name, new)
                done.append((name, old))
                hook.step_done("set the rich rules of %s" % name)
            for path, content in sorted(target.files.items()):
                if snapshot.files.get(path) != content:
                    written.append(path)
                    self.runner.write(path, content)
            for side, name, _old, _new in changes:
                loaded = sorted("policy %s: %s" % (name, parse_rich_rule(rule, side) or "<foreign: %s>" % rule)
                                for rule in self.runtime_rules(name))
                mine = sorted(line for line in target.lines if line.startswith("policy %s: " % name))
                if loaded != mine:
                    raise SumPortsError("firewalld has other rules than set in %s: %s"
                                        % (name, "; ".join(sorted(set(loaded) ^ set(mine))[:5])), loaded=loaded)
        except Exception:
            for name, old in reversed(done):
                self.set_rules(name, old, check=False)
            for path in written:
                self.runner.write(path, snapshot.files.get(path))
            raise

    def apply_reload(self, snapshot: Snapshot, target: Target, hook: FailHook) -> None:
        """Write our policy files, check the config, reload; undo the files on any failure."""
        cmd = self._cmd()
        drift = self.drift(snapshot.extra["listing"])
        if drift:
            raise SumPortsError(
                "firewalld: the runtime configuration differs from the permanent one (%s); our policies do not exist "
                "at runtime yet and the reload that creates them would drop those runtime-only changes, so nothing "
                "was changed. Make them permanent (firewall-cmd --runtime-to-permanent) or reload first."
                % "; ".join(drift[:5]), drift=drift)
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
