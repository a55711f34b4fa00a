"""ansible-galaxy collection build produces a tarball that installs and works."""
from __future__ import annotations

import pathlib
import tarfile

from ansible_run import run, run_playbook

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_build_install_and_use(tmp_path: pathlib.Path) -> None:
    build = run("ansible-galaxy", ["collection", "build", str(ROOT), "--output-path", str(tmp_path)],
                json_output=False, timeout=300)
    assert build.rc == 0, build.stdout + build.stderr
    tarball = tmp_path / "hpsum-ports-1.0.0.tar.gz"
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
