"""What the page-restating plan tests share (tests/unit/plugins/module_utils/plan/test_plan.py for the SUM 7.x
page, test_plan_sum8.py for SUM 8 and later): the markers of a cell, the rules as a map, and the expected
rules of one node built from a page restated by hand, never from port_matrix.py."""
from __future__ import annotations

import itertools
import typing as t

SUM = "198.18.0.10"
H, S = "HTTP", "HTTPS"  # SUM's own ports in a cell; "80?" is the page's (80), optional
UDP = {137, 138}
PHASE_SETS = (["inventory"], ["deployment"], ["inventory", "deployment"])
PORT_SETS = ((63001, 63002), (80, 443), (8080, 8443))
RuleMap = t.Dict[t.Tuple[str, str, int], t.Tuple[t.List[str], bool]]


def node_opts(version: str, **kw: t.Any) -> t.Dict[str, t.Any]:
    """sum_port_facts options of a Linux node of SUM, at ``version``, overridden by ``kw``."""
    base = {"host_role": "node", "node_type": "linux", "sum_server_os": "linux", "sum_version": version,
            "peers": [SUM]}
    base.update(kw)
    return base


def expected_node(cell: t.Callable[[str], t.Tuple[t.Sequence[t.Any], t.Sequence[t.Any]]], node_type: str,
                  phases: t.Sequence[str], http: int, https: int) -> RuleMap:
    """(direction, protocol, port) -> (phases, required) from ``cell(phase)`` (to target, from target) of the
    restated page, plus rule 7's HTTPS callback for VMware."""
    out: RuleMap = {}

    def add(direction: str, port: t.Union[int, str], phase: str, required: bool = True) -> None:
        if port == "80?":
            port, required = 80, False
        number = {H: http, S: https}.get(port, port)  # type: ignore[arg-type]
        key = (direction, "udp" if number in UDP else "tcp", number)
        ph, req = out.get(key, ([], False))
        out[key] = (ph + [phase], req or required)

    for phase in phases:
        to, back = cell(phase)
        for port in to:
            add("in", port, phase)
        for port in back:
            add("out", port, phase)
        if node_type == "vmware":
            add("out", S, phase, required=False)
    return out


def mirror(expected: RuleMap) -> RuleMap:
    """A node's expected rules as its SUM server's: each direction turned round."""
    return {("out" if d == "in" else "in", p, n): v for (d, p, n), v in expected.items()}


def as_map(rules: t.Sequence[t.Mapping[str, t.Any]]) -> RuleMap:
    """Plan rules -> (direction, protocol, port) -> (phases, required)."""
    return {(r["direction"], r["protocol"], r["port"]): (r["phases"], r["required"]) for r in rules}


def cells(node_types: t.Iterable[str], versions: t.Iterable[str]) -> t.List[t.Tuple[t.Any, ...]]:
    """Every (server OS, node type, version, phases, ports) the page has a row for (no Linux SUM server updates
    Windows nodes)."""
    return [(os_, nt, ver, phases, ports)
            for os_, nt, ver, phases, ports in itertools.product(("windows", "linux"), node_types, versions,
                                                                 PHASE_SETS, PORT_SETS)
            if not (os_ == "linux" and nt == "windows")]
