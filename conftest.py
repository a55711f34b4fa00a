"""Make the repository importable as ansible_collections.hpsum.ports for pytest, and the test
helpers every kind of test shares (tests/support: _fleet, ansible_run) importable by plain name."""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS = os.path.join(ROOT, ".collections")
if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "hpsum", "ports")):
    subprocess.run([os.path.join(ROOT, "tools", "link-collection")], check=True)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
SUPPORT = os.path.join(ROOT, "tests", "support")
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)
