"""The one way tests and benchmarks run ansible-playbook (and ansible): the repository's
ansible.cfg (hpsum.ports resolves from .collections), the programs next to the running Python,
Ansible's home and temp where the caller says, and results parsed from the ansible.posix.json
callback when asked for.

    from ansible_run import run_playbook
    res = run_playbook("playbooks/plan.yml", "docs/examples/inventory", extra_vars={"x": 1}, home=tmp)
    assert res.rc == 0, res.explain()
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Union

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_CFG = os.path.join(REPO, "ansible.cfg")
BIN = os.path.dirname(sys.executable)


@dataclass
class HostStats:
    """One host's line of the play recap."""

    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0


@dataclass
class Result:
    """What ansible/ansible-playbook did: exit code, raw output, wall time, per-host stats and
    per-task results (the latter two with the json callback)."""

    rc: int
    stdout: str
    stderr: str
    seconds: float = 0.0
    stats: Dict[str, HostStats] = field(default_factory=dict)
    plays: List[Dict[str, Any]] = field(default_factory=list)

    def tasks(self) -> List[Dict[str, Any]]:
        """Every task of every play, in order."""
        return [t for p in self.plays for t in p.get("tasks", [])]

    def results(self, host: str, task: Optional[str] = None) -> List[Dict[str, Any]]:
        """Every result dict of `host` (optionally only of tasks named `task`), in order."""
        out = []
        for t in self.tasks():
            if task is not None and t["task"]["name"] != task:
                continue
            if host in t.get("hosts", {}):
                out.append(t["hosts"][host])
        return out

    def result(self, host: str, task: Optional[str] = None) -> Dict[str, Any]:
        """The last result of `host` (optionally of the task named `task`); KeyError if none."""
        found = self.results(host, task)
        if not found:
            raise KeyError(f"no result for host {host!r}, task {task!r}")
        return found[-1]

    @property
    def changed_hosts(self) -> List[str]:
        """Hosts with a change."""
        return sorted(h for h, s in self.stats.items() if s.changed)

    @property
    def failed_hosts(self) -> List[str]:
        """Hosts that failed or were unreachable."""
        return sorted(h for h, s in self.stats.items() if s.failed or s.unreachable)

    def explain(self) -> str:
        """A short text for assertion messages."""
        return f"rc={self.rc} failed={self.failed_hosts}\n{self.stderr[-3000:]}\n{self.stdout[-3000:]}"


def ansible_env(home: Optional[str] = None, json_output: bool = True, config: Optional[str] = ANSIBLE_CFG,
                extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment: CONFIG (None: keep the caller's), Ansible's home and temp under HOME,
    the json callback (or the configured one), no colour, deprecation warnings or retry files."""
    env = dict(os.environ)
    if config is not None:
        env["ANSIBLE_CONFIG"] = config
    if home is not None:
        env.update({"ANSIBLE_HOME": home, "ANSIBLE_LOCAL_TEMP": os.path.join(home, "tmp")})
    if json_output:
        env.update({"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"})
    env.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_DEPRECATION_WARNINGS": "0",
                "ANSIBLE_RETRY_FILES_ENABLED": "0", "PYTHONUNBUFFERED": "1"})
    if BIN not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    if extra:
        env.update(extra)
    return env


def parse(res: Result) -> Result:
    """Fill stats and plays from the json callback's output (left empty for other output)."""
    start = res.stdout.find("{")
    if start < 0:
        return res
    try:
        data = json.loads(res.stdout[start:])
    except ValueError:
        return res
    res.plays = data.get("plays", [])
    for host, s in data.get("stats", {}).items():
        res.stats[host] = HostStats(ok=s.get("ok", 0), changed=s.get("changed", 0), failed=s.get("failures", 0),
                                    unreachable=s.get("unreachable", 0), skipped=s.get("skipped", 0),
                                    rescued=s.get("rescued", 0), ignored=s.get("ignored", 0))
    return res


def run(program: str, argv: Sequence[str], home: Optional[str] = None, json_output: bool = True,
        config: Optional[str] = ANSIBLE_CFG, env: Optional[Dict[str, str]] = None, cwd: str = REPO,
        timeout: int = 900) -> Result:
    """PROGRAM (ansible-playbook, ansible, ...) from next to the running Python, with ARGV."""
    start = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, program), *argv], cwd=cwd, env=ansible_env(home, json_output, config, env),
                          capture_output=True, text=True, timeout=timeout, check=False)
    res = Result(rc=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, seconds=time.monotonic() - start)
    return parse(res) if json_output else res


def _options(inventory: str, extra_vars: Optional[Dict[str, Any]], check: bool, diff: bool,
             limit: Union[str, Sequence[str], None]) -> List[str]:
    argv = ["-i", inventory]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if limit:
        argv += ["--limit", limit if isinstance(limit, str) else ",".join(limit)]
    return argv


def run_playbook(playbook: str, inventory: str, extra_vars: Optional[Dict[str, Any]] = None, check: bool = False,
                 diff: bool = False, limit: Union[str, Sequence[str], None] = None,
                 tags: Union[str, Sequence[str], None] = None, args: Sequence[str] = (), **options: Any) -> Result:
    """ansible-playbook PLAYBOOK against INVENTORY (paths relative to the repository root are fine);
    ARGS are more options; OPTIONS go to run() (home, json_output, config, env, cwd, timeout)."""
    argv = _options(inventory, extra_vars, check, diff, limit)
    if tags:
        argv += ["--tags", tags if isinstance(tags, str) else ",".join(tags)]
    # a path inside the repository may be given relative to its root; anything else (an absolute
    # path, a collection's playbook such as hpsum.ports.plan) is passed on as it is
    inside = os.path.join(REPO, playbook)
    argv += [*args, inside if not os.path.isabs(playbook) and os.path.exists(inside) else playbook]
    return run("ansible-playbook", argv, **options)


def run_module(module: str, inventory: str, module_args: Union[str, Dict[str, Any], None] = None,
               hosts: str = "all", extra_vars: Optional[Dict[str, Any]] = None, check: bool = False,
               diff: bool = False, limit: Union[str, Sequence[str], None] = None, **options: Any) -> Result:
    """ansible HOSTS -m MODULE -a ARGS (ARGS as a dict is passed as JSON); OPTIONS go to run()."""
    argv = [hosts, "-m", module, *_options(inventory, extra_vars, check, diff, limit)]
    if module_args:
        argv += ["-a", module_args if isinstance(module_args, str) else json.dumps(module_args)]
    return run("ansible", argv, **options)
