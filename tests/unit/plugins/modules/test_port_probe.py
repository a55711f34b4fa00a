"""port_probe module: arguments, errors before any connect, results from real loopback sockets."""
from __future__ import annotations

import socket
import typing as t

import pytest

from ansible_collections.hpsum.ports.plugins.modules import port_probe


def test_probes_loopback_and_reports_states(run_module: t.Any) -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(8)
        port = listening.getsockname()[1]
        out = run_module(port_probe.main, {"targets": [
            {"address": "127.0.0.1", "port": port, "id": "a"},
            {"address": "::1", "port": port},
            {"address": "127.0.0.1", "port": 138, "protocol": "udp"},
        ], "timeout": 1}, check_mode=True)
    assert out["changed"] is False
    assert [(r["id"], r["state"]) for r in out["results"]] == [("a", "open"), (None, "closed"), (None, "untested")]
    assert out["summary"] == {"open": 1, "closed": 1, "filtered": 0, "error": 0, "untested": 1}
    assert out["concurrency"] == 128


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"targets": [{"address": "127.0.0.1", "port": 70000}]}, "targets[0].port: 70000 is outside 1-65535"),
        ({"targets": [{"address": " ", "port": 22}]}, "targets[0].address: ' ' is not a host name or an IP address"),
        ({"targets": [], "timeout": 0}, "timeout: 0.0 is outside 0-3600 seconds (exclusive of 0)"),
        ({"targets": [], "concurrency": 0}, "concurrency: 0 is outside 1-65535"),
        ({"targets": [{"address": "127.0.0.1", "port": 22, "protocol": "icmp"}]}, "value of protocol must be one of"),
        ({"targets": [{"port": 22}]}, "missing required arguments: address"),
    ],
)
def test_bad_input_fails_naming_option_and_value(run_module: t.Any, args: dict, message: str) -> None:
    out = run_module(port_probe.main, args, fails=True)
    assert out["failed"] is True
    assert message in out["msg"]
