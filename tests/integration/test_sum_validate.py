"""sum_validate against the lab: real TCP paths, real firewalls, real listeners; hosts left as found.

Runs on the default lab, or the lab HPSUM_LAB_FILE names (tests/lab/labs/validation.yml).
The SUM callback ports are opened with playbooks/open.yml (and closed with close.yml) when both
exist, else by hand, runtime-only, and only what was not open already.
"""
from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import typing as t
import xml.etree.ElementTree as ET

import labutil
import pytest

pytestmark = pytest.mark.lab

TEST_TAG = "hpsum-validate-test"
PIDFILE = "/run/hpsum_ports_listener.json"
LISTEN_TASK = "Listen on the callback ports where nothing listens yet"
CALLBACK_PORTS = (63001, 63002)
# Hosts whose starting state lets every planned path work once the SUM server's callback ports
# are open: the locked nodes need the firewall role (open.yml) and are left out without it.
USABLE_STATES = ("open", "esxi", "none")


@pytest.fixture(scope="module")
def vlab() -> labutil.LabInfo:
    return labutil.require_lab()


def _sh(vlab: labutil.LabInfo, host: str, command: str, check: bool = True) -> str:
    return labutil.host_exec(host, ["sh", "-c", command], lab=vlab, check=check).stdout


def _server(vlab: labutil.LabInfo) -> str:
    return vlab.group("sum_servers")[0]


def _hosts(vlab: labutil.LabInfo, role: str, backend: t.Optional[str] = None) -> t.List[str]:
    return [h for h, spec in vlab.hosts.items() if spec["role"] == role and spec["state"] in USABLE_STATES
            and (backend is None or spec["backend"] == backend)]


def _open_playbooks() -> bool:
    return all(os.path.exists(os.path.join(labutil.REPO, "playbooks", p)) for p in ("open.yml", "close.yml"))


def _play_hosts(vlab: labutil.LabInfo) -> t.List[str]:
    roles = ("sum_server", "node", "esxi", "management") + (("locked",) if _open_playbooks() else ())
    return [h for h, spec in vlab.hosts.items() if spec["role"] in roles
            and (_open_playbooks() or spec["state"] in USABLE_STATES)]


@contextlib.contextmanager
def _inventory(vlab: labutil.LabInfo, tmp: str, host_vars: t.Optional[t.Dict[str, t.Dict[str, t.Any]]] = None
               ) -> t.Iterator[str]:
    """An inventory directory: the lab's inventory plus host variables of this test."""
    path = os.path.join(tmp, "inventory")
    os.makedirs(path)
    os.symlink(vlab.inventory, os.path.join(path, "00-lab.yml"))
    if host_vars:
        with open(os.path.join(path, "10-test.yml"), "w", encoding="utf-8") as handle:
            json.dump({"all": {"hosts": host_vars}}, handle)  # JSON is YAML
    yield path


def _env(vlab: labutil.LabInfo) -> t.Dict[str, str]:
    home = os.path.join(vlab.state_dir, "ansible")
    return {"ANSIBLE_HOME": home, "ANSIBLE_LOCAL_TEMP": os.path.join(home, "tmp")}


@contextlib.contextmanager
def _callbacks_open(vlab: labutil.LabInfo, inventory: str, limit: t.Sequence[str]) -> t.Iterator[None]:
    """The SUM server accepts the callback ports and the ESXi node may call out to them; undone after."""
    if _open_playbooks():
        res = labutil.run_playbook("playbooks/open.yml", inventory, limit=list(limit), env=_env(vlab))
        assert res.rc == 0, res.explain()
        try:
            yield
        finally:
            res = labutil.run_playbook("playbooks/close.yml", inventory, limit=list(limit), env=_env(vlab))
            assert res.rc == 0, res.explain()
        return
    undo: t.List[t.Tuple[str, str]] = []
    try:
        server = _server(vlab)
        backend = vlab.hosts[server]["backend"]
        for port in CALLBACK_PORTS:
            if backend == "firewalld":
                if _sh(vlab, server, "firewall-cmd --query-port=%d/tcp || true" % port).strip() != "yes":
                    _sh(vlab, server, "firewall-cmd --add-port=%d/tcp" % port)
                    undo.append((server, "firewall-cmd --remove-port=%d/tcp" % port))
            elif backend == "ufw":
                _sh(vlab, server, "ufw allow %d/tcp comment %s" % (port, TEST_TAG))
                undo.append((server, "ufw delete allow %d/tcp" % port))
            elif vlab.hosts[server]["state"] != "open" and backend != "none":
                pytest.skip("cannot open %s by hand on a %s %s SUM server" % (port, vlab.hosts[server]["state"],
                                                                             backend))
        for esxi in [h for h in _hosts(vlab, "esxi") if h in limit]:
            _sh(vlab, esxi, "nft add rule inet esxi output tcp dport { %s } accept comment %s"
                % (", ".join(map(str, CALLBACK_PORTS)), TEST_TAG))
            undo.append((esxi, _nft_delete("inet esxi output")))
        yield
    finally:
        for host, command in reversed(undo):
            _sh(vlab, host, command)


def _nft_delete(chain: str) -> str:
    """A shell command deleting this test's rules (by handle, found by their comment) from a chain."""
    table_chain = chain.rsplit(" ", 1)
    return ("for h in $(nft -a list chain %s | sed -n 's/.*comment \"%s\".* # handle \\([0-9]*\\)$/\\1/p'); "
            "do nft delete rule %s handle $h; done" % (chain, TEST_TAG, " ".join(table_chain)))


def _fault(vlab: labutil.LabInfo, host: str, rule: str) -> t.Tuple[str, str]:
    """Inject a fault as an input rule in a table of this test's own, hooked before any firewall's
    (a drop or reject in any base chain is final), whatever the host's backend; returns its undo."""
    table = "inet hpsum_validate_test"
    _sh(vlab, host, "nft add table %s && nft add chain %s input '{ type filter hook input priority -300; }' "
                    "&& nft add rule %s input %s" % (table, table, table, rule))
    return host, "nft delete table %s" % table


def _validate(vlab: labutil.LabInfo, inventory: str, limit: t.Sequence[str], report_dir: str, check: bool = False
              ) -> t.Tuple[labutil.Result, t.Dict[str, t.Any]]:
    res = labutil.run_playbook("playbooks/validate.yml", inventory, limit=list(limit), env=_env(vlab), check=check,
                               extra_vars={"sum_validate_report_dir": report_dir, "sum_validate_timeout": 1.5})
    with open(os.path.join(report_dir, "sum-validate.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    return res, report


def _assert_files_and_nothing_left(vlab: labutil.LabInfo, res: labutil.Result, report: t.Dict[str, t.Any],
                                   report_dir: str) -> ET.Element:
    """The three report files parse and agree; the listener's pid is gone and its pidfile too."""
    root = ET.parse(os.path.join(report_dir, "sum-validate.xml")).getroot()
    assert root.tag == "testsuites"
    assert int(root.get("tests")) == report["summary"]["total"]
    assert int(root.get("failures")) == report["summary"]["failed_required"]
    with open(os.path.join(report_dir, "sum-validate.md"), encoding="utf-8") as handle:
        markdown = handle.read()
    for group in report["groups"]:
        assert "## %s" % group in markdown
    server = _server(vlab)
    started = _task_result(res, server, LISTEN_TASK)
    assert started.get("pid"), started
    assert _sh(vlab, server, "test -e /proc/%d && echo alive || echo gone" % started["pid"]).strip() == "gone"
    assert _sh(vlab, server, "test -e %s && echo there || echo absent" % PIDFILE).strip() == "absent"
    return root


def _task_result(res: labutil.Result, host: str, name: str) -> t.Dict[str, t.Any]:
    """The result of the task whose name ends with ``name`` (role tasks carry the role's prefix)."""
    found = [tk["hosts"][host] for tk in res.tasks()
             if tk["task"]["name"].endswith(name) and host in tk.get("hosts", {})]
    assert found, "no result of %r on %s" % (name, host)
    return found[-1]


def _paths(report: t.Mapping[str, t.Any]) -> t.Dict[str, t.Dict[str, t.Any]]:
    return {p["id"]: p for p in report["paths"]}


def _id(src: str, dst: str, address: str, port: int, source: t.Optional[str] = None) -> str:
    return "%s>%s@%s:%d/tcp%s" % (src, dst, address, port, "" if source is None else "<" + source)


def test_all_open_lab_passes(vlab: labutil.LabInfo, tmp_path: t.Any) -> None:
    hosts = _play_hosts(vlab)
    report_dir = str(tmp_path / "report")
    with _inventory(vlab, str(tmp_path)) as inventory, _callbacks_open(vlab, inventory, hosts):
        checked, check_report = _validate(vlab, inventory, hosts, str(tmp_path / "check"), check=True)
        res, report = _validate(vlab, inventory, hosts, report_dir)
    assert res.rc == 0, res.explain()
    assert report["failed"] is False
    _assert_files_and_nothing_left(vlab, res, report, report_dir)
    # check mode proves the same paths for real (probes and listener leave nothing behind)
    assert checked.rc == 0, checked.explain()
    assert {p["id"]: p["state"] for p in check_report["paths"]} == {p["id"]: p["state"] for p in report["paths"]}
    _assert_files_and_nothing_left(vlab, checked, check_report, str(tmp_path / "check"))
    paths = _paths(report)
    server = _server(vlab)
    server_addr = vlab.address(server)
    for path in paths.values():
        if path["testable"] and path["required"]:
            assert path["state"] == "open", path
        if not path["testable"]:
            assert path["state"] == "untested" and path["fix"], path
    for esxi in _hosts(vlab, "esxi"):
        assert paths[_id(esxi, server, server_addr, 63001)]["state"] == "open"
        assert paths[_id(server, esxi, vlab.address(esxi), 5989)]["state"] == "open"
    for mp in _hosts(vlab, "management"):
        http = paths[_id(server, mp, vlab.address(mp), 80)]
        # the stand-ins serve 22 and 443 only: (80) is optional, reported closed, never failing
        assert (http["state"], http["required"], http["failed"]) == ("closed", False, False)
    # a management processor's own callbacks (iLO, VC: HTTP in deployment; OA has none) are never passed
    mp_callbacks = [p for p in paths.values() if p["kind"] == "callback" and p["source"] in _hosts(vlab, "management")]
    assert mp_callbacks
    for callback in mp_callbacks:
        assert callback["state"] == "untested" and "never logged into" in callback["fix"], callback
    loopback = paths[_id(server, server, "127.0.0.1", 63002)]
    assert (loopback["state"], loopback["required"]) == ("open", True)
    assert report["summary"]["open"] >= len(hosts)


def test_broken_paths_get_the_right_state_and_fix(vlab: labutil.LabInfo, tmp_path: t.Any) -> None:
    server = _server(vlab)
    nft_node = _hosts(vlab, "node", "nftables")[0]
    ipt_node = _hosts(vlab, "node", "iptables")[0]
    esxi = _hosts(vlab, "esxi")[0]
    hosts = [server, nft_node, ipt_node, esxi]
    server_addr = vlab.address(server)
    report_dir = str(tmp_path / "report")
    with _inventory(vlab, str(tmp_path)) as inventory, _callbacks_open(vlab, inventory, hosts):
        undo: t.List[t.Tuple[str, str]] = []
        try:
            # 1. a closed callback port: the SUM server resets ipt_node's connects to 63001
            undo.append(_fault(vlab, server, "ip saddr %s tcp dport 63001 reject with tcp reset"
                               % vlab.address(ipt_node)))
            # 2. a filtered node port: nft_node drops SSH from the SUM server (not from the controller)
            undo.append(_fault(vlab, nft_node, "ip saddr %s tcp dport 22 drop" % server_addr))
            # 3. nothing listening: the ESXi node's CIM port
            _sh(vlab, esxi, "systemctl stop hpsl-tls@5989.service")
            undo.append((esxi, "systemctl start hpsl-tls@5989.service"))
            res, report = _validate(vlab, inventory, hosts, report_dir)
        finally:
            for host, command in reversed(undo):
                _sh(vlab, host, command)
    assert res.rc != 0, res.explain()
    assert report["failed"] is True
    root = _assert_files_and_nothing_left(vlab, res, report, report_dir)
    paths = _paths(report)
    closed_cb = paths[_id(ipt_node, server, server_addr, 63001)]
    filtered = paths[_id(server, nft_node, vlab.address(nft_node), 22)]
    nobody = paths[_id(server, esxi, vlab.address(esxi), 5989)]
    assert {p["id"] for p in report["paths"] if p["failed"]} == {closed_cb["id"], filtered["id"], nobody["id"]}
    assert (closed_cb["state"], closed_cb["state_reason"]) == ("closed", "refused")
    assert "was listening on 63001/tcp (port_listener, pid" in closed_cb["fix"]
    assert "the firewall on %s rejects it" % server in closed_cb["fix"]
    assert paths[_id(ipt_node, server, server_addr, 63002)]["state"] == "open"  # only 63001 was rejected
    assert (filtered["state"], filtered["state_reason"]) == ("filtered", "timeout")
    assert "the firewall on %s" % nft_node in filtered["fix"]
    assert "request the flow %s -> %s tcp/22" % (server_addr, vlab.address(nft_node)) in filtered["fix"]
    assert (nobody["state"], nobody["state_reason"]) == ("closed", "refused")
    assert "nothing listens on %s (%s) port 5989/tcp: start CIM over HTTPS" % (esxi, vlab.address(esxi)) \
        in nobody["fix"]
    message = _task_result(res, server, "Fail when a required path is broken")["msg"]
    assert message.startswith("3 required SUM path(s) broken:")
    for path in (closed_cb, filtered, nobody):
        assert path["fix"] in message
    assert "page rule 9" in message
    assert len(root.findall(".//failure")) == 3
    # left as found: the faults are gone again
    assert labutil.connect(vlab.address(esxi), 5989, source=server, lab=vlab) == labutil.OPEN
    assert labutil.connect(vlab.address(nft_node), 22, source=server, lab=vlab) == labutil.OPEN


def _spare_address(vlab: labutil.LabInfo) -> str:
    """An address of the lab's subnet that no lab host uses (the highest free one)."""
    used = {spec["address"] for spec in vlab.hosts.values()} | {vlab.controller_address}
    with open(os.path.join(vlab.state_dir, "lab.json"), encoding="utf-8") as handle:
        subnet = ipaddress.ip_network(json.load(handle)["subnet"])
    for address in reversed(list(subnet.hosts())):
        if str(address) not in used:
            return str(address)
    raise AssertionError("no free address in %s" % subnet)


def test_integrity_node_is_validated_on_both_addresses(vlab: labutil.LabInfo, tmp_path: t.Any) -> None:
    server = _server(vlab)
    node = _hosts(vlab, "node", "nftables")[0]
    mgmt = _spare_address(vlab)
    hosts = [server, node]
    report_dir = str(tmp_path / "report")
    with open(os.path.join(vlab.state_dir, "lab.json"), encoding="utf-8") as handle:
        plen = ipaddress.ip_network(json.load(handle)["subnet"]).prefixlen
    _sh(vlab, node, "ip addr add %s/%d dev eth0" % (mgmt, plen))
    try:
        # Something (SUM, say) already listens on the HTTPS port: reported busy, never taken, and proven.
        with _inventory(vlab, str(tmp_path), {node: {"sum_mgmt_address": mgmt}}) as inventory, \
                _callbacks_open(vlab, inventory, hosts), labutil.listening(server, 63002, lab=vlab):
            res, report = _validate(vlab, inventory, hosts, report_dir)
    finally:
        _sh(vlab, node, "ip addr del %s/%d dev eth0" % (mgmt, plen))
    assert res.rc == 0, res.explain()
    paths = _paths(report)
    server_addr = vlab.address(server)
    to_mgmt = paths[_id(server, node, mgmt, 22)]
    assert (to_mgmt["state"], to_mgmt["address_kind"]) == ("open", "management")
    assert paths[_id(server, node, vlab.address(node), 22)]["state"] == "open"
    for port in CALLBACK_PORTS:  # the <= 7.2.1 column: Linux nodes call back on HTTP and HTTPS
        assert paths[_id(node, server, server_addr, port)]["state"] == "open"
        from_mgmt = paths[_id(node, server, server_addr, port, source=mgmt)]
        assert (from_mgmt["state"], from_mgmt["source_address"]) == ("open", mgmt)
    with open(os.path.join(report_dir, "sum-validate.md"), encoding="utf-8") as handle:
        assert "SUM -> node 22/tcp (mgmt)" in handle.read()
    held = report["listeners"][server]
    assert held["ports"] == [63001]
    assert [b["port"] for b in held["busy"]] == [63002]
    assert any(o["program"].startswith("python3") for o in held["busy"][0]["owners"]), held
    assert paths[_id(node, server, server_addr, 63002)]["listening"].startswith("already in use by python3")
    _assert_files_and_nothing_left(vlab, res, report, report_dir)
    assert mgmt not in _sh(vlab, node, "ip -o addr show dev eth0")


# ---- a proxy for the management processors, and a multi-homed node (lab: validate_proxies, node-mh/va-node-mh)

SECOND_OCTET = 6  # the multi-homed node's second address: the lab subnet's broadcast address minus this


def _mh_and_proxy(vlab: labutil.LabInfo) -> t.Tuple[str, str, str]:
    proxies = vlab.group("validate_proxies")
    multi = [h for h in _hosts(vlab, "node", "nftables") if h.endswith("-mh")]
    mps = [h for h in _hosts(vlab, "management") if vlab.hosts[h]["vars"].get("sum_node_type") == "ilo"]
    if not (proxies and multi and mps):
        pytest.skip("the lab has no proxy host, multi-homed node or iLO stand-in")
    return proxies[0], multi[0], mps[0]


def _subnet(vlab: labutil.LabInfo) -> ipaddress.IPv4Network:
    with open(os.path.join(vlab.state_dir, "lab.json"), encoding="utf-8") as handle:
        return ipaddress.IPv4Network(json.load(handle)["subnet"])


def _second_address(vlab: labutil.LabInfo) -> str:
    return str(_subnet(vlab).broadcast_address - SECOND_OCTET)


def test_proxy_proves_callbacks_and_an_unplanned_source_fails(vlab: labutil.LabInfo, tmp_path: t.Any) -> None:
    server = _server(vlab)
    proxy, multi, ilo = _mh_and_proxy(vlab)
    if vlab.hosts[server]["backend"] != "firewalld":
        pytest.skip("the test lets the proxy through a firewalld SUM server only")
    server_addr, proxy_addr, second = vlab.address(server), vlab.address(proxy), _second_address(vlab)
    prefix = _subnet(vlab).prefixlen
    hosts = [server, multi, ilo]
    host_vars = {ilo: {"sum_validate_proxy": proxy}}
    undo: t.List[t.Tuple[str, str]] = []
    with _inventory(vlab, str(tmp_path), host_vars) as inventory, _callbacks_open(vlab, inventory, hosts):
        try:
            # Nothing by hand for the proxy: with sum_validate_proxy set on the iLO, the SUM server's plan (applied
            # by open.yml above) accepts the proxy's address on the iLO's callback ports.
            if _open_playbooks():
                accepted = _sh(vlab, server, "firewall-cmd --policy hpsum_ports_in --list-rich-rules")
                assert re.search(r'source address="%s(/32)?" port port="63001" protocol="tcp" accept'
                                 % re.escape(proxy_addr), accepted), accepted
            # The multi-homed node: a second address, and a route that makes it the source towards the SUM server.
            _sh(vlab, multi, "ip addr add %s/%d dev eth0 && ip route replace %s/32 dev eth0 src %s"
                % (second, prefix, server_addr, second))
            undo.append((multi, "ip route del %s/32; ip addr del %s/%d dev eth0" % (server_addr, second, prefix)))
            res, report = _validate(vlab, inventory, [*hosts, proxy], str(tmp_path / "mismatch"))
            # The deliberate breaks: the proxy's route to the SUM server removed, the node's route gone too.
            _sh(vlab, proxy, "ip route add blackhole %s/32" % server_addr)
            undo.append((proxy, "ip route del blackhole %s/32" % server_addr))
            _sh(vlab, multi, "ip route del %s/32" % server_addr)
            broken_res, broken = _validate(vlab, inventory, [*hosts, proxy], str(tmp_path / "broken"))
        finally:
            for host, command in reversed(undo):
                _sh(vlab, host, command, check=False)
    # 1. the proxy path, and the source-address mismatch
    paths = _paths(report)
    via = paths[_id(ilo, server, server_addr, 63001)]
    assert (via["state"], via["proxy"], via["probe_host"]) == ("open", proxy, proxy), via
    with open(str(tmp_path / "mismatch" / "sum-validate.md"), encoding="utf-8") as handle:
        markdown = handle.read()
    assert "open (via proxy %s)" % proxy in markdown
    mismatched = paths[_id(multi, server, server_addr, 63001)]
    assert mismatched["local_address"] == second
    assert mismatched["source_mismatch"]["used"] == second
    assert mismatched["source_mismatch"]["planned"] == [vlab.address(multi)]
    assert mismatched["failed"] and report["failed"] and res.rc != 0
    assert "plan %s as %s's management address (sum_mgmt_address: %s" % (second, multi, second) in mismatched["fix"]
    assert "route %s's traffic to %s from %s" % (multi, server_addr, vlab.address(multi)) in mismatched["fix"]
    assert "from %s (not planned)" % second in markdown
    # 2. the breaks: the proxy's callback fails with the proxy's fix; the node is right again
    paths = _paths(broken)
    via = paths[_id(ilo, server, server_addr, 63001)]
    assert (via["state"], via["state_reason"], via["failed"]) == ("filtered", "blackhole route", True), via
    assert via["fix"].startswith("%s, standing in for %s, cannot send to %s (%s) itself (blackhole route): fix the "
                                 "routing or policy on %s" % (proxy, ilo, server, server_addr, proxy)), via["fix"]
    fixed = paths[_id(multi, server, server_addr, 63001)]
    assert (fixed["state"], fixed["source_mismatch"], fixed["local_address"]) == ("open", None, vlab.address(multi))
    assert broken_res.rc != 0 and broken["failed"]
    message = _task_result(broken_res, server, "Fail when a required path is broken")["msg"]
    assert "filtered (via proxy %s)" % proxy in message
