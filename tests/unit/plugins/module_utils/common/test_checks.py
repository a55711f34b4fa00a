"""common.checks: each check's accepted values, its normalised result, and its error naming option and value."""
from __future__ import annotations

import ipaddress
import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.common import checks
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("p", 1), 1),
        (("p", 65535), 65535),
        (("p", " 8080 ", True), 8080),
        (("p", 0), "p: 0 is outside 1-65535"),
        (("p", 65536), "p: 65536 is outside 1-65535"),
        (("p", True), "p: True is not a port number (an integer 1-65535)"),
        (("p", "80"), "p: '80' is not a port number (an integer 1-65535)"),
        (("p", "\u00b2", True), "p: '\u00b2' is not a port number (an integer 1-65535)"),
        (("p", "0", True), "p: 0 is outside 1-65535"),
        (("p", 80.0), "p: 80.0 is not a port number (an integer 1-65535)"),
    ],
)
def test_port(args: t.Tuple[t.Any, ...], expected: t.Any) -> None:
    if isinstance(expected, int):
        assert checks.port(*args) == expected
    else:
        with pytest.raises(SumPortsError) as exc:
            checks.port(*args)
        assert str(exc.value) == expected and exc.value.details["option"] == "p"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"value": " 198.18.0.1 "}, "198.18.0.1"),
        ({"value": "2001:DB8::1"}, "2001:db8::1"),
        ({"value": "198.18.0.0/24", "networks": True}, "198.18.0.0/24"),
        ({"value": "198.18.0.0/24"}, "a: '198.18.0.0/24' is not an IP address ("),
        ({"value": "198.18.0.1/24", "networks": True}, "a: '198.18.0.1/24' is not an IP address or network ("),
        ({"value": "198.18.0.1\n", "strip": False}, "a: '198.18.0.1\\n' is not an IP address ("),
        ({"value": ""}, "a: '' is not an IP address"),
        ({"value": None, "networks": True}, "a: None is not an IP address or network"),
    ],
)
def test_address(kwargs: t.Dict[str, t.Any], expected: str) -> None:
    if not expected.startswith("a: "):
        assert checks.address("a", **kwargs) == expected
    else:
        with pytest.raises(SumPortsError) as exc:
            checks.address("a", **kwargs)
        assert str(exc.value).startswith(expected)


def test_network() -> None:
    assert str(checks.network("n", "198.18.0.1")) == "198.18.0.1/32"
    assert str(checks.network("n", "198.18.0.1/24", strict=False)) == "198.18.0.0/24"
    for bad in ("198.18.0.1/24", 7, "x"):
        with pytest.raises(SumPortsError, match=r"^n: .* is not an IP address or network"):
            checks.network("n", bad)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"direction": "in", "protocol": "tcp", "port": 22, "peers": []}, ("in", "tcp", 22, [])),
        ("x", "r: 'x' is not a mapping"),
        ({"direction": "up", "protocol": "tcp", "port": 22, "peers": []}, "r.direction: 'up' is not one of in, out"),
        ({"direction": "in", "protocol": "icmp", "port": 22, "peers": []}, "r.protocol: 'icmp' is not one of tcp, udp"),
        ({"direction": "in", "protocol": "tcp", "port": 0, "peers": []}, "r.port: 0 is outside 1-65535"),
        ({"direction": "in", "protocol": "tcp", "port": 22, "peers": "a"}, "r.peers: 'a' is not a list"),
    ],
)
def test_plan_rule(rule: t.Any, expected: t.Any) -> None:
    if isinstance(expected, tuple):
        assert checks.plan_rule("r", rule) == expected
    else:
        with pytest.raises(SumPortsError) as exc:
            checks.plan_rule("r", rule)
        assert str(exc.value) == expected


@pytest.mark.parametrize("octets", ["0", "00", "01", "9", "10", "099", "99", "100", "199", "200", "249", "250", "255",
                                    "256", "260", "300", "1000", "+1", " 1", "1 ", "\u0661"])
def test_address_ipv4_text_as_ipaddress_reads_it(octets: str) -> None:
    """The unparsed path for canonical IPv4 text takes exactly what ipaddress gives back unchanged."""
    for text in ("%s.1.2.3" % octets, "1.2.3.%s" % octets, "%s.%s.%s.%s" % ((octets,) * 4), "1.2.3.4\n"):
        try:
            expected = str(ipaddress.ip_address(text.strip()))
        except ValueError:
            expected = None
        try:
            got: t.Optional[str] = checks.address("peers[0]", text)
        except SumPortsError:
            got = None
        assert got == expected, text
