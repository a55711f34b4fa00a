# SPDX-License-Identifier: GPL-3.0-or-later
"""The hpsum.ports test lab: booted systemd Debian containers (systemd-nspawn), one network
namespace each, on a bridge, with real firewalls. Run as root through tests/lab/lab
(tests/lab/README.md). Each part does one thing:

  spec       lab files: loading (PyYAML), validation, the lab and host model
  names      the names of everything a lab makes, from the lab and host names
  files      the files hosts and the base get (tests/lab/files/)
  base       the shared base root filesystem (mmdebstrap, cached by recipe)
  network    the lab's bridge
  overlay    each host's own files on top of the base
  host       one host's boot and teardown
  inventory  the Ansible inventory and lab.json
  cli        the commands (up, down, status, inventory, exec, restart, base)
"""

from . import base, files, names, network, spec
from .base import base_hash, ensure_base
from .cli import main
from .inventory import dump_yaml, write_inventory
from .spec import DEFAULT_LAB, REPO, Host, Lab, load_text, relocated, repo_lab_files, vars_comments
from .system import LabError

__all__ = [
    "DEFAULT_LAB",
    "REPO",
    "Host",
    "Lab",
    "LabError",
    "base",
    "base_hash",
    "dump_yaml",
    "ensure_base",
    "files",
    "load_text",
    "main",
    "names",
    "network",
    "relocated",
    "repo_lab_files",
    "spec",
    "vars_comments",
    "write_inventory",
]
