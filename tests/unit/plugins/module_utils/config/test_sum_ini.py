# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ini logic: byte-exact round trips, one-line edits, every error, and a property test."""

from __future__ import annotations

import pathlib
import typing as t

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.config import sum_ini

FIXTURES = pathlib.Path(__file__).resolve().parents[4] / "unit" / "fixtures" / "ini"
DUPLICATES = {"duplicate_hpsum.ini", "duplicate_sum.ini"}
CORPUS = sorted(p.name for p in FIXTURES.glob("*.ini") if p.name not in DUPLICATES)


def fixture(name: str) -> bytes:
    """A corpus file's bytes."""
    return (FIXTURES / name).read_bytes()


def compute(data: t.Optional[bytes], path: str = "/etc/sum/sum.ini", **params: t.Any) -> t.Dict[str, t.Any]:
    """sum_ini.compute with keyword params."""
    return sum_ini.compute(path, data, params)


def line_spans(data: bytes) -> t.List[t.Tuple[int, int, int]]:
    """(start, end of text, end with line end) of every line, in bytes, the BOM excluded."""
    ini = sum_ini.IniFile.parse("x", data)
    pos = len(sum_ini.BOM) if ini.bom else 0
    spans = []
    for line in ini.lines:
        text = len(line.text.encode("utf-8", "surrogateescape"))
        spans.append((pos, pos + text, pos + text + len(line.eol)))
        pos += text + len(line.eol)
    return spans


def common_prefix(first: bytes, second: bytes) -> int:
    """Length of the common prefix of two byte strings."""
    size = 0
    for one, two in zip(first, second):
        if one != two:
            break
        size += 1
    return size


def changed_region(before: bytes, after: bytes) -> t.Tuple[int, int, int]:
    """The one differing region: common prefix p, then before[p:b_end] became after[p:a_end]."""
    limit = min(len(before), len(after))
    p = 0
    while p < limit and before[p] == after[p]:
        p += 1
    s = 0
    while s < limit - p and before[-1 - s] == after[-1 - s]:
        s += 1
    return p, len(before) - s, len(after) - s


def assert_one_line_edit(before: bytes, after: bytes, section: t.Optional[str], key: str, value: t.Optional[str]):
    """The bytes outside the edited line are identical; an insertion adds whole lines and nothing else."""
    old = sum_ini.IniFile.parse("x", before)
    new = sum_ini.IniFile.parse("x", after)
    index = old.find(section, key)
    p, b_end, _a_end = changed_region(before, after)
    if before == after:
        assert (index is None and value is None) or old.get(section, key) == value
        return
    if index is not None:
        start, text_end, end = line_spans(before)[index]
        if value is None:  # removal: exactly that line's bytes went away
            assert after == before[:start] + before[end:]
        else:  # change: only inside the line's text; its line end and everything else kept
            assert start <= p and b_end <= text_end
            assert len(new.lines) == len(old.lines)
            assert new.lines[index].eol == old.lines[index].eol
            assert (
                new.lines[index].text[: new.lines[index].value_start]
                == old.lines[index].text[: old.lines[index].value_start]
            )
    else:  # insertion: after is before with one block of bytes put in, and that block holds the key
        assert value is not None
        assert b_end == p, "an insertion must not alter existing bytes"
        grown = len(after) - len(before)
        prefix = common_prefix(before, after)
        suffix = common_prefix(before[::-1], after[::-1])
        # Every k with after == before[:k] + block + before[k:] (a repeated byte makes k ambiguous).
        splits = range(max(0, len(before) - suffix), min(prefix, len(before)) + 1)
        assert splits, "after is not before with one block inserted"
        assert any(key.encode() in after[k : k + grown] for k in splits)
    # Every other key reads back the same, in the same order.
    others_old = [(sum_ini._fold(line.section), line.key, line.value) for line in old.lines if line.kind == "key"]
    others_new = [(sum_ini._fold(line.section), line.key, line.value) for line in new.lines if line.kind == "key"]
    edited = (sum_ini._fold(section), sum_ini._fold(key))

    def drop(rows: t.List[t.Tuple[t.Any, ...]]) -> t.List[t.Tuple[t.Any, ...]]:
        return [r for r in rows if (r[0], sum_ini._fold(r[1])) != edited]

    assert drop(others_new) == drop(others_old)
    assert new.get(section, key) == value


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", CORPUS)
def test_round_trip_is_byte_exact(name: str) -> None:
    data = fixture(name)
    assert sum_ini.IniFile.parse(name, data).to_bytes() == data


@pytest.mark.parametrize("name", CORPUS)
def test_no_op_leaves_every_byte(name: str) -> None:
    data = fixture(name)
    flavour = "hpsum" if "hpsum" in name else "sum"
    outcome = compute(data, flavour=flavour)
    assert outcome["after"] == data
    assert outcome["changed"] is False


# --------------------------------------------------------------------------- the corpus, edit by edit

EDITS = [
    ("http_port", 80),
    ("https_port", 443),
    ("ftp_port", 2121),
    ("ftp_port", "disabled"),
    ("http_port", 63001),
]


@pytest.mark.parametrize("name", CORPUS)
@pytest.mark.parametrize("flavour", ["hpsum", "sum"])
@pytest.mark.parametrize(("option", "value"), EDITS)
def test_corpus_edit_touches_only_its_line(name: str, flavour: str, option: str, value: t.Any) -> None:
    data = fixture(name)
    outcome = compute(data, flavour=flavour, **{option: value})
    section, key = sum_ini.NAMED_KEYS[flavour][option]
    expected: t.Optional[str] = str(value)
    if value == "disabled":
        expected = None if flavour == "hpsum" else "disabled"
    assert_one_line_edit(data, outcome["after"], section, key, expected)
    # A second run on the result changes nothing.
    again = compute(outcome["after"], flavour=flavour, **{option: value})
    assert again["changed"] is False
    assert again["after"] == outcome["after"]


@pytest.mark.parametrize("name", CORPUS)
def test_raw_setting_and_removal(name: str) -> None:
    data = fixture(name)
    set_out = compute(data, flavour="sum", settings=[{"section": "Extra", "key": "colour", "value": "blue"}])
    assert_one_line_edit(data, set_out["after"], "Extra", "colour", "blue")
    gone = compute(set_out["after"], flavour="sum", settings=[{"section": "extra", "key": "COLOUR", "state": "absent"}])
    assert_one_line_edit(set_out["after"], gone["after"], "Extra", "colour", None)


# --------------------------------------------------------------------------- exact results

EXACT = [
    (
        "hpsum_plain.ini",
        dict(http_port=80, https_port=443),
        b"; hpsum.ini: HP SUM 7.x settings\n; edit port= and ssl_port= to move SUM\nport=80\nssl_port=443\n",
    ),
    (
        "hpsum_crlf_bom.ini",
        dict(http_port=80, ftp_port=2121),
        b"\xef\xbb\xbf; HP SUM settings\r\n;port=80\r\n# ssl_port=443\r\n\r\n"
        b"port=80\r\nssl_port=63002\r\nlog_level=3\r\nftp_port=2121\r\n",
    ),
    (
        "hpsum_no_final_newline.ini",
        dict(ftp_port=21),
        b"# no newline at the end\nport=63001\nssl_port=63002\nftp_port=21",
    ),
    (
        "hpsum_spacing.ini",
        dict(http_port=8080, https_port=8443),
        b"port = 8080\nssl_port=\t8443  \nUnknownKey   =   keep me as I am\n  indented=yes\nbare line without equals\n",
    ),
    (
        "hpsum_only_comments.ini",
        dict(http_port=80, flavour="hpsum"),
        b"; nothing set yet\n# SUM uses 63001 and 63002 by default\nport=80\n",
    ),
    (
        "sum_sections.ini",
        dict(http_port=80, https_port=443, ftp_port=2121),
        b"; sum.ini: SUM 8 and later\n[General]\nlanguage=en\n\n[HTTP]\n; the web server\nport=80\nssl_port=443\n\n"
        b"[FTP]\nport=2121\n\n[Logging]\nlevel = info\n",
    ),
    (
        "sum_crlf_bom_no_final_newline.ini",
        dict(https_port=443, ftp_port="disabled"),
        b"\xef\xbb\xbf[HTTP]\r\nport = 63001\r\nssl_port = 443\r\n\r\n[FTP]\r\nport = disabled",
    ),
    (
        "sum_no_http_section.ini",
        dict(http_port=80, https_port=443, ftp_port="disabled", flavour="sum"),
        b"[General]\nlanguage=en\n\n[HTTP]\nport=80\nssl_port=443\n\n[FTP]\nport=disabled\n",
    ),
    (
        "sum_commented.ini",
        dict(http_port=80, https_port=443),
        b";[HTTP]\n;port=80\n[HTTP]\n# port=81\n;ssl_port=444\nport=80\nssl_port=443\n# [FTP]\n#port=21\n",
    ),
    (
        "sum_split_section.ini",
        dict(http_port=80, https_port=443),
        b"[HTTP]\nport=80\n[General]\nlanguage=en\n[HTTP]\nssl_port=443\n",
    ),
    ("empty.ini", dict(http_port=80, flavour="sum"), b"[HTTP]\nport=80\n"),
    ("lone_cr.ini", dict(http_port=80, ftp_port=21), b"; old Mac line ends\rport=80\rssl_port=63002\rftp_port=21\r"),
    (
        "odd_bytes.ini",
        dict(http_port=80),
        b"; caf\xe9 (latin-1 byte, not UTF-8)\nport=80\nssl_port=63002\nnote=\xff\xfe\n",
    ),
    (
        "hpsum_no_final_newline.ini",
        dict(settings=[{"key": "ssl_port", "state": "absent"}]),
        b"# no newline at the end\nport=63001\n",
    ),
]


@pytest.mark.parametrize(("name", "params", "expected"), EXACT, ids=[f"{row[0]}-{i}" for i, row in enumerate(EXACT)])
def test_exact_result(name: str, params: t.Dict[str, t.Any], expected: bytes) -> None:
    outcome = compute(fixture(name), path="/x/" + name, **params)
    assert outcome["after"] == expected
    assert outcome["changed"] is True


def test_hpsum_ftp_disabled_removes_the_line() -> None:
    outcome = compute(b"port=80\nftp_port=21\nssl_port=443\n", flavour="hpsum", ftp_port="disabled")
    assert outcome["after"] == b"port=80\nssl_port=443\n"
    assert outcome["ports"] == {"http_port": 80, "https_port": 443, "ftp_port": None}


def test_very_large_file_edits_one_line() -> None:
    data = fixture("sum_very_large.ini")
    assert data.count(b"\r\n") > 20000
    outcome = compute(data, http_port=80)
    assert outcome["flavour"] == "sum"
    assert len(outcome["after"]) == len(data) - 3
    assert outcome["after"].replace(b"[HTTP]\r\nport=80\r\n", b"[HTTP]\r\nport=63001\r\n") == data


def test_new_key_copies_the_file_spacing() -> None:
    outcome = compute(b"[HTTP]\nport = 63001\n", ftp_port=21)
    assert outcome["after"] == b"[HTTP]\nport = 63001\n\n[FTP]\nport = 21\n"


def test_create_new_file_by_name() -> None:
    outcome = compute(None, path="C:\\Program Files\\HP\\hpsum\\hpsum.ini", create=True, http_port=80, https_port=443)
    assert outcome["flavour"] == "hpsum"
    assert outcome["after"] == b"port=80\nssl_port=443\n"
    assert outcome["created"] is True and outcome["changed"] is True
    assert outcome["diff"]["before"] == "" and "(absent)" in outcome["diff"]["before_header"]


def test_create_empty_file_with_no_edits_is_a_change() -> None:
    outcome = compute(None, path="/x/sum.ini", create=True)
    assert outcome["changed"] is True and outcome["after"] == b""


def test_diff_shows_before_and_after() -> None:
    outcome = compute(b"port=63001\n", path="/x/hpsum.ini", http_port=80)
    assert outcome["diff"] == {
        "before": "port=63001\n",
        "after": "port=80\n",
        "before_header": "/x/hpsum.ini",
        "after_header": "/x/hpsum.ini",
    }


@pytest.mark.parametrize(
    ("data", "path", "flavour"),
    [
        (b"[HTTP]\nport=1\n", "/x/hpsum.ini", "sum"),  # content wins over the name
        (b"[ftp]\n", "/x/whatever.ini", "sum"),
        (b"ssl_port=1\n", "/x/sum.ini", "hpsum"),
        (b"; nothing\n", "/x/hpsum.ini", "hpsum"),
        (b"", "C:\\SUM\\Sum.INI", "sum"),
    ],
)
def test_detect_flavour(data: bytes, path: str, flavour: str) -> None:
    assert compute(data, path=path)["flavour"] == flavour


@pytest.mark.parametrize(
    ("data", "ports"),
    [
        (b"", {"http_port": 63001, "https_port": 63002, "ftp_port": None}),
        (b"[HTTP]\nport=80\n[FTP]\nport=disabled\n", {"http_port": 80, "https_port": 63002, "ftp_port": None}),
        (b"[HTTP]\nssl_port=443\n[FTP]\nport = 21\n", {"http_port": 63001, "https_port": 443, "ftp_port": 21}),
        (b"[HTTP]\nport=eighty\n", {"http_port": "eighty", "https_port": 63002, "ftp_port": None}),
        (
            b"[HTTP]\nport=\xc2\xb2\nssl_port=disabled\n",
            {"http_port": "\u00b2", "https_port": "disabled", "ftp_port": None},
        ),
    ],
)
def test_effective_ports(data: bytes, ports: t.Dict[str, t.Any]) -> None:
    assert compute(data, flavour="sum")["ports"] == ports


def test_values_reads_every_key() -> None:
    outcome = compute(fixture("sum_same_key_other_sections.ini"), flavour="sum")
    assert outcome["values"] == {
        "HTTP": {"port": "63001", "ssl_port": "63002"},
        "FTP": {"port": "2121"},
        "Other": {"port": "7"},
    }


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "key", "lines"),
    [("duplicate_hpsum.ini", "port", [2, 4]), ("duplicate_sum.ini", "Port", [2, 8])],
)
def test_duplicate_key_names_file_key_and_lines(name: str, key: str, lines: t.List[int]) -> None:
    path = "/x/" + name
    with pytest.raises(SumPortsError) as info:
        compute(fixture(name), path=path, http_port=80)
    msg = str(info.value)
    assert path in msg and repr(key) in msg
    assert f"lines {lines[0]} and {lines[1]}" in msg
    assert info.value.details["lines"] == lines


BAD = [
    (dict(http_port=0), "http_port: 0 is outside 1-65535"),
    (dict(http_port=70000), "http_port: 70000 is outside 1-65535"),
    (dict(https_port=65536), "https_port: 65536 is outside 1-65535"),
    (dict(ftp_port=-1), "ftp_port: -1 is outside 1-65535"),
    (dict(ftp_port="enabled"), "ftp_port: 'enabled' is not a port number"),
    (dict(http_port=True), "http_port: True is not a port number"),
    (dict(ftp_port="\u00b2"), "ftp_port: '\u00b2' is not a port number"),
    (dict(ftp_port=" 2121 "), None),  # a string of digits is a port
    (dict(http_port=80, https_port=80), "http_port: 80 equals https_port (80)"),
    (dict(http_port=63002), "http_port: 63002 equals the https_port in effect for /x/sum.ini (63002)"),
    (dict(ftp_port=63001), "ftp_port: 63001 equals the http_port in effect"),
    (dict(flavour="hpsum8"), "flavour: 'hpsum8' is not one of auto, hpsum, sum"),
    (dict(settings=[{"key": "a", "value": "1\n[HTTP]"}]), "settings[0].value: '1\\n[HTTP]' contains '\\n'"),
    (dict(settings=[{"key": "a", "value": "1\rport=2"}]), "settings[0].value: '1\\rport=2' contains '\\r'"),
    (dict(settings=[{"key": "a", "value": " 1"}]), "settings[0].value: ' 1' has spaces around it"),
    (dict(settings=[{"key": "a", "value": 1}]), None),  # converted to "1": fine
    (dict(settings=[{"key": "[HTTP]", "value": "1"}]), "settings[0].key: '[HTTP]' contains '['"),
    (dict(settings=[{"key": "port=1", "value": "1"}]), "settings[0].key: 'port=1' contains '='"),
    (dict(settings=[{"key": ";port", "value": "1"}]), "settings[0].key: ';port' starts with a comment"),
    (dict(settings=[{"key": " port", "value": "1"}]), "settings[0].key: ' port' has spaces around it"),
    (dict(settings=[{"key": "", "value": "1"}]), "settings[0].key: '' must be a non-empty key name"),
    (dict(settings=[{"key": "a", "section": "HTTP]\n[X", "value": "1"}]), "settings[0].section: 'HTTP]\\n[X' contains"),
    (dict(settings=[{"key": "a"}]), "settings[0].value: None is required when state is present"),
    (dict(settings=[{"key": "a", "state": "gone"}]), "settings[0].state: 'gone' must be present or absent"),
    (dict(settings=["port=1"]), "settings[0]: 'port=1' must be a dictionary"),
    (
        dict(http_port=80, settings=[{"section": "http", "key": "PORT", "value": "81"}]),
        "settings[0]: '81' sets [http] PORT",
    ),
]


@pytest.mark.parametrize(("params", "message"), BAD)
def test_bad_input_names_option_and_value(params: t.Dict[str, t.Any], message: t.Optional[str]) -> None:
    data = b"[HTTP]\nport=63001\nssl_port=63002\n"
    if message is None:
        assert compute(data, path="/x/sum.ini", **params)["changed"]
        return
    with pytest.raises(SumPortsError) as info:
        compute(data, path="/x/sum.ini", **params)
    assert message in str(info.value)


def test_missing_file_without_create() -> None:
    with pytest.raises(SumPortsError, match=r"path: /x/sum.ini does not exist; set create: true"):
        compute(None, path="/x/sum.ini", http_port=80)


def test_auto_cannot_tell() -> None:
    with pytest.raises(SumPortsError, match=r"flavour: 'auto' cannot tell whether /x/sum.conf"):
        compute(b"; hello\n", path="/x/sum.conf", http_port=80)


def test_equal_ports_already_in_file_are_not_this_runs_error() -> None:
    # Neither port is being set: the file is left to the user (and is reported as is).
    outcome = compute(b"[HTTP]\nport=1\nssl_port=1\n", ftp_port=21)
    assert outcome["ports"]["http_port"] == outcome["ports"]["https_port"] == 1


# --------------------------------------------------------------------------- property test

KEYS = ["port", "ssl_port", "ftp_port", "Port", "language", "x"]
SECTIONS = ["HTTP", "FTP", "General", "http"]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n"), max_size=12)
SAFE_VALUE = TEXT.filter(lambda v: v == v.strip())
SPACE = st.sampled_from(["", " ", "\t", "  "])


@st.composite
def line_text(draw: st.DrawFn) -> str:
    """One line of an ini file, of any kind."""
    kind = draw(st.sampled_from(["blank", "comment", "section", "key", "key", "key", "other"]))
    if kind == "blank":
        return draw(SPACE)
    if kind == "comment":
        return (
            draw(SPACE)
            + draw(st.sampled_from([";", "#"]))
            + draw(st.sampled_from(["", "port=80", "[HTTP]"]))
            + draw(TEXT)
        )
    if kind == "section":
        return draw(SPACE) + "[" + draw(st.sampled_from(SECTIONS)) + "]" + draw(SPACE)
    if kind == "key":
        return draw(SPACE) + draw(st.sampled_from(KEYS)) + draw(SPACE) + "=" + draw(SPACE) + draw(TEXT)
    return draw(TEXT.filter(lambda s: "=" not in s and not s.strip().startswith(("[", ";", "#"))))


@st.composite
def ini_bytes(draw: st.DrawFn) -> bytes:
    """A whole file: BOM or not, mixed line ends, maybe no final newline."""
    lines = draw(st.lists(line_text(), max_size=15))
    eols = draw(st.lists(st.sampled_from(["\n", "\r\n"]), min_size=len(lines), max_size=len(lines)))
    text = "".join(line + eol for line, eol in zip(lines, eols))
    if lines and draw(st.booleans()):
        text = text[: -len(eols[-1])]
    bom = sum_ini.BOM if draw(st.booleans()) else b""
    return bom + text.encode("utf-8")


EDIT = st.tuples(
    st.sampled_from([None, *SECTIONS, "New"]),
    st.sampled_from([*KEYS, "fresh"]),
    st.one_of(st.none(), SAFE_VALUE),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=ini_bytes(), edits=st.lists(EDIT, min_size=1, max_size=4))
def test_property_edits_touch_only_their_line(data: bytes, edits: t.List[t.Tuple[t.Any, str, t.Any]]) -> None:
    try:
        sum_ini.IniFile.parse("p", data)
    except SumPortsError:
        assume(False)
    assert sum_ini.IniFile.parse("p", data).to_bytes() == data
    current = data
    for section, key, value in edits:
        setting: t.Dict[str, t.Any] = {"key": key, "section": section}
        setting.update({"value": value} if value is not None else {"state": "absent"})
        outcome = compute(current, flavour="sum", settings=[setting])
        assert_one_line_edit(current, outcome["after"], section, key, value)
        assert outcome["changed"] == (outcome["after"] != current)
        again = compute(outcome["after"], flavour="sum", settings=[setting])
        assert again["changed"] is False
        current = outcome["after"]
