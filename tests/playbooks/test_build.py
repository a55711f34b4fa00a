"""ansible-galaxy collection build produces a tarball that installs, works and tells ansible-builder its needs."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tarfile

import yaml
from ansible_run import run, run_playbook

ROOT = pathlib.Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
VERSION = GALAXY["version"]


def _builder() -> str:
    """ansible-builder of this environment (test-requirements.txt), else the one on PATH."""
    path = os.path.join(os.path.dirname(sys.executable), "ansible-builder")
    found = path if os.path.exists(path) else shutil.which("ansible-builder")
    assert found, "ansible-builder is missing: pip install -r test-requirements.txt"
    return found


def test_build_install_and_use(tmp_path: pathlib.Path) -> None:
    build = run("ansible-galaxy", ["collection", "build", str(ROOT), "--output-path", str(tmp_path)],
                json_output=False, timeout=300)
    assert build.rc == 0, build.stdout + build.stderr
    tarball = tmp_path / ("hpsum-ports-%s.tar.gz" % VERSION)
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "plugins/module_utils/plan/port_matrix.py" in names and "roles/sum_plan/tasks/main.yml" in names
    assert not [n for n in names if n.startswith((".venv", ".collections", "tests/lab/", "bench/", ".git/"))]

    # A config of its own, so the repository's .collections link is not taken for an installed copy.
    collections = tmp_path / "collections"
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\ncollections_path = %s\n" % collections)
    own = {"config": str(cfg), "cwd": str(tmp_path), "json_output": False}
    install = run("ansible-galaxy", ["collection", "install", str(tarball), "-p", str(collections), "--no-deps"],
                  timeout=300, **own)
    assert install.rc == 0, install.stdout + install.stderr
    installed = collections / "ansible_collections" / "hpsum" / "ports"
    doc = run("ansible-doc", ["hpsum.ports.sum_port_facts"], timeout=120, **own)
    assert doc.rc == 0 and str(installed) in doc.stdout, doc.stdout[-2000:] + doc.stderr
    plan = run_playbook("hpsum.ports.plan", str(ROOT / "docs/examples/inventory"),
                        extra_vars={"sum_flows_dir": str(tmp_path / "flows")}, timeout=300, **own)
    assert plan.rc == 0, plan.stdout[-3000:] + plan.stderr[-2000:]
    assert (tmp_path / "flows" / "flows.csv").read_text().count("\n") > 40

    # ansible-builder reads the installed collection's meta/execution-environment.yml.
    introspect = subprocess.run([_builder(), "introspect", "--sanitize", str(collections)], capture_output=True,
                                text=True, timeout=300, cwd=tmp_path)
    assert introspect.returncode == 0, introspect.stdout + introspect.stderr
    needs = yaml.safe_load(introspect.stdout)
    assert [line.split("#")[0].strip() for line in needs["python"]] == ["pywinrm>=0.4.0"], introspect.stdout
    assert [line.split("#")[0].strip() for line in needs["system"]] == [
        "openssh-clients [platform:rpm]", "openssh-client [platform:dpkg]"], introspect.stdout

    # The users' example EE definition (docs/examples) makes a build context around this tarball.
    shutil.copy(ROOT / "docs/examples/execution-environment.yml", tmp_path / "execution-environment.yml")
    shutil.copy(tarball, tmp_path / "hpsum-ports.tar.gz")
    create = subprocess.run([_builder(), "create", "-f", "execution-environment.yml", "--context", "context"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert create.returncode == 0, create.stdout + create.stderr
    galaxy = yaml.safe_load((tmp_path / "context/_build/requirements.yml").read_text())
    assert {c["name"] for c in galaxy["collections"]} == {"/build/hpsum-ports.tar.gz", *GALAXY["dependencies"]}
    assert (tmp_path / "context/_build/build/hpsum-ports.tar.gz").stat().st_size == tarball.stat().st_size
