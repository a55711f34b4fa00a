"""ansible-galaxy collection build produces a tarball that installs and works."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tarfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.path.dirname(sys.executable)


def test_build_install_and_use(tmp_path: pathlib.Path) -> None:
    build = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path",
                            str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = tmp_path / "hpsum-ports-1.0.0.tar.gz"
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "plugins/module_utils/plan/port_matrix.py" in names and "roles/sum_plan/tasks/main.yml" in names
    assert not [n for n in names if n.startswith((".venv", ".collections", "tests/lab/", "bench/", ".git/"))]

    # A config of its own, so the repository's .collections link is not taken for an installed copy.
    collections = tmp_path / "collections"
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\ncollections_path = %s\n" % collections)
    env = dict(os.environ, ANSIBLE_CONFIG=str(cfg))
    install = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", str(tarball), "-p",
                              str(collections), "--no-deps"], capture_output=True, text=True, timeout=300, env=env,
                             cwd=tmp_path)
    assert install.returncode == 0, install.stdout + install.stderr
    installed = collections / "ansible_collections" / "hpsum" / "ports"
    doc = subprocess.run([os.path.join(BIN, "ansible-doc"), "hpsum.ports.sum_port_facts"], env=env,
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert doc.returncode == 0 and str(installed) in doc.stdout, doc.stdout[-2000:] + doc.stderr
    plan = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(ROOT / "docs/examples/inventory"),
                           "hpsum.ports.plan", "-e", "sum_flows_dir=%s" % (tmp_path / "flows")], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-2000:]
    assert (tmp_path / "flows" / "flows.csv").read_text().count("\n") > 40
