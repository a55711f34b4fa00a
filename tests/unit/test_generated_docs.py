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


def test_port_matrix_doc_has_the_sum8_page_and_the_differences() -> None:
    text = (ROOT / "docs" / "port-matrix.md").read_text()
    sum8 = text[text.index('"SUM network ports used"'):text.index("## Differences between the pages")]
    for needle in ("| Windows | Windows | 445, 135, 137, 138, 139 | none | 445, 135, 137, 138, 139 | none |",
                   "| Windows or Linux | Linux | 22 | none | 22 | none |",
                   "| Windows or Linux | VMware (SPP 2022.12: remote VMware updates only on Gen9 and previous "
                   "generation servers) | 443, 5989 | HTTP | 443, 5989 | HTTP |",
                   "| Windows or Linux | OA | 22, (80), 443 | none | 22, (80), 443 | none |",
                   "| Windows or Linux | Superdome X | 22, (80), 443 | none | 22, (80), 443 | HTTP, HTTPS |",
                   "| Windows or Linux | iLO, VC, FC switch, SAS switch | 22, (80), 443 | none | 22, (80), 443 "
                   "| HTTP |",
                   "| Windows or Linux | Superdome Flex | 443 | none | 443 | HTTPS |",
                   "between sum_binary and sum_service", "SUM communicates bidirectionally",
                   "high-number port (greater than 1024)"):
        assert needle in sum8, needle
    table = [line for line in sum8.splitlines() if line.startswith("| ")]
    assert len(table) == 8 and not any(name in line for line in table for name in ("Moonshot", "HP-UX", "2/X"))
    differences = text[text.index("## Differences between the pages"):text.index("## Known limits")]
    for needle in ("`superdome_x` with a Linux SUM server, deployment from target: HTTP on the 7.x page (>=7.3.0), "
                   "HTTP, HTTPS from SUM 8 on.", "`superdome_flex` with a Windows SUM server: new from SUM 8 on",
                   "`hpux` with a Linux SUM server: no row from SUM 8 on", "`moonshot` with a Windows SUM server",
                   "`superdome` with a Linux SUM server: no row from SUM 8 on"):
        assert needle in differences, needle
    assert "| 8.0.0 and later | SUM network ports used | `>=8.0.0` |" in text
    assert "8.0.0 as the first version of the SUM 8 page is our reading" in text
