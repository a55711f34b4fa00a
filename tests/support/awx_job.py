# SPDX-License-Identifier: GPL-3.0-or-later
"""The job as AWX runs it, on this machine: ansible-runner (the package AWX's execution nodes run
every job with) in a private data directory per job, the collection installed from its built
tarball, the inventory synced once through the hpsum.ports.sum_plan inventory plugin, and job
slicing as AWX does it (slice k of N holds the inventory's hosts k-1, k-1+N, ... in name order,
and nothing of the others).

    from awx_job import install_collection, sync_inventory, slice_inventory, Job
    collections = install_collection(work_dir)                  # ansible-galaxy collection build + install
    stored = sync_inventory(["lab/inventory.yml"], work_dir, collections)   # ansible-inventory --list --export
    jobs = [Job(work_dir / f"slice{k}", slice_inventory(stored, k, 2), collections) for k in (1, 2)]
    results = run_parallel([(job, "site", "site.yml", {}) for job in jobs])

Each job's artifacts are runner's: PRIVATE_DATA_DIR/artifacts/IDENT/{stdout, job_events/, status, rc,
command}; the job's reports (the flows, the validation report) are written next to them by
extra variables (REPORT_VARS).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = os.path.dirname(sys.executable)

# The project of the job template (an AWX project is a folder of playbooks): the collection's
# playbooks by their FQCN, as a project that depends on hpsum.ports would run them.
PROJECT_PLAYBOOKS = {
    "site.yml": "hpsum.ports.site",
    "close.yml": "hpsum.ports.close",
    "validate.yml": "hpsum.ports.validate",
}
# Every host's plan as the job sees it, in the job's events (a debug task per host).
PLAN_PLAY = """
- name: Show the plan each host of the job has
  hosts: all
  gather_facts: false
  tasks:
    - name: The plan of this host
      ansible.builtin.debug:
        var: sum_ports
      when: sum_ports is defined
"""
# The project's ansible.cfg (AWX uses a project's own ansible.cfg; it sets nothing of hpsum.ports').
PROJECT_CFG = """[defaults]
host_key_checking = False
interpreter_python = /usr/bin/python3
retry_files_enabled = False
forks = 20

[inventory]
any_unparsed_is_failed = True

[ssh_connection]
pipelining = True
"""
# Where the job's reports go: inside the job's artifacts, next to runner's own files.
REPORT_VARS = {"sum_flows_dir": "{artifacts}/flows", "sum_validate_report_dir": "{artifacts}/sum-validate"}


def _env(extra: t.Optional[t.Mapping[str, str]] = None) -> t.Dict[str, str]:
    """This Python's programs first; no configuration of the repository's own (the job has its project's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def install_collection(work_dir: pathlib.Path) -> pathlib.Path:
    """Build the collection's tarball (ansible-galaxy collection build) and install it into
    WORK_DIR/collections (no dependencies: the ansible package brings them). Returns that path."""
    build = work_dir / "build"
    collections = work_dir / "collections"
    build.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(build), str(REPO)],
                   env=_env(), check=True, capture_output=True, text=True)
    tarball = next(build.glob("hpsum-ports-*.tar.gz"))
    subprocess.run(["ansible-galaxy", "collection", "install", "--force", "--no-deps", "-p", str(collections),
                    str(tarball)], env=_env(), check=True, capture_output=True, text=True)
    return collections


def sync_inventory(sources: t.Sequence[str], work_dir: pathlib.Path, collections: pathlib.Path) -> t.Dict[str, t.Any]:
    """AWX's inventory sync: SOURCES copied into one inventory folder with the sum_plan plugin's
    configuration last, loaded with `ansible-inventory --list --export`; the stored inventory."""
    folder = work_dir / "inventory-source"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for index, source in enumerate(sources):
        shutil.copy(source, folder / ("%02d_%s" % (index, os.path.basename(source))))
    (folder / "zz_sum_plan.yml").write_text("plugin: hpsum.ports.sum_plan\n")
    env = _env({"ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1"})
    proc = subprocess.run(["ansible-inventory", "-i", str(folder), "--list", "--export"], env=env,
                          capture_output=True, text=True, check=False, cwd=str(work_dir))
    if proc.returncode != 0:
        raise RuntimeError("inventory sync failed: %s" % proc.stderr[-2000:])
    return json.loads(proc.stdout)


def inventory_hosts(stored: t.Mapping[str, t.Any]) -> t.List[str]:
    """Every host of a stored inventory, in name order (the order AWX slices in)."""
    return sorted(stored.get("_meta", {}).get("hostvars", {}))


def slice_hosts(stored: t.Mapping[str, t.Any], number: int, count: int) -> t.List[str]:
    """Slice NUMBER of COUNT (1-based): the hosts NUMBER-1, NUMBER-1+COUNT, ... in name order."""
    return inventory_hosts(stored)[number - 1::count]


def slice_inventory(stored: t.Mapping[str, t.Any], number: int, count: int) -> t.Dict[str, t.Any]:
    """The inventory a slice job gets: only its hosts, with their stored variables, and every group's
    variables and children (group all's included), groups listing only the slice's hosts."""
    keep = set(slice_hosts(stored, number, count))
    out: t.Dict[str, t.Any] = {}
    for name, group in stored.items():
        if name == "_meta":
            continue
        group = dict(group)
        if "hosts" in group:
            group["hosts"] = [h for h in group["hosts"] if h in keep]
        out[name] = group
    hostvars = stored.get("_meta", {}).get("hostvars", {})
    out["_meta"] = {"hostvars": {h: v for h, v in hostvars.items() if h in keep}}
    return out


@dataclass
class Run:
    """One finished ansible-runner job: its ident, artifacts folder, rc, status and wall time."""

    ident: str
    artifacts: pathlib.Path
    rc: int
    status: str
    seconds: float
    output: str

    def stdout(self) -> str:
        """The job's stdout as runner stored it."""
        return (self.artifacts / "stdout").read_text(errors="replace")

    def events(self) -> t.List[t.Dict[str, t.Any]]:
        """The job's events (artifacts/IDENT/job_events/*.json), in order."""
        files = sorted((self.artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-", 1)[0]))
        return [json.loads(p.read_text()) for p in files]

    def plans(self) -> t.Dict[str, t.Any]:
        """Every host's plan as the job's PLAN_PLAY showed it."""
        plans = {}
        for event in self.events():
            data = event.get("event_data", {})
            if event.get("event") == "runner_on_ok" and data.get("task") == "The plan of this host":
                plans[data["host"]] = data["res"]["sum_ports"]
        return plans


class Job:
    """A private data directory as AWX prepares one per job: project/, inventory/, env/, artifacts/."""

    def __init__(self, private_data_dir: pathlib.Path, inventory: t.Mapping[str, t.Any], collections: pathlib.Path,
                 forks: int = 20, home: t.Optional[pathlib.Path] = None) -> None:
        """Write the job's project, its inventory (a script printing the stored inventory, as AWX
        writes it) and its environment."""
        self.dir = private_data_dir
        self.forks = forks
        for sub in ("project", "inventory", "env"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        for name, fqcn in PROJECT_PLAYBOOKS.items():
            text = "---\n- name: Run %s\n  ansible.builtin.import_playbook: %s\n" % (fqcn, fqcn)
            if name == "site.yml":
                text += PLAN_PLAY
            (self.dir / "project" / name).write_text(text)
        (self.dir / "project" / "ansible.cfg").write_text(PROJECT_CFG)
        script = self.dir / "inventory" / "hosts"
        script.write_text("#!/bin/sh\ncat <<'HPSUM_INVENTORY'\n%s\nHPSUM_INVENTORY\n" % json.dumps(inventory))
        script.chmod(0o755)
        home = home or self.dir / "ansible-home"
        envvars = {"ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_HOME": str(home),
                   "ANSIBLE_LOCAL_TEMP": str(home / "tmp"), "ANSIBLE_NOCOLOR": "1",
                   "ANSIBLE_DEPRECATION_WARNINGS": "0"}
        (self.dir / "env" / "envvars").write_text(json.dumps(envvars))

    def start(self, ident: str, playbook: str, extra_vars: t.Optional[t.Mapping[str, t.Any]] = None,
              cmdline: str = "") -> t.Tuple[subprocess.Popen, float]:
        """Start `ansible-runner run` for PLAYBOOK of the project as job IDENT; the process and its start time."""
        artifacts = self.dir / "artifacts" / ident
        extra = {k: v.format(artifacts=artifacts) for k, v in REPORT_VARS.items()}
        extra.update(extra_vars or {})
        (self.dir / "env" / "extravars").write_text(json.dumps(extra))
        argv = ["ansible-runner", "run", str(self.dir), "-p", playbook, "--ident", ident, "--forks", str(self.forks)]
        if cmdline:
            argv += ["--cmdline", cmdline]
        proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return proc, time.monotonic()

    def finish(self, ident: str, proc: subprocess.Popen, started: float, timeout: int = 900) -> Run:
        """Wait for a started job; its Run (rc and status from runner's artifacts)."""
        output, _ = proc.communicate(timeout=timeout)
        seconds = time.monotonic() - started
        artifacts = self.dir / "artifacts" / ident
        rc_file, status_file = artifacts / "rc", artifacts / "status"
        rc = int(rc_file.read_text().strip()) if rc_file.exists() else proc.returncode
        status = status_file.read_text().strip() if status_file.exists() else "missing"
        return Run(ident, artifacts, rc, status, seconds, output)

    def run(self, ident: str, playbook: str, extra_vars: t.Optional[t.Mapping[str, t.Any]] = None,
            cmdline: str = "") -> Run:
        """Run one job and wait for it."""
        proc, started = self.start(ident, playbook, extra_vars, cmdline)
        return self.finish(ident, proc, started)


def run_parallel(jobs: t.Sequence[t.Tuple[Job, str, str, t.Optional[t.Mapping[str, t.Any]], str]]
                 ) -> t.Tuple[t.List[Run], float]:
    """Start every (job, ident, playbook, extra_vars, cmdline) at once, as AWX starts a sliced job's
    slices; their Runs and the wall time of the whole."""
    started = time.monotonic()
    running = [(job, ident, *job.start(ident, playbook, extra, cmdline))
               for job, ident, playbook, extra, cmdline in jobs]
    runs = [job.finish(ident, proc, start) for job, ident, proc, start in running]
    return runs, time.monotonic() - started
