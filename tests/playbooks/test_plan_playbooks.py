"""User-level tests of the plan that need no lab: playbooks run on the controller."""
from __future__ import annotations

import csv
import pathlib
import shutil

import ansible_run
from ansible_run import Result

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent


def _playbook(*args: str, **env: str) -> Result:
    """ansible-playbook ARGS with the configured (human-readable) output."""
    return ansible_run.run("ansible-playbook", args, json_output=False, env=env, timeout=300)


def test_sum_port_facts_through_ansible() -> None:
    run = _playbook("-i", "localhost,", "-c", "local", str(HERE / "sum_port_facts.yml"))
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "failed=0" in run.stdout


def test_plan_yml_on_the_example_inventory(tmp_path: pathlib.Path) -> None:
    run = _playbook("-i", "docs/examples/inventory", "playbooks/plan.yml", "-e", "sum_flows_dir=%s" % tmp_path)
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    rows = list(csv.DictReader((tmp_path / "flows.csv").open()))
    pairs = {(r["source"], r["destination"], r["port"]) for r in rows}
    assert ("sum-win1", "win-app1", "445") in pairs
    assert ("sum-lin1", "esx1", "5989") in pairs
    assert ("esx1", "sum-lin1", "63001") in pairs
    assert ("sum-lin1", "integrity1", "22") in pairs
    assert {r["destination_address"] for r in rows if r["destination"] == "integrity1"} == {"198.18.0.41",
                                                                                           "198.18.0.141"}
    assert not [r for r in rows if "127.0.0.1" in (r["source_address"], r["destination_address"])], "rule 1 stays home"
    request = list(csv.DictReader((tmp_path / "change-request.csv").open()))
    assert len(request) == len(rows) and {r["action"] for r in request} == {"accept"}
    assert {r["expiry"] for r in request} == {""}  # no window deadline given
    esx = [r for r in request if (r["source_name"], r["destination_name"], r["port"]) == ("esx1", "sum-lin1", "63001")]
    assert esx and esx[0]["justification"].startswith("HPE SUM ") and esx[0]["request_id"].startswith("SUM-")
    # the SUM 8 fleet next to it: its page's Superdome rows, no Superdome X HTTPS callback on SUM 7
    assert ("sdx1", "sum-lin8", "63002") in pairs and ("sdflex1", "sum-lin8", "63002") in pairs
    assert ("sum-lin8", "sdflex1", "443") in pairs and ("sum-lin8", "sdflex1", "22") not in pairs
    assert ("superdome1", "sum-lin1", "63002") not in pairs and ("superdome1", "sum-lin1", "63001") in pairs
    assert ("lin-app8", "sum-lin8", "63001") not in pairs
    assert (tmp_path / "flows.md").read_text().startswith("# SUM flows")
    assert (tmp_path / "flows.mmd").read_text().startswith("flowchart LR")
    manual = (tmp_path / "manual-steps.txt").read_text()
    assert "for integrity1 (HP-UX IPFilter)" in manual and "from 198.18.0.10/32 to any port = 22" in manual


def test_sum_plan_role_plans_each_host_and_no_bystander() -> None:
    run = _playbook("-i", str(HERE / "files" / "bystander_inventory.yml"), str(HERE / "sum_plan_role.yml"))
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "failed=0" in run.stdout


def test_plan_yml_without_fact_injection_exports_the_same_flows(tmp_path: pathlib.Path) -> None:
    flows = {}
    for inject in ("True", "False"):
        out = tmp_path / inject
        run = _playbook("-i", "docs/examples/inventory", "playbooks/plan.yml", "-e", "sum_flows_dir=%s" % out,
                        ANSIBLE_INJECT_FACT_VARS=inject)
        assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
        flows[inject] = (out / "flows.csv").read_text()
    assert flows["True"] == flows["False"] and flows["False"].count("\n") > 10


def _planned_inventory(tmp_path: pathlib.Path) -> pathlib.Path:
    """The example inventory with the inventory plugin hpsum.ports.sum_plan after it."""
    directory = tmp_path / "inventory"
    shutil.copytree(ROOT / "docs" / "examples" / "inventory", directory)
    (directory / "zz_sum_plan.yml").write_text("plugin: hpsum.ports.sum_plan\n")
    return directory


def _files(directory: pathlib.Path) -> dict:
    return {p.name: p.read_text() for p in sorted(directory.iterdir())}


def test_plan_yml_uses_the_inventory_s_plans_and_exports_the_same_flows(tmp_path: pathlib.Path) -> None:
    inventory = _planned_inventory(tmp_path)
    plain = _playbook("-i", "docs/examples/inventory", "playbooks/plan.yml",
                      "-e", "sum_flows_dir=%s" % (tmp_path / "a"))
    assert plain.rc == 0, plain.stdout[-4000:] + plain.stderr[-2000:]
    run = _playbook("-v", "-i", str(inventory), "playbooks/plan.yml", "-e", "sum_flows_dir=%s" % (tmp_path / "b"))
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "inventory_plans: true" in run.stdout
    assert _files(tmp_path / "b") == _files(tmp_path / "a")


def test_plan_yml_plans_again_when_the_job_s_settings_differ(tmp_path: pathlib.Path) -> None:
    # As under AWX: the inventory was planned without the job's extra variables.
    inventory = _planned_inventory(tmp_path)
    run = _playbook("-v", "-i", str(inventory), "playbooks/plan.yml", "-e", "sum_flows_dir=%s" % (tmp_path / "f"),
                    "-e", '{"sum_plan_https_port": 63009}', ANSIBLE_INVENTORY_USE_EXTRA_VARS="false")
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "inventory_plans: true" not in run.stdout
    rows = list(csv.DictReader((tmp_path / "f" / "flows.csv").open()))
    assert any(r["port"] == "63009" for r in rows)
