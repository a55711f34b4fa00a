# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host_firewall module: arguments, detection, check/real on replayed nft, every fail_json branch."""

from __future__ import annotations

import pathlib
import typing as t

import pytest
from ansible.module_utils import basic

from ansible_collections.hpsum.ports.plugins.module_utils.apply.linux.base import Runner
from ansible_collections.hpsum.ports.plugins.modules import host_firewall

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "module_utils" / "apply" / "linux" / "fixtures"
RULES = [{"direction": "in", "protocol": "tcp", "port": 22, "peers": ["198.18.0.10"], "phases": ["inventory"],
          "required": True, "reason": "to target: SUM server -> Linux node"}]


class Host:
    """Replays commands by exact argv; which() knows ``commands``; ``programs`` run (none by default)."""

    def __init__(self, table: t.Dict[t.Tuple[str, ...], t.Tuple[int, str, str]], commands: t.Sequence[str]) -> None:
        self.table = table
        self.commands = set(commands)
        self.calls = []  # type: t.List[t.Tuple[str, ...]]
        self.programs = []  # type: t.List[str]

    def run_command(self, module: t.Any, args: t.Sequence[str], **kwargs: t.Any) -> t.Tuple[int, str, str]:
        self.calls.append(tuple(args))
        return self.table[tuple(args)]

    def get_bin_path(self, module: t.Any, name: str, required: bool = False, opt_dirs: t.Any = None) -> t.Optional[str]:
        return "/usr/sbin/" + name if name in self.commands else None


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> t.Callable[..., Host]:
    def make(table: t.Dict[t.Tuple[str, ...], t.Tuple[int, str, str]], commands: t.Sequence[str]) -> Host:
        fake = Host(table, commands)

        def run_command(module: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Tuple[int, str, str]:
            return fake.run_command(module, *args, **kwargs)

        def get_bin_path(module: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Optional[str]:
            return fake.get_bin_path(module, *args, **kwargs)

        monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", get_bin_path)
        monkeypatch.setattr(Runner, "programs", lambda self: set(fake.programs))
        monkeypatch.delenv("SSH_CONNECTION", raising=False)
        monkeypatch.delenv("HPSUM_PORTS_TEST_FAIL", raising=False)
        return fake
    return make


def nft_host(host: t.Callable[..., Host], name: str = "nft_locked.json") -> Host:
    ruleset = (FIXTURES / name).read_text()
    return host({("/usr/sbin/nft", "-j", "list", "ruleset"): (0, ruleset, ""),
                 ("/usr/sbin/nft", "-f", "-"): (0, "", "")}, ["nft"])


def test_check_mode_predicts_and_changes_nothing(
        run_module: t.Any, host: t.Any, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    fake = nft_host(host)
    monkeypatch.setenv("SSH_CONNECTION", "198.18.0.1 41000 198.18.0.15 22")
    args = {"rules": RULES, "backend": "nftables", "nftables_conf": str(tmp_path / "nftables.conf"),
            "restrict": "all_planned"}
    check = run_module(host_firewall.main, args, check_mode=True, diff=True)
    assert check["changed"] and check["backend"] == "nftables"
    assert check["management"] == {"sources": ["198.18.0.1/32"], "port": 22}
    assert "inet filter hpsum_ports_in: hpsum.ports:in:tcp:22:198.18.0.1/32:mgmt" in check["diff"]["after"]
    assert fake.calls == [("/usr/sbin/nft", "-j", "list", "ruleset")]
    assert not (tmp_path / "nftables.conf").exists()


def test_real_run_writes_conf(run_module: t.Any, host: t.Any, tmp_path: pathlib.Path) -> None:
    fake = nft_host(host)
    fake.table[("/usr/sbin/nft", "-c", "-f", "-")] = (0, "", "")
    conf = tmp_path / "nftables.conf"
    conf.write_bytes(b"flush ruleset\n")
    result = run_module(host_firewall.main, {"rules": RULES, "backend": "nftables", "nftables_conf": str(conf)})
    assert result["changed"] and result["files"] == [str(conf)]
    assert conf.read_bytes().startswith(b"flush ruleset\n# BEGIN hpsum.ports")
    assert ("/usr/sbin/nft", "-f", "-") in fake.calls


def test_detects_nftables(run_module: t.Any, host: t.Any) -> None:
    nft_host(host)
    result = run_module(host_firewall.main, {"rules": RULES, "persist": False}, check_mode=True)
    assert result["backend"] == "nftables"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"rules": [{"direction": "in", "port": 22, "peers": ["bad"]}], "backend": "nftables"},
         "rules[0].peers[0]: 'bad' is not an IP address or network"),
        ({"rules": [{"direction": "in", "port": 22}], "backend": "nftables"}, "rules[0].peers: [] leaves in 22/tcp"),
        ({"rules": RULES, "backend": "nftables", "management_port": 0}, "management_port: 0 is outside 1-65535"),
        ({"rules": RULES, "backend": "nftables", "management_sources": ["x"]},
         "management_sources[0]: 'x' is not an IP address"),
        ({"rules": RULES, "backend": "iptables"}, "backend: iptables needs the iptables-save command"),
        ({"rules": [{"direction": "in", "port": 22, "peers": ["::/0"]}], "backend": "nftables"},
         "rules[0].peers: ['::/0'] cover every IPv6 address"),
        ({"rules": [{"direction": "in", "port": 22, "peers": ["fe80::1%eth0"]}], "backend": "nftables"},
         "rules[0].peers[0]: 'fe80::1%eth0' has an IPv6 zone"),
        ({"rules": RULES, "backend": "nftables", "management_sources": ["fe80::1%eth0"]},
         "management_sources[0]: 'fe80::1%eth0' has an IPv6 zone"),
        ({"rules": RULES, "backend": "nftables", "restrict_ports": [0]}, "restrict_ports[0]: 0 is outside 1-65535"),
    ],
)
def test_errors_name_option_and_value(run_module: t.Any, host: t.Any, args: t.Dict[str, t.Any], message: str) -> None:
    nft_host(host)
    failure = run_module(host_firewall.main, args, fails=True)
    assert failure["msg"].startswith(message)
    # check mode fails the same way, before reading anything
    assert run_module(host_firewall.main, args, check_mode=True, fails=True)["msg"] == failure["msg"]


def test_argument_spec_rejects_bad_direction(run_module: t.Any, host: t.Any) -> None:
    nft_host(host)
    failure = run_module(host_firewall.main, {"rules": [{"direction": "up", "port": 1}]}, fails=True)
    assert "direction" in failure["msg"] and "up" in failure["msg"]


def test_no_firewall_found(run_module: t.Any, host: t.Any) -> None:
    host({}, [])
    failure = run_module(host_firewall.main, {"rules": RULES}, fails=True)
    assert failure["msg"].startswith("backend: no firewall found")


def test_command_failure_carries_cmd_and_rc(run_module: t.Any, host: t.Any, tmp_path: pathlib.Path) -> None:
    fake = nft_host(host)
    fake.table[("/usr/sbin/nft", "-f", "-")] = (1, "", "Error: Could not process rule")
    failure = run_module(host_firewall.main, {"rules": RULES, "backend": "nftables", "persist": False}, fails=True)
    assert failure["rc"] == 1 and failure["cmd"] == ["/usr/sbin/nft", "-f", "-"]
    assert "Could not process rule" in failure["msg"]


def test_injected_failure_from_environment(run_module: t.Any, host: t.Any, monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: pathlib.Path) -> None:
    fake = nft_host(host)
    fake.table[("/usr/sbin/nft", "-c", "-f", "-")] = (0, "", "")
    monkeypatch.setenv("HPSUM_PORTS_TEST_FAIL", "after_first_step")
    conf = tmp_path / "nftables.conf"
    conf.write_bytes(b"flush ruleset\n")
    failure = run_module(host_firewall.main, {"rules": RULES, "backend": "nftables", "nftables_conf": str(conf)},
                         fails=True)
    assert "injected failure" in failure["msg"] and conf.read_bytes() == b"flush ruleset\n"
