# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for tests that drive Ansible against the test lab (tests/lab).

Import from tests under tests/integration/:

    from labutil import require_lab, run_playbook, run_module, host_exec, listening, connect

    def test_something():
        lab = require_lab()                      # skips when the lab is not up
        res = run_playbook("playbooks/open.yml", lab.inventory, limit="node-nft", check=True)
        assert res.rc == 0 and res.stats["node-nft"].changed > 0
        with listening("node-nft", 8080, lab=lab):
            assert connect("198.18.0.13", 8080, source="sum1", lab=lab) == "open"

The lab the tests run on is the default lab (tests/lab/labs/default.yml), or the lab file the
environment variable HPSUM_LAB_FILE names (absolute, or relative to the repository root), e.g.

    HPSUM_LAB_FILE=tests/lab/labs/firewall.yml pytest -m lab tests/integration/test_host_firewall.py

This module is the one place that reads it (LAB_FILE).

Ansible runs through tests/support/ansible_run.py (results parsed from the ansible.posix.json
callback). Everything here runs as root (the lab does); Ansible's own state (ANSIBLE_HOME,
ANSIBLE_LOCAL_TEMP) stays inside the lab's folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.join(REPO, "tests", "support") not in sys.path:  # benchmarks import this module too
    sys.path.insert(0, os.path.join(REPO, "tests", "support"))

import ansible_run
from ansible_run import HostStats, Result  # noqa: F401 - part of this module's interface

LAB_TOOL = os.path.join(REPO, "tests", "lab", "lab")
DEFAULT_LAB_FILE = os.path.join(REPO, "tests", "lab", "labs", "default.yml")
LAB_FILE_VARIABLE = "HPSUM_LAB_FILE"

# connect() outcomes
OPEN = "open"  # TCP handshake completed
REFUSED = "refused"  # RST: nothing listening, or an iptables REJECT with tcp-reset
TIMEOUT = "timeout"  # no answer: dropped
UNREACHABLE = "unreachable"  # ICMP host/admin prohibited (EHOSTUNREACH): firewalld's reject
ERROR = "error"  # anything else (the errno name follows after a colon)


@dataclass
class LabInfo:
    """A running lab: its file, inventory path and hosts (from the lab's lab.json record)."""

    file: str
    name: str
    inventory: str
    state_dir: str
    controller_address: str
    hosts: Dict[str, Dict[str, Any]]

    def address(self, host: str) -> str:
        return self.hosts[host]["address"]

    def group(self, group: str) -> List[str]:
        return [h for h, spec in self.hosts.items() if group in spec["groups"]]


# --------------------------------------------------------------------------- the lab


def selected_lab_file(environ: Optional[Dict[str, str]] = None) -> str:
    """The lab file named by HPSUM_LAB_FILE (absolute, or relative to the repository root), else the default lab."""
    name = (os.environ if environ is None else environ).get(LAB_FILE_VARIABLE, "").strip()
    if not name:
        return DEFAULT_LAB_FILE
    return name if os.path.isabs(name) else os.path.join(REPO, name)


LAB_FILE = selected_lab_file()


def lab_info(lab_file: str = LAB_FILE) -> Optional[LabInfo]:
    """The running lab described by `lab_file`, or None when it is not (completely) up."""
    if os.geteuid() != 0:
        return None
    proc = subprocess.run([LAB_TOOL, "inventory", "--lab", lab_file], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    inventory = proc.stdout.strip().splitlines()[-1]
    state_dir = os.path.dirname(inventory)
    with open(os.path.join(state_dir, "lab.json"), encoding="utf-8") as fh:
        rec = json.load(fh)
    return LabInfo(
        file=lab_file,
        name=rec["name"],
        inventory=inventory,
        state_dir=state_dir,
        controller_address=rec["bridge_address"],
        hosts={h["name"]: h for h in rec["hosts"]},
    )


def require_lab(lab_file: str = LAB_FILE) -> LabInfo:
    """The running lab, or pytest.skip with how to bring it up."""
    import pytest  # only tests call this

    info = lab_info(lab_file)
    if info is None:
        rel = os.path.relpath(lab_file, REPO)
        why = "not running as root" if os.geteuid() != 0 else f"lab {rel} is not up"
        pytest.skip(f"{why}: run `sudo tests/lab/lab up --lab {rel}` first (see tests/lab/README.md)")
    return info


def lab_command(command: str, lab_file: str = LAB_FILE, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run `tests/lab/lab COMMAND --lab FILE` (up, down, status, inventory)."""
    return subprocess.run(
        [LAB_TOOL, command, "--lab", lab_file], capture_output=True, text=True, timeout=timeout, check=False
    )


# --------------------------------------------------------------------------- ansible


def _home(inventory: str) -> str:
    """Ansible's home for runs against a lab: inside the lab's own state folder."""
    return os.path.join(os.path.dirname(os.path.abspath(inventory)), "ansible")


def run_playbook(
    playbook: str,
    inventory: str,
    extra_vars: Optional[Dict[str, Any]] = None,
    check: bool = False,
    diff: bool = False,
    limit: Union[str, Sequence[str], None] = None,
    tags: Union[str, Sequence[str], None] = None,
    timeout: int = 900,
    env: Optional[Dict[str, str]] = None,
) -> Result:
    """ansible-playbook PLAYBOOK against a lab INVENTORY (paths relative to the repo root are fine)."""
    return ansible_run.run_playbook(playbook, inventory, extra_vars, check, diff, limit, tags,
                                    home=_home(inventory), timeout=timeout, env=env)


def run_module(
    module: str,
    inventory: str,
    args: Union[str, Dict[str, Any], None] = None,
    hosts: str = "all",
    extra_vars: Optional[Dict[str, Any]] = None,
    check: bool = False,
    diff: bool = False,
    limit: Union[str, Sequence[str], None] = None,
    timeout: int = 300,
    env: Optional[Dict[str, str]] = None,
) -> Result:
    """ansible HOSTS -m MODULE -a ARGS against a lab INVENTORY (ARGS as a dict is passed as JSON)."""
    return ansible_run.run_module(module, inventory, args, hosts, extra_vars, check, diff, limit,
                                  home=_home(inventory), timeout=timeout, env=env)


# --------------------------------------------------------------------------- inside the hosts


def _lab_file(lab: Union[LabInfo, str, None]) -> str:
    if lab is None:
        return LAB_FILE
    return lab.file if isinstance(lab, LabInfo) else lab


def host_exec(
    host: str,
    argv: Sequence[str],
    lab: Union[LabInfo, str, None] = None,
    check: bool = False,
    timeout: int = 120,
    input: Optional[str] = None,
) -> subprocess.CompletedProcess:
    """Run ARGV inside lab host HOST (nsenter into its namespaces; no SSH, so it works whatever
    the host's firewall does). Returns the CompletedProcess (text stdout/stderr)."""
    proc = subprocess.run(
        [LAB_TOOL, "exec", "--lab", _lab_file(lab), host, "--", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{list(argv)} on {host} failed (rc {proc.returncode}): {proc.stderr}{proc.stdout}")
    return proc


def read_file(host: str, path: str, lab: Union[LabInfo, str, None] = None) -> Optional[str]:
    """A file's content inside a lab host, or None when it does not exist."""
    proc = host_exec(host, ["cat", path], lab=lab)
    return proc.stdout if proc.returncode == 0 else None


_LISTENER = (
    "import socket,sys\n"
    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(64)\n"
    "while True:\n"
    "    c,_=s.accept(); c.close()\n"
)


@contextlib.contextmanager
def listening(host: str, port: int, lab: Union[LabInfo, str, None] = None) -> Iterator[str]:
    """A TCP listener on HOST:PORT for the duration of the block (a transient systemd unit inside
    the host, stopped afterwards, so the host is left as it was). Yields the unit name."""
    unit = f"hpsl-test-listener-{port}-{uuid.uuid4().hex[:8]}"
    host_exec(
        host,
        ["systemd-run", "--quiet", "--unit", unit, "--collect", "python3", "-c", _LISTENER, str(port)],
        lab=lab,
        check=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            out = host_exec(host, ["ss", "-Hltn", f"sport = :{port}"], lab=lab).stdout
            if out.strip():
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"listener on {host}:{port} did not start")
            time.sleep(0.1)
        yield unit
    finally:
        host_exec(host, ["systemctl", "stop", unit], lab=lab)


_CONNECT = (
    "import errno,socket,sys\n"
    "s=socket.socket(); s.settimeout(float(sys.argv[3]))\n"
    "try:\n"
    "    s.connect((sys.argv[1], int(sys.argv[2]))); print('open')\n"
    "except ConnectionRefusedError: print('refused')\n"
    "except socket.timeout: print('timeout')\n"
    "except OSError as e:\n"
    "    print('unreachable' if e.errno == errno.EHOSTUNREACH else 'error:' + errno.errorcode.get(e.errno, str(e)))\n"
)


def connect(
    address: str, port: int, source: Optional[str] = None, lab: Union[LabInfo, str, None] = None, timeout: float = 2.0
) -> str:
    """One TCP connect to ADDRESS:PORT from the controller (source None) or from inside lab host
    SOURCE. Returns OPEN, REFUSED, TIMEOUT, UNREACHABLE or 'error:<ERRNO>'."""
    if source is not None:
        proc = host_exec(
            source, ["python3", "-c", _CONNECT, address, str(port), str(timeout)], lab=lab, timeout=int(timeout) + 30
        )
        return proc.stdout.strip() or "error:" + proc.stderr.strip()
    sock = socket.socket()
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
        return OPEN
    except ConnectionRefusedError:
        return REFUSED
    except socket.timeout:
        return TIMEOUT
    except OSError as exc:
        return UNREACHABLE if exc.errno == errno.EHOSTUNREACH else "error:" + errno.errorcode.get(exc.errno, str(exc))
    finally:
        sock.close()


def tls_banner(address: str, port: int, timeout: float = 5.0) -> str:
    """Handshake TLS with ADDRESS:PORT (no verification: lab certificates are self-signed) and
    return what the server sends back to a GET."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((address, port), timeout=timeout) as raw, ctx.wrap_socket(raw) as tls:
        tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
        chunks = []
        while True:
            data = tls.recv(4096)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode(errors="replace")
