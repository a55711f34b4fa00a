# SPDX-License-Identifier: GPL-3.0-or-later
"""Units for the lab tool's pure parts (no root, no lab): lab-file loading and validation,
names, the files hosts get, and the inventory it writes. Run: python -m pytest tests/lab"""

from __future__ import annotations

import ipaddress
import json
import os
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import labctl

LABS = labctl.repo_lab_files()


def write(tmp_path, text, name="t.yml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


MINI = """\
---
# a comment
name: mini
subnet: 198.18.0.192/29
bridge: hpsl-mini
vars:
  # kept above the key
  sum_plan_version: "7.2.1"
  flag: true
hosts:
  - name: a
    address: 198.18.0.194
    role: locked
    backend: nftables
    state: locked
    groups: [locked_nodes, extra]
    vars:
      sum_node_type: linux
  - name: b
    address: 198.18.0.195   # trailing comment
    role: management
"""


def test_load_lab_file_text():
    data = labctl.load_text(MINI)
    assert data["name"] == "mini"
    assert data["vars"]["sum_plan_version"] == "7.2.1"
    assert data["vars"]["flag"] is True
    assert labctl.vars_comments(MINI) == {"sum_plan_version": ["# kept above the key"]}
    assert data["hosts"][0]["groups"] == ["locked_nodes", "extra"]
    assert data["hosts"][0]["vars"] == {"sum_node_type": "linux"}
    assert data["hosts"][1] == {"name": "b", "address": "198.18.0.195", "role": "management"}


@pytest.mark.parametrize("text", ["a: 1\n\tb: 2\n", "a:\n  - x\n   - y\n", "just a line\n"])
def test_load_rejects_what_it_does_not_know(text):
    with pytest.raises(labctl.LabError):
        labctl.load_text(text)


def test_dump_yaml_round_trips_through_yaml():
    data = {
        "all": {
            "vars": {"x": "a: b # c", "n": 3, "t": False},
            "hosts": {"h1": {"ansible_host": "198.18.0.10"}, "h2": None},
        }
    }
    text = labctl.dump_yaml(data, {("all", "vars", "x"): ["# why"]})
    assert "# why\n" in text
    back = yaml.safe_load(text)
    assert back["all"]["vars"]["x"] == "a: b # c"
    assert back["all"]["vars"]["n"] == 3 and back["all"]["vars"]["t"] is False
    assert back["all"]["hosts"] == {"h1": {"ansible_host": "198.18.0.10"}, "h2": None}


def test_lab_names_derive_from_lab_and_host(tmp_path):
    lab = labctl.Lab(write(tmp_path, MINI))
    a, b = lab.hosts
    assert (a.machine, a.netns) == ("hpsl-mini-a", "hpsl-mini-a")
    assert a.veth.startswith("hv") and len(a.veth) == 10 and a.veth != b.veth
    assert a.mac.startswith("02:") and len(a.mac) == 17
    assert lab.state_dir == "/var/lib/hpsum-lab/mini"
    assert str(lab.bridge_address) == "198.18.0.193"  # first host address by default
    assert a.groups == ["locked_nodes", "extra"] and b.groups == ["management"]
    assert b.backend == "none" and b.state == "none" and b.tls_ports == [443]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("subnet: 198.18.0.192/29", "subnet: 10.0.0.0/24"), "subnet 10.0.0.0/24 is outside 198.18.0.0/24"),
        (("bridge: hpsl-mini", "bridge: br0"), "bridge 'br0' must be hpsl-"),
        (("address: 198.18.0.195", "address: 198.18.0.199"), "address 198.18.0.199 is not a host address"),
        (("address: 198.18.0.195", "address: 198.18.0.194"), "198.18.0.194 is used twice"),
        (("backend: nftables", "backend: pf"), "backend 'pf' is not one of"),
        (("state: locked", "state: esxi-ish"), "state 'esxi-ish' is not available with backend 'nftables'"),
        (("role: management", "role: boss"), "role 'boss' is not one of"),
        (("- name: b", "- name: B_2"), "host name 'B_2'"),
    ],
)
def test_bad_lab_files_name_the_key_and_the_value(tmp_path, change, message):
    old, new = change
    with pytest.raises(labctl.LabError, match=message.replace("(", r"\(").replace(")", r"\)")):
        labctl.Lab(write(tmp_path, MINI.replace(old, new, 1)))


@pytest.mark.parametrize("path", LABS, ids=[os.path.basename(p) for p in LABS])
def test_every_lab_file_in_the_repo_is_valid(path):
    lab = labctl.Lab(path)
    assert lab.hosts
    assert all(h.address in lab.subnet for h in lab.hosts)


def test_repo_labs_have_own_bridges_and_stay_off_the_default_slice():
    labs = [labctl.Lab(p) for p in LABS]
    bridges = [lab.bridge for lab in labs]
    assert len(set(bridges)) == len(bridges)
    default = next(lab for lab in labs if lab.name == "default")
    assert default.subnet == ipaddress.ip_network("198.18.0.0/26") and default.bridge == "hpsl-default"
    for lab in labs:
        if lab is not default:
            assert not lab.subnet.overlaps(default.subnet), lab.name


def test_repo_labs_can_all_be_up_at_once():
    """Every lab file has its own slice, so no lab's up is refused because another one is up."""
    labs = [labctl.Lab(p) for p in LABS]
    clashes = [
        f"{a.name} {a.subnet} / {b.name} {b.subnet}"
        for i, a in enumerate(labs)
        for b in labs[i + 1 :]
        if a.subnet.overlaps(b.subnet)
    ]
    assert clashes == []
    names = [h.machine for lab in labs for h in lab.hosts]
    assert len(set(names)) == len(names)


def test_default_lab_matches_the_brief():
    lab = labctl.Lab(os.path.join(HERE, "labs", "default.yml"))
    got = {h.name: (str(h.address), h.backend, h.state, h.groups, h.vars.get("sum_node_type")) for h in lab.hosts}
    assert got == {
        "sum1": ("198.18.0.10", "firewalld", "open", ["sum_servers"], None),
        "node-fwd": ("198.18.0.11", "firewalld", "open", ["linux_nodes"], "linux"),
        "node-ufw": ("198.18.0.12", "ufw", "open", ["linux_nodes"], "linux"),
        "node-nft": ("198.18.0.13", "nftables", "open", ["linux_nodes"], "linux"),
        "node-ipt": ("198.18.0.14", "iptables", "open", ["linux_nodes"], "linux"),
        "lock-nft": ("198.18.0.15", "nftables", "locked", ["locked_nodes"], "linux"),
        "lock-ipt": ("198.18.0.16", "iptables", "locked", ["locked_nodes"], "linux"),
        "lock-ufw": ("198.18.0.17", "ufw", "locked", ["locked_nodes"], "linux"),
        "lock-fwd": ("198.18.0.18", "firewalld", "locked", ["locked_nodes"], "linux"),
        "node-mh": ("198.18.0.19", "nftables", "open", ["linux_nodes"], "linux"),
        "esxi1": ("198.18.0.20", "nftables", "esxi", ["esxi_nodes"], "vmware"),
        "ilo1": ("198.18.0.30", "none", "none", ["management"], "ilo"),
        "oa1": ("198.18.0.31", "none", "none", ["management"], "oa"),
        "vc1": ("198.18.0.32", "none", "none", ["management"], "vc"),
        "proxy1": ("198.18.0.33", "nftables", "open", ["validate_proxies"], None),
        "outsider": ("198.18.0.40", "none", "none", ["outsiders"], None),
    }
    assert {h.name: h.tls_ports for h in lab.hosts if h.tls_ports} == {
        "esxi1": [443, 5989],
        "ilo1": [443],
        "oa1": [443],
        "vc1": [443],
    }
    assert lab.hosts[0].vars == {"sum_server_os": "linux"}


def test_inventory_written_from_a_lab(tmp_path):
    lab = labctl.Lab(write(tmp_path, MINI))
    lab.state_dir = str(tmp_path / "state")
    lab.inventory = os.path.join(lab.state_dir, "inventory.yml")
    lab.record = os.path.join(lab.state_dir, "lab.json")
    lab.key = os.path.join(lab.state_dir, "id_ed25519")
    labctl.write_inventory(lab)
    with open(lab.inventory) as fh:
        text = fh.read()
    assert '    # kept above the key\n    sum_plan_version: "7.2.1"\n' in text
    inv = yaml.safe_load(text)["all"]
    assert inv["vars"]["ansible_user"] == "root"
    assert inv["vars"]["ansible_python_interpreter"] == "/usr/bin/python3"
    assert inv["vars"]["ansible_ssh_private_key_file"] == lab.key
    assert inv["hosts"]["a"] == {
        "ansible_host": "198.18.0.194",
        "sum_node_type": "linux",
        "lab_backend": "nftables",
        "lab_state": "locked",
        "lab_role": "locked",
    }
    assert inv["children"] == {
        "locked_nodes": {"hosts": {"a": None}},
        "extra": {"hosts": {"a": None}},
        "management": {"hosts": {"b": None}},
    }
    with open(lab.record) as fh:
        rec = json.load(fh)
    assert [h["name"] for h in rec["hosts"]] == ["a", "b"] and rec["bridge"] == "hpsl-mini"
    mtime = os.stat(lab.inventory).st_mtime_ns
    labctl.write_inventory(lab)  # unchanged content: file not rewritten
    assert os.stat(lab.inventory).st_mtime_ns == mtime


def test_base_cache_key_follows_the_package_list(monkeypatch):
    key = labctl.base_hash()
    assert key == labctl.base_hash()
    monkeypatch.setattr(labctl.base, "PACKAGES", [*labctl.base.PACKAGES, "tcpdump"])
    assert labctl.base_hash() != key


def test_setup_covers_every_backend_state_pair_the_model_allows():
    for backend in labctl.spec.BACKENDS:
        assert any(b == backend for b, _ in labctl.files.SETUP), backend
    nft_locked = labctl.files.nftables_conf("locked", controller="198.18.0.1")
    assert 'ip saddr 198.18.0.1 tcp dport 9999 accept comment "foreign"' in nft_locked
    ipt_locked = labctl.files.iptables_rules("locked")
    assert ":INPUT DROP" in ipt_locked and ":OUTPUT DROP" in ipt_locked
    assert "tcp dport { 80, 443, 5989 } accept" in labctl.files.nftables_conf("esxi", controller="198.18.0.1")


def test_setup_scripts_exist_for_exactly_the_states_the_model_allows():
    pairs = {(b, s) for b, states in labctl.spec.BACKEND_STATES.items() for s in states}
    assert set(labctl.files.SETUP) == pairs
    for backend, state in pairs:
        script = labctl.files.setup_script(backend, state)
        assert script.startswith("set -e\n"), (backend, state)
    assert "netfilter-persistent" in labctl.files.setup_script("iptables", "locked")
    assert "--set-target=DROP" in labctl.files.setup_script("firewalld", "locked")


def test_repo_labs_have_their_own_names():
    labs = [labctl.Lab(p) for p in LABS]
    names = [lab.name for lab in labs]
    assert len(set(names)) == len(names)
    # the molecule scenarios' labs: one per scenario, named after it
    scenarios = sorted(
        d for d in os.listdir(os.path.join(labctl.REPO, "extensions", "molecule"))
        if os.path.isfile(os.path.join(labctl.REPO, "extensions", "molecule", d, "molecule.yml"))
    )
    molecule_labs = sorted(os.path.splitext(os.path.basename(p))[0] for p in LABS if "/labs/molecule/" in p)
    assert molecule_labs == scenarios


def test_a_lab_up_under_a_former_name_is_found_by_its_bridge_and_subnet(tmp_path, monkeypatch):
    monkeypatch.setattr(labctl.names, "STATE_ROOT", str(tmp_path))
    old = labctl.Lab(write(tmp_path, MINI.replace("name: mini", "name: old"), "old.yml"))
    labctl.write_inventory(old)
    lab = labctl.Lab(write(tmp_path, MINI, "renamed.yml"))
    former = lab.former_record()
    assert former is not None and former["name"] == "old"
    again = labctl.Lab.from_record(former)
    assert again.state_dir == old.state_dir and [h.machine for h in again.hosts] == ["hpsl-old-a", "hpsl-old-b"]
    other = labctl.Lab(write(tmp_path, MINI.replace("bridge: hpsl-mini", "bridge: hpsl-other"), "other.yml"))
    assert other.former_record() is None
    labctl.write_inventory(lab)
    assert lab.former_record() is None  # its own record exists: no former one is looked for


def test_relocated_copy_keeps_the_hosts_in_a_slice_of_its_own(tmp_path):
    path = labctl.relocated(labctl.DEFAULT_LAB, "bench", "198.18.0.192/27", "hpsl-bench", str(tmp_path))
    copy, default = labctl.Lab(path), labctl.Lab(labctl.DEFAULT_LAB)
    assert (copy.name, str(copy.subnet), copy.bridge, str(copy.bridge_address)) == (
        "bench", "198.18.0.192/27", "hpsl-bench", "198.18.0.193")
    assert [h.name for h in copy.hosts] == [h.name for h in default.hosts]
    assert [str(h.address) for h in copy.hosts][:2] == ["198.18.0.194", "198.18.0.195"]
    assert [(h.role, h.backend, h.state, h.groups, h.vars) for h in copy.hosts] == [
        (h.role, h.backend, h.state, h.groups, h.vars) for h in default.hosts]
    assert copy.vars == default.vars
