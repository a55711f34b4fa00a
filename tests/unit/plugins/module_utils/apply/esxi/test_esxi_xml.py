"""esxi_xml: validation, rendering and parsing of our ESXi ruleset file, hostile values included."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi import esxi_xml as x
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError


def test_render_matches_the_pages_shape() -> None:
    content = x.render(x.Ruleset("hpsumPorts", (63002, 63001)))
    root = ET.fromstring(content)
    service = root.find("service")
    assert root.tag == "ConfigRoot" and service is not None and service.get("id") == "0000"
    assert service.findtext("id") == "hpsumPorts"
    rules = service.findall("rule")
    assert [r.get("id") for r in rules] == ["0000", "0001"]
    assert [(r.findtext("direction"), r.findtext("protocol"), r.findtext("porttype"), r.findtext("port"))
            for r in rules] == [("outbound", "tcp", "dst", "63001"), ("outbound", "tcp", "dst", "63002")]
    assert service.findtext("enabled") == "true" and service.findtext("required") == "false"
    assert content.startswith(b"<!--") and content.endswith(b"</ConfigRoot>\n")


def test_render_is_stable_and_parses_back() -> None:
    ruleset = x.Ruleset("hpsumPorts", (63001, 63002))
    assert x.render(ruleset) == x.render(x.Ruleset("hpsumPorts", (63002, 63001, 63001)))
    assert x.parse(x.render(ruleset)) == ruleset


@pytest.mark.parametrize(
    ("ruleset", "message"),
    [
        (x.Ruleset("a'b", (1,)), "ruleset_id: \"a'b\" is not a ruleset id"),
        (x.Ruleset("x</id><rule>", (1,)), "ruleset_id: "),
        (x.Ruleset("a&amp;", (1,)), "ruleset_id: "),
        (x.Ruleset("", (1,)), "ruleset_id: '' is not a ruleset id"),
        (x.Ruleset("1abc", (1,)), "ruleset_id: '1abc'"),
        (x.Ruleset("a" * 65, (1,)), "ruleset_id: "),
        (x.Ruleset("ok", (0,)), "ports: 0 is outside 1-65535"),
        (x.Ruleset("ok", (65536,)), "ports: 65536 is outside 1-65535"),
        (x.Ruleset("ok", ("63001</port>",)), "ports: '63001</port>' is not a port number"),  # type: ignore[arg-type]
        (x.Ruleset("ok", (True,)), "ports: True is not a port number"),
        (x.Ruleset("ok", ()), "ports: [] is empty"),
    ],
)
def test_render_refuses_hostile_values(ruleset: x.Ruleset, message: str) -> None:
    with pytest.raises(SumPortsError) as err:
        x.render(ruleset)
    assert str(err.value).startswith(message)


@given(st.text(max_size=40))
def test_no_ruleset_id_injects_markup(value: str) -> None:
    """Any id either is refused or round-trips as one text node."""
    try:
        content = x.render(x.Ruleset(value, (63001,)))
    except SumPortsError:
        return
    assert x.parse(content).ruleset_id == value
    assert ET.fromstring(content).find("service").findtext("id") == value  # type: ignore[union-attr]


@given(st.lists(st.integers(min_value=1, max_value=65535), min_size=1, max_size=10))
def test_any_ports_round_trip(ports: list[int]) -> None:
    assert x.parse(x.render(x.Ruleset("hpsumPorts", tuple(ports)))).ports == tuple(sorted(set(ports)))


GOOD = x.render(x.Ruleset("hpsumPorts", (63001,)))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<ConfigRoot><service", "does not parse"),
        (b"", "does not parse"),
        (b'<!DOCTYPE r [<!ENTITY a "b">]><ConfigRoot/>', "DOCTYPE"),
        (b"<Other/>", "expected <ConfigRoot> with one <service>"),
        (b"<ConfigRoot><service/><service/></ConfigRoot>", "expected <ConfigRoot> with one <service>"),
        (GOOD.replace(b"<required>", b"<evil/><required>"), "unexpected element(s) in <service>: evil"),
        (GOOD.replace(b"outbound", b"inbound"), "rule <direction> is not outbound"),
        (GOOD.replace(b"<protocol>tcp", b"<protocol>udp"), "rule <protocol> is not tcp"),
        (GOOD.replace(b">63001<", b">6x<"), "rule <port> '6x' is not a number"),
        (GOOD.replace(b">63001<", b">\xc2\xb2<"), "is not a number"),
        (GOOD.replace(b">63001<", b">70000<"), "port: 70000 is outside 1-65535"),
        (GOOD.replace(b">hpsumPorts<", b">bad id<"), "id: 'bad id' is not a ruleset id"),
        (GOOD.replace(b"<enabled>true", b"<enabled>yes"), "<enabled> is 'yes'"),
        (GOOD.replace(b"<id>hpsumPorts</id>", b""), "expected one <id> in <service>, found 0"),
    ],
)
def test_parse_refuses_what_is_not_ours(content: bytes, message: str) -> None:
    with pytest.raises(SumPortsError) as err:
        x.parse(content)
    assert message in str(err.value)
    assert x.try_parse(content) is None


def test_try_parse_missing_and_good() -> None:
    assert x.try_parse(None) is None
    assert x.try_parse(GOOD) == x.Ruleset("hpsumPorts", (63001,))


@pytest.mark.parametrize(
    ("value", "ok"),
    [("hpsum_ports.xml", True), ("a.xml", True), ("../x.xml", False), ("/etc/x.xml", False),
     (".hidden.xml", False), ("x.xml.bak", False), ("a b.xml", False), ("service.xml", True)],
)
def test_file_name(value: str, ok: bool) -> None:
    if ok:
        assert x.validate_file_name("file_name", value) == value
    else:
        with pytest.raises(SumPortsError, match=r"^file_name: "):
            x.validate_file_name("file_name", value)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["198.18.0.10", "198.18.0.10"], ("198.18.0.10",)),
        (["198.18.0.0/24", "198.18.0.9"], ("198.18.0.0/24", "198.18.0.9")),
        (["2001:DB8::1"], ("2001:db8::1",)),
    ],
)
def test_addresses(values: list[str], expected: tuple[str, ...]) -> None:
    assert x.validate_addresses("allowed_ips", values) == expected


@pytest.mark.parametrize("value", ["198.18.0.300", "198.18.0.1/24", "host; rm -rf /", 5, "198.18.0.10\n"])
def test_bad_addresses(value: object) -> None:
    with pytest.raises(SumPortsError, match=r"^allowed_ips: "):
        x.validate_addresses("allowed_ips", [value])


@pytest.mark.parametrize(
    ("ports", "custom", "skipped"),
    [
        ([63001, 63002], (63001, 63002), ()),
        ([80, 443], (), (80, 443)),
        ([443, 63001, 5989], (63001,), (443, 5989)),
        ([], (), ()),
    ],
)
def test_custom_ports(ports: list[int], custom: tuple[int, ...], skipped: tuple[int, ...]) -> None:
    assert x.custom_ports(ports, (80, 443, 5989)) == (custom, skipped)
