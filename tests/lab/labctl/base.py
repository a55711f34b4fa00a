# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared base root filesystem: one mmdebstrap build per recipe, cached, read-only below
every host's overlay."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from typing import Tuple

from . import files
from .system import FileLock, LabError, log

# HPSUM_LAB_CACHE: another cache folder (bench/lab uses one to time a fresh base build)
CACHE_DIR = os.environ.get("HPSUM_LAB_CACHE", "/var/cache/hpsum-lab")
SUITE = "bookworm"
# Everything the hosts will ever run is baked into the base: they have no network beyond the lab.
# ufw and iptables-persistent conflict (Breaks:), so the base carries ufw and the two
# *-persistent .debs as files; iptables hosts swap ufw for them at their first boot.
PACKAGES = sorted(
    [
        "systemd",
        "systemd-sysv",
        "dbus",
        "libpam-systemd",
        "openssh-server",
        "python3",
        "nftables",
        "iptables",
        "firewalld",
        "ufw",
        "ipset",
        "python3-cap-ng",
        "iproute2",
        "procps",
        "sudo",
        "netcat-openbsd",
        "socat",
        "ca-certificates",
        "iputils-ping",
        "openssl",
        "curl",
        "less",
    ]
)
EXTRA_DEBS = ["iptables-persistent", "netfilter-persistent"]


def customize_hook() -> str:
    """The customisation of the base (files/base/customize.sh, with the extra .debs filled in)."""
    return files.read("base/customize.sh").replace("{debs}", " ".join(EXTRA_DEBS))


def base_hash() -> str:
    """The cache key: suite, package list, extra .debs and the customisation hook."""
    text = "\n".join([SUITE, *PACKAGES, "--debs--", *EXTRA_DEBS, "--hook--", customize_hook()])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_base() -> Tuple[str, float]:
    """The shared base root filesystem, built once per recipe (mmdebstrap) and cached.
    Returns (path, seconds spent building; 0 when reused)."""
    path = os.path.join(CACHE_DIR, "base-" + base_hash())
    done = os.path.join(path, ".hpsl-base-complete")
    if os.path.exists(done):
        return path, 0.0
    os.makedirs(CACHE_DIR, exist_ok=True)
    with FileLock(os.path.join(CACHE_DIR, ".build.lock")):
        if os.path.exists(done):
            return path, 0.0
        if not shutil.which("mmdebstrap"):
            raise LabError("mmdebstrap is missing: apt-get install mmdebstrap (see tests/lab/ci-steps.sh)")
        tmp = path + ".building"
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.exists(path):
            shutil.rmtree(path)
        log(f"building base root filesystem {path} (mmdebstrap {SUITE}, {len(PACKAGES)} packages)")
        start = time.monotonic()
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as hook:
            hook.write(customize_hook())
        try:
            proc = subprocess.run(
                [
                    "mmdebstrap",
                    "--mode=root",
                    "--variant=minbase",
                    "--include=" + ",".join(PACKAGES),
                    f'--customize-hook=sh {hook.name} "$1"',
                    SUITE,
                    tmp,
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
        finally:
            os.unlink(hook.name)
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise LabError("mmdebstrap failed:\n" + proc.stdout[-4000:])
        with open(os.path.join(tmp, ".hpsl-base-complete"), "w") as fh:
            fh.write("\n".join(PACKAGES) + "\n")
        os.rename(tmp, path)
        took = time.monotonic() - start
        log(f"base built in {took:.1f} s")
        return path, took
