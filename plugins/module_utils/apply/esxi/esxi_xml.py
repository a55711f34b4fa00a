# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ESXi custom firewall ruleset files (/etc/vmware/firewall/*.xml): validate, render, parse.

Pure functions, no I/O. The XML is built with ElementTree from validated values only
(ports are ints in 1-65535, the ruleset id matches ``RULESET_ID_RE``), rendered, parsed
back and compared with what was meant, so no value can inject markup.

The shape is the one of the vendor page (rule 7 of docs/port-matrix.md) and of ESXi's own
service.xml: ``ConfigRoot/service[@id]/{id, rule[@id]*, enabled, required}``; one
``rule`` per port: outbound, tcp, porttype dst.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import typing as t
import xml.etree.ElementTree as ET

from ansible_collections.hpsum.ports.plugins.module_utils.common import checks
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError, option_error

# A ruleset id as ESXi shows it in `esxcli network firewall ruleset list`: a letter,
# then letters, digits, '_' or '-' (ESXi's own ids: sshServer, CIMHttpsServer, ...).
RULESET_ID_RE = re.compile(r"\A[A-Za-z][A-Za-z0-9_-]{0,63}\Z")
# Our file's name inside /etc/vmware/firewall: no directory part, no hidden file.
FILE_NAME_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\.xml\Z")
# The service id attribute: four digits, as in the page's example and ESXi's files.
SERVICE_ID = "0000"

HEADER = b"<!-- Firewall configuration of hpsum.ports (esxi_firewall_rule): SUM callback ports. -->\n"


class Ruleset(t.NamedTuple):
    """What one of our ruleset files says."""

    ruleset_id: str
    ports: t.Tuple[int, ...]
    enabled: bool = True
    required: bool = False


def validate_ports(option: str, values: t.Iterable[t.Any]) -> t.Tuple[int, ...]:
    """Sorted, unique ports; every element validated."""
    return tuple(sorted({checks.port(option, value) for value in values}))


def validate_ruleset_id(option: str, value: t.Any) -> str:
    """A ruleset id of safe characters only."""
    if not isinstance(value, str) or not RULESET_ID_RE.match(value):
        raise option_error(option, value, "is not a ruleset id (a letter, then up to 63 letters, digits, '_' or '-')")
    return value


def validate_file_name(option: str, value: t.Any) -> str:
    """A plain file name ending in .xml: never a path, never another directory."""
    if not isinstance(value, str) or not FILE_NAME_RE.match(value):
        raise option_error(option, value, "is not a plain file name ending in .xml (letters, digits, '_', '-', '.')")
    return value


def validate_addresses(option: str, values: t.Iterable[t.Any]) -> t.Tuple[str, ...]:
    """Sorted, unique, canonical addresses."""
    return tuple(sorted({checks.address(option, value, networks=True, strip=False) for value in values}))


def _element(parent: ET.Element, tag: str, text: str, level: int) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = text
    child.tail = "\n" + "  " * level
    return child


def render(ruleset: Ruleset) -> bytes:
    """The file's bytes: built by ElementTree, parsed back and checked equal to ``ruleset``."""
    validate_ruleset_id("ruleset_id", ruleset.ruleset_id)
    ports = validate_ports("ports", ruleset.ports)
    if not ports:
        raise option_error("ports", list(ruleset.ports), "is empty: a ruleset file needs at least one port")
    root = ET.Element("ConfigRoot")
    root.text = "\n  "
    service = ET.SubElement(root, "service", {"id": SERVICE_ID})
    service.text = "\n    "
    service.tail = "\n"
    _element(service, "id", ruleset.ruleset_id, 2)
    for index, port in enumerate(ports):
        rule = ET.SubElement(service, "rule", {"id": "%04d" % index})
        rule.text = "\n      "
        rule.tail = "\n    "
        _element(rule, "direction", "outbound", 3)
        _element(rule, "protocol", "tcp", 3)
        _element(rule, "porttype", "dst", 3)
        _element(rule, "port", str(port), 2)
    _element(service, "enabled", "true" if ruleset.enabled else "false", 2)
    _element(service, "required", "true" if ruleset.required else "false", 1)
    content = HEADER + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n"
    meant = Ruleset(ruleset.ruleset_id, ports, bool(ruleset.enabled), bool(ruleset.required))
    back = parse(content)
    if back != meant:  # pragma: no cover - ElementTree escapes; this guards the guarantee
        raise SumPortsError("rendered ruleset does not parse back to what was meant", meant=meant, parsed=back)
    return content


def _text(element: ET.Element, tag: str) -> str:
    found = element.findall(tag)
    if len(found) != 1:
        raise SumPortsError("ruleset XML: expected one <%s> in <%s>, found %d" % (tag, element.tag, len(found)))
    return (found[0].text or "").strip()


def _bool(element: ET.Element, tag: str) -> bool:
    value = _text(element, tag)
    if value not in ("true", "false"):
        raise SumPortsError("ruleset XML: <%s> is %r, not true or false" % (tag, value))
    return value == "true"


_SERVICE_TAGS = frozenset(("id", "rule", "enabled", "required"))
_RULE = (("direction", "outbound"), ("protocol", "tcp"), ("porttype", "dst"))


def parse(content: bytes) -> Ruleset:
    """Read one of our ruleset files back; anything that is not exactly our shape raises SumPortsError."""
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        # ESXi's files never carry a DTD; refusing one avoids entity expansion altogether.
        raise SumPortsError("ruleset XML: a DOCTYPE/ENTITY declaration is not allowed")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise SumPortsError("ruleset XML does not parse: %s" % exc) from None
    services = list(root)
    if root.tag != "ConfigRoot" or len(services) != 1 or services[0].tag != "service":
        raise SumPortsError("ruleset XML: expected <ConfigRoot> with one <service>")
    service = services[0]
    unknown = sorted({child.tag for child in service} - _SERVICE_TAGS)
    if unknown:
        raise SumPortsError("ruleset XML: unexpected element(s) in <service>: %s" % ", ".join(unknown))
    ruleset_id = validate_ruleset_id("id", _text(service, "id"))
    ports = []
    for rule in service.findall("rule"):
        for tag, expected in _RULE:
            if _text(rule, tag) != expected:
                raise SumPortsError("ruleset XML: rule <%s> is not %s" % (tag, expected))
        port_text = _text(rule, "port")
        if not re.match(r"\A[0-9]{1,5}\Z", port_text):
            raise SumPortsError("ruleset XML: rule <port> %r is not a number" % port_text)
        ports.append(checks.port("port", int(port_text)))
    return Ruleset(ruleset_id, tuple(sorted(set(ports))), _bool(service, "enabled"), _bool(service, "required"))


def try_parse(content: t.Optional[bytes]) -> t.Optional[Ruleset]:
    """``parse`` that answers None for a missing or foreign/broken file (the module then rewrites it)."""
    if content is None:
        return None
    try:
        return parse(content)
    except SumPortsError:
        return None


def custom_ports(
    ports: t.Iterable[int], default_outbound: t.Iterable[int]
) -> t.Tuple[t.Tuple[int, ...], t.Tuple[int, ...]]:
    """Split callback ports into (those needing a rule, those ESXi already allows outbound)."""
    defaults = frozenset(default_outbound)
    wanted = validate_ports("ports", ports)
    return tuple(p for p in wanted if p not in defaults), tuple(p for p in wanted if p in defaults)
