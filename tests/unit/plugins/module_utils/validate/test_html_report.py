"""validate.html_report: the report as one self-contained page; what a person sees in a real browser."""
from __future__ import annotations

import html.parser
import json
import os
import shutil
import struct
import subprocess
import typing as t
import zlib

from _fleet import fleet, groups_of
from test_report import LISTENERS, SERVERS, _results

from ansible_collections.hpsum.ports.plugins.module_utils.validate import html_report as hr
from ansible_collections.hpsum.ports.plugins.module_utils.validate import report as vr

BROKEN = "sum1>lnx1@198.18.0.101:22/tcp"
OPTIONAL = "sum1>ilo1@198.18.0.103:80/tcp"
RED = (0xC6, 0x28, 0x28)


def _report(overrides: t.Mapping[str, t.Tuple[str, str]]) -> t.Dict[str, t.Any]:
    """A report as sum_validate writes it (through JSON), from the shared test fleet and probe outcomes."""
    plans = fleet()
    paths = vr.plan_paths(plans, SERVERS, groups_of(), list(plans))
    report = vr.build_report(paths, _results(paths, overrides), plans, LISTENERS,
                             {"generated": "2026-12-02T05:00:00Z", "connect_timeout_s": 3})
    return json.loads(json.dumps(report))


class _Page(html.parser.HTMLParser):
    """The parts of the page a test looks at: title, verdict, table cells (class, text), references."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.verdict = ""
        self.cells: t.List[t.Tuple[str, str, str]] = []  # (class, title attribute, text)
        self.references: t.List[str] = []
        self.tags: t.List[str] = []
        self._in: t.Optional[str] = None
        self._svg = False
        self._cell: t.Optional[t.List[str]] = None

    def handle_starttag(self, tag: str, attrs: t.List[t.Tuple[str, t.Optional[str]]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        self.references += [str(v) for k, v in a.items() if k in ("src", "href") and v]
        self._svg = self._svg or tag == "svg"
        if tag == "title" and not self._svg:
            self._in = "title"
        elif a.get("id") == "verdict":
            self._in = "verdict"
        elif tag == "td":
            self._cell = [a.get("class") or "", a.get("title") or "", ""]

    def handle_endtag(self, tag: str) -> None:
        self._svg = self._svg and tag != "svg"
        if tag == "td" and self._cell is not None:
            self.cells.append((self._cell[0], self._cell[1], self._cell[2]))
            self._cell = None
        self._in = None if tag in ("title", "span") else self._in

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "verdict":
            self.verdict += data
        if self._cell is not None:
            self._cell[2] += data


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_failed_report_page() -> None:
    report = _report({BROKEN: ("closed", "refused"), OPTIONAL: ("filtered", "timeout")})
    page = hr.render_html(report)
    seen = _parse(page)
    assert seen.title == "SUM port validation: FAILED" and seen.verdict == "FAILED"
    red = [c for c in seen.cells if c[0] == "failed"]
    assert len(red) == 1 and red[0][2] == "closed" and "sshd" in red[0][1]  # the fix is the cell's tooltip
    amber = [c for c in seen.cells if c[0] == "broken"]
    assert [a[2] for a in amber] == ["filtered (optional)"]
    assert {c[0] for c in seen.cells} == {"node", "failed", "broken", "untested", "open", "none"}
    # One table per group, the broken paths with their fixes, the untested ones.
    assert seen.tags.count("table") == len(report["groups"])
    fix = next(r["fix"] for r in report["paths"] if r["id"] == BROKEN)
    assert 'id="broken"' in page and "198.18.0.101 22/tcp, closed" in page and hr._e(fix) in page
    assert 'id="untested"' in page and "management processor" in page
    # Self-contained: no scripts, no fetched resources.
    assert seen.references == [] and "<script" not in page and "url(" not in page.replace("url(#arrow)", "")


def test_passed_report_and_flows_picture() -> None:
    report = _report({})
    page = hr.render_html(report)
    seen = _parse(page)
    assert seen.verdict == "PASSED" and not [c for c in seen.cells if c[0] in ("failed", "broken")]
    svg = hr.flows_svg(report)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    # A box per SUM server and group; a line per (server, group, direction).
    assert svg.count("<rect") == 1 + len(report["groups"]) - ("sum_servers" in report["groups"])
    assert ">sum1<" in svg and ">web<" in svg and "callback 63001" in svg
    broken = hr.flows_svg(_report({BROKEN: ("closed", "refused")}))
    assert hr.COLOURS["failed"] in broken and "22!" in broken


def test_names_are_escaped() -> None:
    report = _report({})
    report["groups"] = {'<b>"x"</b>': report["groups"]["web"]}
    for row in report["paths"]:
        row["groups"] = ['<b>"x"</b>' if g == "web" else g for g in row["groups"]]
    page = hr.render_html(report)
    assert "<b>" not in page and "&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in page


# ---------------------------------------------------------------- in a real browser

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def _chromium() -> str:
    found = shutil.which("chromium")
    assert found, "Debian's chromium is missing: apt-get install chromium (.ci/run installs it)"
    return found


def _png_pixels(data: bytes) -> t.Tuple[int, int, t.List[bytearray], int]:
    """Width, height, unfiltered rows and bytes per pixel of an 8-bit RGB(A) non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = colour = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _compression, _filter, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: t.List[bytearray] = []
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = row[i - bpp] if i >= bpp else 0
            up = prev[i]
            corner = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                row[i] = (row[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(row)
        prev = row
    return width, height, rows, bpp


def test_a_person_sees_title_verdict_and_a_red_cell(tmp_path: t.Any) -> None:
    """Chromium renders the page: its title and verdict, and the broken path's cell painted red."""
    page = hr.render_html(_report({BROKEN: ("closed", "refused")}))
    # A probe script (test copy only) records what the browser computed for the red cell and where it is.
    probe = ("<script>addEventListener('load',()=>{const c=document.querySelector('td.failed');"
             "const r=c.getBoundingClientRect();const s=getComputedStyle(c);document.body.dataset.seen="
             "JSON.stringify({title:document.title,verdict:document.getElementById('verdict').innerText,"
             "text:c.innerText,bg:s.backgroundColor,x:r.left+r.width/2,y:r.top+r.height/2});});</script>")
    (tmp_path / "report.html").write_text(page)
    (tmp_path / "probe.html").write_text(page.replace("</body>", probe + "</body>"))
    common = [_chromium(), *CHROMIUM_FLAGS, "--window-size=1400,2400"]
    dom = subprocess.run([*common, "--user-data-dir=%s" % (tmp_path / "profile1"), "--dump-dom",
                          (tmp_path / "probe.html").as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    marker = 'data-seen="'
    seen = json.loads(dom.stdout.split(marker, 1)[1].split('"', 1)[0].replace("&quot;", '"'))
    assert seen["title"] == "SUM port validation: FAILED" and seen["verdict"] == "FAILED"
    assert seen["text"] == "closed" and seen["bg"] == "rgb(%d, %d, %d)" % RED
    # The page as painted (the original, without the probe script): that spot is red.
    shot = tmp_path / "report.png"
    paint = subprocess.run([*common, "--user-data-dir=%s" % (tmp_path / "profile2"), "--screenshot=%s" % shot,
                            (tmp_path / "report.html").as_uri()], capture_output=True, text=True, timeout=120,
                           check=False)
    assert paint.returncode == 0 and shot.exists(), paint.stderr[-2000:]
    width, height, rows, bpp = _png_pixels(shot.read_bytes())
    x, y = int(seen["x"]), int(seen["y"])
    assert 0 <= x < width and 0 <= y < height
    # Next to the text, a few pixels left of the cell's centre line: the cell's background.
    samples = [tuple(rows[y + dy][(x + dx) * bpp:(x + dx) * bpp + 3]) for dx in (-24, -20) for dy in (-6, 6)]
    assert all(s == RED for s in samples), samples
    os.remove(shot)
