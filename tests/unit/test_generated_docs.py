"""docs/ tables generated from the data must be current: a stale file fails here."""
from __future__ import annotations

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "tools" / "gen_docs.py")
gen_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_docs)


def test_generated_docs_are_fresh() -> None:
    stale = [str(p.relative_to(ROOT)) for p, text in gen_docs.outputs().items()
             if not p.exists() or p.read_text() != text]
    assert not stale, "stale generated docs %s: run python tools/gen_docs.py" % stale


def test_port_matrix_doc_has_every_row_and_rule() -> None:
    text = (ROOT / "docs" / "port-matrix.md").read_text()
    for needle in ("| Windows | Windows | 445, 135, 137, 138, 139 | HTTP, HTTPS | none |",
                   "| Windows or Linux | VMware | 443, 5989 | HTTP | HTTP |",
                   "| Windows or Linux | OA | 22, (80), 443 | none | none |",
                   "iLO, VC, FC switch, SAS switch, Moonshot, Superdome 2/X | 22, (80), 443 | none | none "
                   "| 22, (80), 443 | HTTP | HTTP |"):
        assert needle in text
    for number in range(1, 10):
        assert "\n%d. " % number in text
