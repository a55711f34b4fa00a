# SPDX-License-Identifier: GPL-3.0-or-later
"""The sum_config role (and the sum_ini module under it) on a real lab SUM server.

Runs against the SUM server of the default lab (sum1), or of the lab HPSUM_LAB_FILE names
(tests/lab/labs/config.yml: in-sum). Every file lives in a folder of the
test's own under /var/tmp on the host, removed at the end, so the host is left as it was found.
"""

from __future__ import annotations

import base64
import os
import typing as t
import uuid

import labutil
import pytest

pytestmark = pytest.mark.lab

PLAYBOOK = "tests/integration/playbooks/sum_config.yml"
ROLE = "hpsum.ports.sum_config : "  # the json callback prefixes a role's task names
INI_TASK = ROLE + "Set SUM's HTTP, HTTPS and FTP ports in its ini file"
HANDLER = ROLE + "Tell the user that SUM must be restarted"
REPORT = ROLE + "Record what SUM will listen on"

# A sum.ini with everything that must survive: BOM, CRLF, comments, a commented-out key,
# an unknown section and key, spacing around '=', and no final newline.
SEED = (
    b"\xef\xbb\xbf; sum.ini written by the test\r\n[General]\r\nlanguage = en\r\n\r\n"
    b"[HTTP]\r\n;port=80\r\nport = 63001\r\nssl_port = 63002\r\n\r\n[FTP]\r\nport = disabled"
)
AFTER = (
    b"\xef\xbb\xbf; sum.ini written by the test\r\n[General]\r\nlanguage = en\r\n\r\n"
    b"[HTTP]\r\n;port=80\r\nport = 8080\r\nssl_port = 8443\r\n\r\n[FTP]\r\nport = 2121"
)


@pytest.fixture(scope="module")
def sum_lab() -> labutil.LabInfo:
    """The lab to run on: the default lab, or the one HPSUM_LAB_FILE names."""
    return labutil.require_lab()


@pytest.fixture(scope="module")
def server(sum_lab: labutil.LabInfo) -> str:
    """The lab's (first) SUM server."""
    servers = sum_lab.group("sum_servers")
    assert servers, "the lab has no host in sum_servers"
    return servers[0]


class Remote:
    """Files in a folder of the test's own on the SUM server."""

    def __init__(self, lab: labutil.LabInfo, host: str) -> None:
        self.lab = lab
        self.host = host
        self.dir = f"/var/tmp/hpsum-test-sum-config-{uuid.uuid4().hex[:10]}"

    def run(self, *argv: str) -> str:
        return labutil.host_exec(self.host, list(argv), lab=self.lab, check=True).stdout

    def write(self, name: str, data: bytes) -> str:
        path = f"{self.dir}/{name}"
        script = "import base64,sys; open(sys.argv[1],'wb').write(base64.b64decode(sys.argv[2]))"
        self.run("python3", "-c", script, path, base64.b64encode(data).decode())
        return path

    def read(self, path: str) -> t.Optional[bytes]:
        script = (
            "import base64,sys,os; p=sys.argv[1];"
            " print(base64.b64encode(open(p,'rb').read()).decode() if os.path.exists(p) else '-')"
        )
        out = self.run("python3", "-c", script, path).strip()
        return None if out == "-" else base64.b64decode(out)

    def sha256(self, path: str) -> str:
        return self.run("sha256sum", path).split()[0]

    def listing(self) -> t.List[str]:
        return sorted(self.run("ls", "-A", self.dir).split())


@pytest.fixture
def remote(sum_lab: labutil.LabInfo, server: str) -> t.Iterator[Remote]:
    """A fresh folder on the SUM server, removed afterwards (also when the test fails)."""
    box = Remote(sum_lab, server)
    assert labutil.host_exec(server, ["test", "-e", box.dir], lab=sum_lab).returncode != 0
    box.run("mkdir", "-m", "0755", box.dir)
    try:
        yield box
    finally:
        labutil.host_exec(server, ["rm", "-rf", "--one-file-system", box.dir], lab=sum_lab)
        assert labutil.host_exec(server, ["test", "-e", box.dir], lab=sum_lab).returncode != 0


def play(lab: labutil.LabInfo, server: str, extra: t.Dict[str, t.Any], check: bool = False) -> labutil.Result:
    """The sum_config playbook on the SUM server, with --diff."""
    return labutil.run_playbook(PLAYBOOK, lab.inventory, extra_vars=extra, check=check, diff=True, limit=server)


def plan_vars(path: str, **more: t.Any) -> t.Dict[str, t.Any]:
    """Fleet settings for SUM 8 on 8080/8443 with FTP on 2121, and the ini path."""
    settings = {
        "sum_plan_version": "8.1.0",
        "sum_plan_http_port": 8080,
        "sum_plan_https_port": 8443,
        "sum_plan_ftp_port": 2121,
        "sum_config_ini_path": path,
        "sum_config_backup": False,
    }
    settings.update(more)
    return settings


def test_check_real_check_real(sum_lab: labutil.LabInfo, server: str, remote: Remote) -> None:
    path = remote.write("sum.ini", SEED)
    extra = plan_vars(path)

    first = play(sum_lab, server, extra, check=True)
    assert first.rc == 0, first.explain()
    assert first.result(server, INI_TASK)["changed"] is True
    assert remote.read(path) == SEED, "check mode must not write"
    diff = first.result(server, INI_TASK)["diff"]
    diff = diff[0] if isinstance(diff, list) else diff
    assert diff["before"].encode() == SEED and diff["after"].encode() == AFTER
    assert diff["before_header"] == diff["after_header"] == path

    second = play(sum_lab, server, extra)
    assert second.rc == 0, second.explain()
    assert second.result(server, INI_TASK)["changed"] is True
    assert remote.read(path) == AFTER
    assert second.results(server, HANDLER), "the restart notice must run when the ports changed"
    assert "restart SUM" in second.result(server, HANDLER)["msg"]
    listening = second.result(server, REPORT)["ansible_facts"]["sum_config_listening"]
    assert (listening["http_port"], listening["https_port"], listening["ftp_port"]) == (8080, 8443, 2121)
    assert listening["flavour"] == "sum" and listening["path"] == path

    digest = remote.sha256(path)
    third = play(sum_lab, server, extra, check=True)
    fourth = play(sum_lab, server, extra)
    for run in (third, fourth):
        assert run.rc == 0, run.explain()
        assert run.result(server, INI_TASK)["changed"] is False
        assert not run.results(server, HANDLER)
    assert remote.sha256(path) == digest
    assert remote.listing() == ["sum.ini"]  # no temp or backup file left behind


def test_hpsum_flavour_for_sum_7(sum_lab: labutil.LabInfo, server: str, remote: Remote) -> None:
    path = remote.write("hpsum.ini", b"; HP SUM 7.x\nport=63001\nssl_port=63002\nftp_port=21\n")
    res = play(sum_lab, server, plan_vars(path, sum_plan_version="7.2.1", sum_plan_ftp_port=None))
    assert res.rc == 0, res.explain()
    # FTP off in hpsum.ini: the ftp_port= line goes away (FTP is disabled without it).
    assert remote.read(path) == b"; HP SUM 7.x\nport=8080\nssl_port=8443\n"
    assert res.result(server, INI_TASK)["flavour"] == "hpsum"


def test_bad_value_fails_and_leaves_the_file(sum_lab: labutil.LabInfo, server: str, remote: Remote) -> None:
    path = remote.write("sum.ini", SEED)
    digest = remote.sha256(path)
    bad_plan = {
        "host_role": "sum_server",
        "sum_server_os": "linux",
        "sum_version": "8.1.0",
        "http_port": 70000,
        "https_port": 8443,
        "ftp_port": None,
    }
    res = play(sum_lab, server, {"sum_ports": bad_plan, "sum_config_ini_path": path})
    assert res.rc != 0
    failed = res.result(server, INI_TASK)
    assert failed["failed"] is True and "http_port: 70000 is outside 1-65535" in failed["msg"]
    assert remote.sha256(path) == digest
    assert remote.listing() == ["sum.ini"]


def test_backup_names_the_copy(sum_lab: labutil.LabInfo, server: str, remote: Remote) -> None:
    path = remote.write("sum.ini", SEED)
    res = play(sum_lab, server, plan_vars(path, sum_config_backup=True))
    assert res.rc == 0, res.explain()
    backup = res.result(server, INI_TASK)["backup_file"]
    assert backup.startswith(path) and backup != path
    assert remote.read(backup) == SEED
    assert remote.read(path) == AFTER
    assert sorted(remote.listing()) == sorted(["sum.ini", os.path.basename(backup)])


def test_missing_file_and_create(sum_lab: labutil.LabInfo, server: str, remote: Remote) -> None:
    path = f"{remote.dir}/sum.ini"
    refused = play(sum_lab, server, plan_vars(path))
    assert refused.rc != 0 and "set create: true" in refused.result(server, INI_TASK)["msg"]
    assert remote.read(path) is None

    created = play(sum_lab, server, plan_vars(path, sum_config_create=True))
    assert created.rc == 0, created.explain()
    assert remote.read(path) == b"[HTTP]\nport=8080\nssl_port=8443\n\n[FTP]\nport=2121\n"
    assert remote.run("stat", "-c", "%a", path).strip() == "644"


@pytest.fixture
def service(sum_lab: labutil.LabInfo, server: str) -> t.Iterator[str]:
    """A throwaway service on the SUM server standing in for SUM's (a transient unit), stopped afterwards."""
    unit = f"hpsum-test-sum-{uuid.uuid4().hex[:8]}"
    labutil.host_exec(server, ["systemd-run", "--quiet", "--unit", unit, "sleep", "infinity"], lab=sum_lab, check=True)
    try:
        yield unit
    finally:
        labutil.host_exec(server, ["systemctl", "stop", unit], lab=sum_lab)


def main_pid(lab: labutil.LabInfo, host: str, unit: str) -> str:
    """The unit's main PID (changes when it is restarted)."""
    return labutil.host_exec(host, ["systemctl", "show", "-p", "MainPID", "--value", unit], lab=lab).stdout.strip()


def test_restart_only_when_asked_and_changed(
    sum_lab: labutil.LabInfo, server: str, remote: Remote, service: str
) -> None:
    path = remote.write("sum.ini", SEED)
    extra = plan_vars(path, sum_config_restart=True, sum_config_service_name=service)
    before = main_pid(sum_lab, server, service)

    changed = play(sum_lab, server, extra)
    assert changed.rc == 0, changed.explain()
    assert changed.result(server, ROLE + "Restart SUM (Linux)")["changed"] is True
    assert f"restarting {service}" in changed.result(server, HANDLER)["msg"]
    restarted = main_pid(sum_lab, server, service)
    assert restarted not in ("", "0", before)

    unchanged = play(sum_lab, server, extra)
    assert unchanged.rc == 0, unchanged.explain()
    assert not unchanged.results(server, ROLE + "Restart SUM (Linux)")
    assert main_pid(sum_lab, server, service) == restarted


def test_restart_without_service_name_is_refused(sum_lab: labutil.LabInfo, server: str, remote: Remote) -> None:
    path = remote.write("sum.ini", SEED)
    res = play(sum_lab, server, plan_vars(path, sum_config_restart=True))
    assert res.rc != 0
    assert "sum_config_restart needs sum_config_service_name" in res.result(server)["msg"]
    assert remote.read(path) == SEED


def test_other_hosts_are_left_alone(sum_lab: labutil.LabInfo) -> None:
    nodes = sum_lab.group("linux_nodes")
    assert nodes, "the lab has no Linux node"
    node = nodes[0]
    res = labutil.run_playbook(
        PLAYBOOK,
        sum_lab.inventory,
        extra_vars={"sum_config_test_hosts": node, "sum_config_ini_path": "/nonexistent/sum.ini"},
        limit=node,
    )
    assert res.rc == 0, res.explain()
    assert res.result(node, INI_TASK).get("skipped") is True
    assert res.stats[node].changed == 0


PICK = ROLE + "Pick the ini file"
FAIL_NONE = ROLE + "Fail naming every place looked at when none has the ini file"


def test_sum8_looks_for_sum_ini_and_reports_where(sum_lab: labutil.LabInfo, server: str, remote: Remote) -> None:
    missing = f"{remote.dir}/bin/sum.ini"
    path = remote.write("sum.ini", SEED)
    extra = plan_vars("", sum_config_ini_paths={"linux": {"sum": [missing, path], "hpsum": []}, "windows": {}})
    res = play(sum_lab, server, extra)
    assert res.rc == 0, res.explain()
    assert remote.read(path) == AFTER
    assert res.result(server, INI_TASK)["path"] == path
    listening = res.result(server, REPORT)["ansible_facts"]["sum_config_listening"]
    assert listening["path"] == path and listening["looked_at"] == [missing, path]
    assert listening["path_source"] == "sum_config_ini_paths.linux.sum" and listening["sum_version"] == "8.1.0"

    # the installation's own folder comes first (and a place is looked at once)
    res = play(sum_lab, server, dict(extra, sum_config_install_dir=remote.dir))
    assert res.rc == 0, res.explain()
    listening = res.result(server, REPORT)["ansible_facts"]["sum_config_listening"]
    assert listening["looked_at"] == [path, missing] and listening["path"] == path
    assert listening["path_source"] == "sum_config_install_dir"


def test_no_ini_anywhere_fails_naming_every_place(sum_lab: labutil.LabInfo, server: str, remote: Remote) -> None:
    places = [f"{remote.dir}/a/sum.ini", f"{remote.dir}/b/sum.ini"]
    res = play(sum_lab, server, plan_vars("", sum_config_ini_paths={"linux": {"sum": places}}))
    assert res.rc != 0
    msg = res.result(server, FAIL_NONE)["msg"]
    assert all(place in msg for place in places) and "SUM 8.1.0" in msg and "no sum.ini" in msg
    assert remote.listing() == []
