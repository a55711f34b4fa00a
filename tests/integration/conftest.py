# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the lab tests (tests/integration). The helpers live in labutil.py."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import labutil


@pytest.fixture(scope="session")
def lab() -> labutil.LabInfo:
    """The running lab (the default lab, or the one HPSUM_LAB_FILE names): inventory path, hosts,
    addresses. Skips, saying how to bring it up, when it is not up (or not running as root)."""
    return labutil.require_lab()


@pytest.fixture(scope="session")
def lab_inventory(lab: labutil.LabInfo) -> str:
    """Path of the running lab's Ansible inventory."""
    return lab.inventory
