# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""firewalld backend: two policies of our own, written as permanent XML, then one reload.

Rich rules have no comment, so the tag is the policy itself: ``hpsum_ports_in``
(ingress ANY, egress HOST) and ``hpsum_ports_out`` (HOST -> ANY, only where a policy
filters the host's outbound traffic). Policies with a negative priority are evaluated
before any zone, so the accepts work in a zone whose target is DROP, and no zone is
touched. The change is one atomic file write per policy and one reload (firewalld
checks the whole configuration first and applies a reload as one transaction: a file it
refuses changes nothing); a failure puts the files back and reloads again. A reload
drops runtime-only changes, so the module refuses to run when the runtime differs from
the permanent configuration outside our policies.

firewalld is asked over D-Bus, from one short script run by the Python that firewall-cmd
itself uses (``BUS_SCRIPT``): one process reads the state, every zone and policy, runtime
and permanent; one more reloads and reads the policies back. Each ``firewall-cmd`` call
is a Python start-up of its own (0.5-1 s on a loaded host): the module runs none.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import ipaddress
import json
import os
import re
import typing as t

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

# Run as ``python -c BUS_SCRIPT read|reload`` with firewall-cmd's own interpreter (it has dbus).
# read: {"state", "runtime": {"zones", "policies"}, "permanent": {"zones", "policies"}}, each a
# name -> settings mapping as firewalld's D-Bus API gives it (read only while firewalld runs);
# reload: reload, then {"runtime": {"policies"}}. A D-Bus error is printed to stderr, rc 1.
BUS_SCRIPT = """
import json, sys
import dbus
N = "org.fedoraproject.FirewallD1"
P = "/org/fedoraproject/FirewallD1"
PROPS = "org.freedesktop.DBus.Properties"
def obj(path):
    return bus.get_object(N, path, introspect=False)
def call(path, iface, method, *args):
    return obj(path).get_dbus_method(method, iface)(*args)
def policies():
    return dict((str(p), call(P, N + ".policy", "getPolicySettings", p)) for p in call(P, N + ".policy", "getPolicies"))
def permanent(kind, lister, method):
    found = {}
    for path in call(P + "/config", N + ".config", lister):
        name = obj(path).Get(N + ".config." + kind, "name", dbus_interface=PROPS)
        found[str(name)] = obj(path).get_dbus_method(method, N + ".config." + kind)()
    return found
try:
    bus = dbus.SystemBus()
    out = {}
    if sys.argv[1] == "reload":
        call(P, N, "reload")
        out["runtime"] = {"policies": policies()}
    else:
        out["state"] = str(call(P, PROPS, "Get", N, "state"))
        if out["state"] == "RUNNING":
            zones = call(P, N + ".zone", "getZones")
            zones = dict((str(z), call(P, N + ".zone", "getZoneSettings2", z)) for z in zones)
            out["runtime"] = {"zones": zones, "policies": policies()}
            out["permanent"] = {"zones": permanent("zone", "listZones", "getSettings2"),
                                "policies": permanent("policy", "listPolicies", "getSettings")}
except dbus.exceptions.DBusException as exc:
    sys.stderr.write("%s: %s\\n" % (exc.get_dbus_name(), exc.get_dbus_message()))
    sys.exit(1)
json.dump(out, sys.stdout, sort_keys=True)
"""
# Runtime-only bindings (NetworkManager, the default zone's interfaces): not lost by a reload.
RUNTIME_ONLY = ("interfaces",)

POLICIES = {"input": "hpsum_ports_in", "output": "hpsum_ports_out"}
ZONES = {"input": ("ANY", "HOST"), "output": ("HOST", "ANY")}
POLICY_PRIORITY = -100
# Rich-rule priorities inside our policy: management, then peers, then the drop of the rest.
RULE_PRIORITY = {"mgmt": -3, "accept": -2, "reply": -2, "drop": -1}
KIND_BY_PRIORITY = {-3: "mgmt", -2: "accept", -1: "drop"}
DEFAULT_DIR = "/etc/firewalld/policies"
_RICH = re.compile(r'(\w+)(?:="([^"]*)")?')


def quoteattr(value: str) -> str:
    """An XML attribute value in double quotes (xml.sax.saxutils' import pulls in urllib, http and email:
    over 0.1 s of every module start on a loaded host)."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        value = value.replace(char, entity)
    return '"%s"' % value


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


def policy_lines(policies: t.Mapping[str, t.Mapping[str, t.Any]]) -> t.List[str]:
    """Our policies' rich rules as lines (sorted: priorities, not the listing order, decide their order)."""
    lines = []
    for hook, name in POLICIES.items():
        if name not in policies:
            continue
        lines.append("policy %s" % name)
        lines.extend(sorted(
            "policy %s: %s" % (name, parse_rich_rule(rule, hook) or "<foreign: %s>" % rule.strip())
            for rule in policies[name].get("rich_rules", []) if rule.strip()))
    return lines


def outbound_filtered(policies: t.Mapping[str, t.Mapping[str, t.Any]]) -> bool:
    """A policy not ours drops or rejects what leaves the host."""
    return any(
        name not in POLICIES.values() and "HOST" in settings.get("ingress_zones", [])
        and settings.get("target") in ("DROP", "REJECT")
        for name, settings in policies.items()
    )


def drift(state: t.Mapping[str, t.Any]) -> t.List[str]:
    """Zones and policies (not ours) whose runtime settings differ from the permanent ones."""
    found = []
    for kind, word in (("zones", "zone"), ("policies", "policy")):
        runtime, permanent = state["runtime"][kind], state["permanent"][kind]
        for name in sorted(set(runtime) | set(permanent)):
            if name in POLICIES.values():
                continue
            if name not in runtime or name not in permanent:
                found.append("%s %s: %s only" % (word, name, "runtime" if name in runtime else "permanent"))
                continue
            keys = sorted((set(runtime[name]) | set(permanent[name])) - set(RUNTIME_ONLY))
            differing = [k for k in keys if runtime[name].get(k) != permanent[name].get(k)]
            if differing:
                found.append("%s %s: %s" % (word, name, ", ".join(differing)))
    return found


class FirewalldBackend(Backend):
    """firewalld through its D-Bus API (BUS_SCRIPT) and its permanent policy files."""

    name = "firewalld"
    stateless_replies = False

    def __init__(self, runner: Runner, policy_dir: str = DEFAULT_DIR) -> None:
        super().__init__(runner)
        self.policy_dir = policy_dir

    def path(self, hook: str) -> str:
        """The permanent file of one of our policies."""
        return "%s/%s.xml" % (self.policy_dir, POLICIES[hook])

    def python(self) -> t.List[str]:
        """The interpreter firewall-cmd runs with (its ``#!`` line): the one that has dbus."""
        cmd = self.command("firewall-cmd")
        first = (self.runner.read(cmd) or b"").split(b"\n", 1)[0].decode("utf-8", "replace")
        words = first[2:].split() if first.startswith("#!") else []
        if words and os.path.basename(words[0]) == "env" and len(words) > 1:
            words = [self.runner.which(words[1]) or words[1]] + words[2:]
        if not words:
            python = self.runner.which("python3")
            if not python:
                raise SumPortsError("firewalld: no Python found to reach firewalld over D-Bus (firewall-cmd's "
                                    "interpreter or python3)", option="backend", value=self.name)
            words = [python]
        return words

    def bus(self, op: str, check: bool = True) -> t.Tuple[int, t.Dict[str, t.Any], str]:
        """Run BUS_SCRIPT's ``op``: (rc, its JSON output, stderr)."""
        rc, out, err = self.runner.run(self.python() + ["-c", BUS_SCRIPT, op], check=check)
        if rc != 0:
            return rc, {}, err
        try:
            return rc, json.loads(out), err
        except ValueError as exc:
            raise SumPortsError("firewalld: the D-Bus read printed no JSON: %s" % exc) from None

    def available(self) -> bool:
        """firewalld answers on D-Bus and says RUNNING (the read snapshot() makes, served to it once)."""
        if not self.runner.which("firewall-cmd"):
            return False
        rc, state, _err = self.bus("read", check=False)
        return rc == 0 and state.get("state") == "RUNNING"

    def snapshot(self) -> Snapshot:
        """Runtime rich rules of our policies, outbound filtering, our permanent files (one D-Bus read)."""
        _rc, state, _err = self.bus("read")
        if state.get("state") != "RUNNING":
            raise SumPortsError("backend: firewalld is not running (state %s)" % state.get("state"),
                                option="backend", value=self.name)
        policies = state["runtime"]["policies"]
        files = {self.path(hook): self.runner.read(self.path(hook)) for hook in POLICIES}
        return Snapshot(policy_lines(policies), outbound_filtered(policies), files, state=state)

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

    def reload(self, check: bool = True) -> t.Tuple[int, t.Dict[str, t.Any], str]:
        """Reload firewalld (it checks the whole configuration first) and read its policies back."""
        return self.bus("reload", check=check)

    def apply(self, snapshot: Snapshot, target: Target, hook: FailHook) -> None:
        """Write our policy files, reload; undo the files (and reload again) on any failure."""
        found = drift(snapshot.extra["state"])
        if found:
            raise SumPortsError(
                "firewalld: the runtime configuration differs from the permanent one (%s); a reload would drop "
                "those runtime-only changes, so nothing was changed. Make them permanent "
                "(firewall-cmd --runtime-to-permanent) or reload first." % "; ".join(found[:5]), drift=found)
        reloading = False
        try:
            for path, content in sorted(target.files.items()):
                if hook.bad_rule and content is not None:
                    content = policy_xml("input" if path == self.path("input") else "output",
                                         list(target.extra["entries"]), bad_rule=True)
                if snapshot.files.get(path) != content:
                    self.runner.write(path, content)
            hook.step_done("write policy files")
            reloading = True
            _rc, state, _err = self.reload()
            # firewalld drops a rich rule it cannot parse with a warning only: compare what it loaded.
            loaded = policy_lines(state["runtime"]["policies"])
            if loaded != target.lines:
                raise SumPortsError("firewalld loaded other rules than written: %s"
                                    % "; ".join(sorted(set(loaded) ^ set(target.lines))[:5]), loaded=loaded)
        except Exception:
            self.restore_files(snapshot, target)
            if reloading:
                self.reload(check=False)
            raise
