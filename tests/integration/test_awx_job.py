# SPDX-License-Identifier: GPL-3.0-or-later
"""The job as AWX runs it (docs/large-fleets.md, "AWX"): site.yml then close.yml under ansible-runner,
the collection installed from its built tarball, the inventory synced once through the
hpsum.ports.sum_plan inventory plugin; once unsliced, then sliced in two as AWX slices (every
second host, each slice job with an inventory of its own hosts only), both slices at once.

Every host ends with the plan the inventory plugin made and the same firewall state as after the
unsliced job; the validation runs in the unsliced job, and refuses to run in a slice, naming the
hosts the slice lacks. Every host is left as found (close.yml; SUM's ini file is written to a
scratch folder on the SUM servers, removed afterwards).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import sys
import typing as t

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))

import awx_job
import firewall_state
import labutil

pytestmark = pytest.mark.lab

SLICES = 2
SCRATCH = "/var/tmp/hpsum-test-awx"
EXTRA = {"sum_config_ini_path": SCRATCH + "/hpsum.ini", "sum_config_create": True, "sum_config_backup": False}
RUNNER_FILES = ("stdout", "job_events", "status", "rc", "command")


def _states(lab: labutil.LabInfo) -> t.Dict[str, t.Dict[str, str]]:
    """Every Linux host's whole firewall state, read from all of them at once."""
    hosts = firewall_state.linux_hosts(lab)
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        return dict(zip(hosts, pool.map(lambda host: firewall_state.state(host, lab), hosts)))


@pytest.fixture(scope="module")
def awx(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[t.Dict[str, t.Any]]:
    """Every job of the module run once: unsliced site and close, sliced site, the guard, sliced close."""
    lab = labutil.require_lab()
    work = tmp_path_factory.mktemp("awx")
    servers = lab.group("sum_servers")
    for server in servers:
        labutil.host_exec(server, ["mkdir", "-p", SCRATCH], lab=lab, check=True)
    collections = awx_job.install_collection(work)
    stored = awx_job.sync_inventory([lab.inventory], work, collections)
    home = work / "ansible-home"
    full = awx_job.Job(work / "unsliced", stored, collections, home=home)
    slices = [awx_job.Job(work / ("slice%d" % k), awx_job.slice_inventory(stored, k, SLICES), collections, home=home)
              for k in range(1, SLICES + 1)]
    out: t.Dict[str, t.Any] = {"lab": lab, "stored": stored, "collections": collections, "slices": slices}
    closed = False
    try:
        out["before"] = _states(lab)
        out["full_site"] = full.run("site", "site.yml", EXTRA)
        out["after_full"] = _states(lab)
        out["full_close"] = full.run("close", "close.yml")
        closed = out["full_close"].rc == 0
        out["sliced_site"], out["sliced_site_wall"] = awx_job.run_parallel(
            [(job, "site", "site.yml", EXTRA, "--skip-tags validate") for job in slices])
        closed = False
        out["after_sliced"] = _states(lab)
        out["guard"] = slices[0].run("validate", "validate.yml")
        out["sliced_close"], out["sliced_close_wall"] = awx_job.run_parallel(
            [(job, "close", "close.yml", None, "") for job in slices])
        closed = all(run.rc == 0 for run in out["sliced_close"])
        out["after_close"] = _states(lab)
        print("\nunsliced: site.yml %.1f s, close.yml %.1f s; %d slices at once: site.yml (no validation) %.1f s "
              "(slices %s), close.yml %.1f s (slices %s); validate.yml refused in a slice in %.1f s"
              % (out["full_site"].seconds, out["full_close"].seconds, SLICES, out["sliced_site_wall"],
                 ", ".join("%.1f s" % r.seconds for r in out["sliced_site"]), out["sliced_close_wall"],
                 ", ".join("%.1f s" % r.seconds for r in out["sliced_close"]), out["guard"].seconds))
        yield out
    finally:
        if not closed:
            full.run("restore", "close.yml")
        for server in servers:
            labutil.host_exec(server, ["rm", "-rf", SCRATCH], lab=lab)


def _assert_runner_artifacts(run: awx_job.Run) -> None:
    assert run.rc == 0 and run.status == "successful", run.output[-3000:]
    present = {p.name for p in run.artifacts.iterdir()}
    assert set(RUNNER_FILES) <= present, present
    assert run.events() and run.events()[-1]["event"] == "playbook_on_stats"
    assert "PLAY RECAP" in run.stdout()


def test_the_collection_comes_from_its_tarball(awx):
    installed = awx["collections"] / "ansible_collections" / "hpsum" / "ports"
    manifest = json.loads((installed / "MANIFEST.json").read_text())
    assert manifest["collection_info"]["namespace"] == "hpsum"
    for run in [awx["full_site"], *awx["sliced_site"]]:
        # runner's record of the job: ansible-playbook on the project's playbook, the installed collection only
        command = json.loads((run.artifacts / "command").read_text())
        assert command["command"][0] == "ansible-playbook" and command["command"][-1] == "site.yml"
        assert command["env"]["ANSIBLE_COLLECTIONS_PATH"] == str(awx["collections"])
        assert "ANSIBLE_CONFIG" not in command["env"]
    assert not installed.is_symlink() and not (installed / "plugins").is_symlink()


def test_unsliced_job_runs_site_and_close_with_the_reports_in_its_artifacts(awx):
    site, close = awx["full_site"], awx["full_close"]
    _assert_runner_artifacts(site)
    _assert_runner_artifacts(close)
    assert {"flows.csv", "flows.md", "change-request.csv"} <= {p.name for p in (site.artifacts / "flows").iterdir()}
    report = json.loads((site.artifacts / "sum-validate" / "sum-validate.json").read_text())
    assert report["paths"], "the unsliced job proved no path"
    # the firewalls changed: the window was open after site.yml, and close.yml closed it
    assert awx["after_full"] != awx["before"]


def test_every_slice_succeeds_with_its_own_hosts_only(awx):
    stored = awx["stored"]
    seen: t.List[str] = []
    for number, run in enumerate(awx["sliced_site"], start=1):
        _assert_runner_artifacts(run)
        mine = awx_job.slice_hosts(stored, number, SLICES)
        recap = [e["event_data"]["ok"] for e in run.events() if e["event"] == "playbook_on_stats"][-1]
        assert set(recap) == set(mine)
        assert (run.artifacts / "flows" / "flows.csv").is_file()  # each slice exports its own hosts' flows
        seen += mine
    assert sorted(seen) == awx_job.inventory_hosts(stored)  # disjoint, and together the whole inventory
    for run in awx["sliced_close"]:
        _assert_runner_artifacts(run)


def test_every_host_has_the_inventory_plugin_s_plan_in_every_job(awx):
    stored = awx["stored"]["_meta"]["hostvars"]
    expected = {host: hvars["sum_ports"] for host, hvars in stored.items() if "sum_ports" in hvars}
    assert expected and set(expected) == set(awx["stored"]["all"]["vars"]["sum_plan_inventory_hosts"])
    assert awx["full_site"].plans() == expected
    sliced: t.Dict[str, t.Any] = {}
    for run in awx["sliced_site"]:
        assert not set(sliced) & set(run.plans())
        sliced.update(run.plans())
    assert sliced == expected


def test_every_host_ends_with_the_unsliced_job_s_firewall_state(awx):
    full, sliced = awx["after_full"], awx["after_sliced"]
    for host in full:
        assert sliced[host] == full[host], "\n".join(firewall_state.differences(full[host], sliced[host]))
    for host, before in awx["before"].items():
        after = awx["after_close"][host]
        assert after == before, "\n".join(firewall_state.differences(before, after))


def test_validation_in_a_slice_fails_early_naming_the_hosts_it_lacks(awx):
    guard = awx["guard"]
    assert guard.rc != 0 and guard.status == "failed"
    stdout = guard.stdout()
    planned = awx["stored"]["all"]["vars"]["sum_plan_inventory_hosts"]
    missing = sorted(set(planned) - set(awx_job.slice_hosts(awx["stored"], 1, SLICES)))
    assert missing
    assert "lacks %d of the %d hosts" % (len(missing), len(planned)) in stdout, stdout[-3000:]
    assert ", ".join(missing) in stdout
    assert "Validate in an unsliced job" in stdout
    # it fails before anything runs: no probe, no listener, no report
    tasks = {e["event_data"].get("task") for e in guard.events() if e["event"] == "runner_on_ok"}
    assert not any(task and task.startswith(("Prove", "Listen")) for task in tasks)
    assert not (guard.artifacts / "sum-validate").exists()
