# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Edit SUM's ini file (hpsum.ini or sum.ini) so that only the changed line changes.

The pure part (``parse``, ``compute``) takes bytes and returns bytes; it runs in the
``sum_ini`` module on Linux targets and on the controller for Windows targets (the
``sum_ini`` action plugin), so both get the same result for the same file.
``SumIni`` is the thin module-side manager: read, compute, back up, write atomically.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import re
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.common import checks
from ansible_collections.hpsum.ports.plugins.module_utils.common._io import write_file_atomic
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError, option_error
from ansible_collections.hpsum.ports.plugins.module_utils.plan import port_matrix as pm

BOM = b"\xef\xbb\xbf"
FLAVOURS = ("auto", "hpsum", "sum")
FTP_DISABLED = "disabled"
PORT_OPTIONS = ("http_port", "https_port", "ftp_port")

# Where each named option lives, per flavour: (section or None for the top of the file, key).
NAMED_KEYS = {
    "hpsum": {"http_port": (None, "port"), "https_port": (None, "ssl_port"), "ftp_port": (None, "ftp_port")},
    "sum": {"http_port": ("HTTP", "port"), "https_port": ("HTTP", "ssl_port"), "ftp_port": ("FTP", "port")},
}

# The one argument spec, shared by the module and by the action plugin's Windows path.
ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    flavour=dict(type="str", default="auto", choices=list(FLAVOURS), aliases=["flavor"]),
    http_port=dict(type="int"),
    https_port=dict(type="int"),
    ftp_port=dict(type="raw"),
    settings=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            key=dict(type="str", required=True, no_log=False),
            section=dict(type="str"),
            value=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_if=[("state", "present", ["value"])],
    ),
    create=dict(type="bool", default=False),
    backup=dict(type="bool", default=False),
)

_LINE_RE = re.compile(r"([^\r\n]*)(\r\n|\n|\r|$)")
_SEP_RE = re.compile(r"[ \t]*=[ \t]*")
_DIGITS_RE = re.compile(r"^[0-9]+$")  # str.isdigit() also accepts digits int() refuses


class Line(t.NamedTuple):
    """One physical line: its text without the line end, the line end, and what it is."""

    text: str
    eol: str
    kind: str  # blank, comment, section, key, other
    section: t.Optional[str]  # key lines: the section they belong to; section lines: its name
    key: t.Optional[str]
    value_start: int
    value_end: int

    @property
    def value(self) -> t.Optional[str]:
        """The value of a key line, without the spacing around it."""
        return self.text[self.value_start : self.value_end] if self.kind == "key" else None


class Edit(t.NamedTuple):
    """Set (value is a string) or remove (value is None) one key; option names the input for errors."""

    section: t.Optional[str]
    key: str
    value: t.Optional[str]
    option: str


def _fold(name: t.Optional[str]) -> t.Optional[str]:
    """Keys and sections compare case-insensitively, as Windows' own ini functions do."""
    return None if name is None else name.lower()


def _classify(text: str, eol: str, section: t.Optional[str]) -> Line:
    """Classify one line; commented-out keys are comments, never keys."""
    stripped = text.strip()
    if not stripped:
        return Line(text, eol, "blank", section, None, 0, 0)
    if stripped[0] in ";#":
        return Line(text, eol, "comment", section, None, 0, 0)
    if stripped[0] == "[" and "]" in stripped:
        return Line(text, eol, "section", stripped[1 : stripped.index("]")].strip(), None, 0, 0)
    if "=" in text:
        sep = text.index("=")
        key = text[:sep].strip()
        if key:
            start = sep + 1
            while start < len(text) and text[start] in " \t":
                start += 1
            end = max(len(text.rstrip()), start)
            return Line(text, eol, "key", section, key, start, end)
    return Line(text, eol, "other", section, None, 0, 0)


class IniFile:
    """A parsed ini file that serialises back to exactly the bytes it came from."""

    def __init__(self, path: str, bom: bool, lines: t.List[Line]) -> None:
        self.path = path
        self.bom = bom
        self.lines = lines

    @classmethod
    def parse(cls, path: str, data: bytes) -> IniFile:
        """Parse bytes; undecodable bytes survive through surrogateescape. Duplicate keys are an error."""
        bom = data.startswith(BOM)
        text = data[len(BOM) :].decode("utf-8", "surrogateescape") if bom else data.decode("utf-8", "surrogateescape")
        return cls.from_text(path, bom, text)

    @classmethod
    def from_text(cls, path: str, bom: bool, text: str) -> IniFile:
        """Parse decoded text (see parse)."""
        lines: t.List[Line] = []
        section: t.Optional[str] = None
        seen: t.Dict[t.Tuple[t.Optional[str], str], int] = {}
        for match in _LINE_RE.finditer(text):
            if not match.group(0):
                break  # the empty match at the end of the text
            line = _classify(match.group(1), match.group(2), section)
            if line.kind == "section":
                section = line.section
            elif line.kind == "key":
                ident = (_fold(section), _fold(line.key) or "")
                if ident in seen:
                    where = "at the top of the file (no section)" if section is None else f"in section [{section}]"
                    raise SumPortsError(
                        f"{path}: key {line.key!r} appears twice {where}: lines {seen[ident]} and {len(lines) + 1};"
                        " remove one",
                        path=path,
                        key=line.key,
                        section=section,
                        lines=[seen[ident], len(lines) + 1],
                    )
                seen[ident] = len(lines) + 1
            lines.append(line)
        return cls(path, bom, lines)

    def text(self) -> str:
        """The decoded text, without the BOM."""
        return "".join(line.text + line.eol for line in self.lines)

    def to_bytes(self) -> bytes:
        """The file's bytes, byte for byte what was parsed plus any edits."""
        body = self.text().encode("utf-8", "surrogateescape")
        return BOM + body if self.bom else body

    def newline(self) -> str:
        """The file's line end: the first one it uses, else LF."""
        for line in self.lines:
            if line.eol:
                return line.eol
        return "\n"

    def separator(self) -> str:
        """The spacing around '=' of the file's last key line, so added lines look like their neighbours."""
        for line in reversed(self.lines):
            if line.kind == "key":
                match = _SEP_RE.match(line.text, len(line.text[: line.text.index("=")].rstrip()))
                if match:
                    return match.group(0)
        return "="

    def find(self, section: t.Optional[str], key: str) -> t.Optional[int]:
        """Index of the live key line, or None."""
        want = (_fold(section), _fold(key))
        for index, line in enumerate(self.lines):
            if line.kind == "key" and (_fold(line.section), _fold(line.key)) == want:
                return index
        return None

    def get(self, section: t.Optional[str], key: str) -> t.Optional[str]:
        """Value of a live key, or None."""
        index = self.find(section, key)
        return None if index is None else self.lines[index].value

    def values(self) -> t.Dict[str, t.Dict[str, str]]:
        """Every live key by section ('' for the top of the file), as spelled where first seen."""
        out: t.Dict[str, t.Dict[str, str]] = {}
        names: t.Dict[str, str] = {"": ""}
        for line in self.lines:
            if line.kind != "key":
                continue
            folded = _fold(line.section) or ""
            name = names.setdefault(folded, line.section or "")
            out.setdefault(name, {})[line.key or ""] = line.value or ""
        return out

    def has_section(self, name: str) -> bool:
        """Whether a section header of that name exists."""
        return any(line.kind == "section" and _fold(line.section) == _fold(name) for line in self.lines)

    def apply(self, edit: Edit) -> None:
        """Apply one edit, touching only the edited line (or inserting one)."""
        index = self.find(edit.section, edit.key)
        if index is not None:
            line = self.lines[index]
            if edit.value is None:
                del self.lines[index]
            elif line.value != edit.value:
                text = line.text[: line.value_start] + edit.value + line.text[line.value_end :]
                self.lines[index] = _classify(text, line.eol, line.section)
            return
        if edit.value is None:
            return
        new_text = edit.key + self.separator() + edit.value
        anchor = self._anchor(edit.section)
        if anchor is not None:
            self._insert_after(anchor, new_text, edit.section)
            return
        if edit.section is None:
            self._insert_top(new_text)
            return
        self._append_section(edit.section, new_text)

    def _anchor(self, section: t.Optional[str]) -> t.Optional[int]:
        """The line a new key of this section goes after: its last key line, else its last header."""
        anchor = None
        header = None
        for index, line in enumerate(self.lines):
            if line.kind == "key" and _fold(line.section) == _fold(section):
                anchor = index
            elif section is not None and line.kind == "section" and _fold(line.section) == _fold(section):
                header = index
        return anchor if anchor is not None else header

    def _insert_after(self, index: int, text: str, section: t.Optional[str]) -> None:
        """Insert a line after ``index``; a last line without a line end keeps the file's missing final newline."""
        line = self.lines[index]
        if line.eol:
            self.lines.insert(index + 1, _classify(text, line.eol, section))
        else:
            self.lines[index] = line._replace(eol=self.newline())
            self.lines.insert(index + 1, _classify(text, "", section))

    def _insert_top(self, text: str) -> None:
        """A top-of-file key with no top keys yet: before the first section header, else at the end."""
        for index, line in enumerate(self.lines):
            if line.kind == "section":
                self.lines.insert(index, _classify(text, self.newline(), None))
                return
        if self.lines:
            self._insert_after(len(self.lines) - 1, text, None)
        else:
            self.lines.append(_classify(text, "\n", None))

    def _append_section(self, section: str, text: str) -> None:
        """A new section at the end of the file, after a blank line."""
        newline = self.newline()
        final_eol = newline
        if self.lines:
            last = self.lines[-1]
            if not last.eol:
                final_eol = ""
                self.lines[-1] = last._replace(eol=newline)
            if last.kind != "blank":
                self.lines.append(_classify("", newline, self.lines[-1].section))
        self.lines.append(_classify(f"[{section}]", newline, section))
        self.lines.append(_classify(text, final_eol, section))


def _basename(path: str) -> str:
    """The file name of a POSIX or Windows path."""
    return re.split(r"[\\/]", path)[-1]


def detect_flavour(path: str, ini: IniFile) -> str:
    """hpsum (flat key=value) or sum (sections): from the content first, then from the file name."""
    if ini.has_section("HTTP") or ini.has_section("FTP"):
        return "sum"
    if any(ini.find(None, key) is not None for key in ("port", "ssl_port", "ftp_port")):
        return "hpsum"
    name = _basename(path).lower()
    if name == "hpsum.ini":
        return "hpsum"
    if name == "sum.ini":
        return "sum"
    raise SumPortsError(
        f"flavour: 'auto' cannot tell whether {path} is an hpsum.ini (HP SUM 7.x) or a sum.ini (SUM 8 and later);"
        " set flavour to hpsum or sum",
        option="flavour",
        value="auto",
        path=path,
    )


def check_name(option: str, value: t.Any, what: str) -> str:
    """A key or section name that cannot forge another line, section or key."""
    if not isinstance(value, str) or not value.strip():
        raise option_error(option, value, f"must be a non-empty {what} name")
    bad = [c for c in ("\n", "\r", "\x00", "[", "]", "=") if c in value]
    if bad:
        raise option_error(option, value, f"contains {bad[0]!r}, which would forge a line, section or key")
    if value != value.strip():
        raise option_error(option, value, "has spaces around it, which the ini file cannot keep")
    if value[0] in ";#":
        raise option_error(option, value, "starts with a comment character")
    return value


def check_value(option: str, value: t.Any) -> str:
    """A value that stays on its line: no line break, no NUL, no spaces around it."""
    if not isinstance(value, str):
        raise option_error(option, value, "must be a string")
    for char in ("\n", "\r", "\x00"):
        if char in value:
            raise option_error(option, value, f"contains {char!r}, which would forge a line, section or key")
    if value != value.strip():
        raise option_error(option, value, "has spaces around it, which the ini file cannot keep")
    return value


def build_edits(flavour: str, params: t.Mapping[str, t.Any]) -> t.List[Edit]:
    """Turn the named ports and the raw settings into edits; every bad value names its option."""
    keys = NAMED_KEYS[flavour]
    edits: t.List[Edit] = []
    for option in ("http_port", "https_port"):
        if params.get(option) is not None:
            section, key = keys[option]
            edits.append(Edit(section, key, str(checks.port(option, params[option], coerce=True)), option))
    ftp = params.get("ftp_port")
    if ftp is not None:
        section, key = keys["ftp_port"]
        if isinstance(ftp, str) and ftp.strip().lower() == FTP_DISABLED:
            # hpsum.ini: FTP is off when ftp_port= is absent; sum.ini says so explicitly.
            edits.append(Edit(section, key, None if flavour == "hpsum" else FTP_DISABLED, "ftp_port"))
        else:
            edits.append(Edit(section, key, str(checks.port("ftp_port", ftp, coerce=True)), "ftp_port"))
    for number, setting in enumerate(params.get("settings") or []):
        option = f"settings[{number}]"
        if not isinstance(setting, dict):
            raise option_error(option, setting, "must be a dictionary with key, section, value, state")
        key = check_name(option + ".key", setting.get("key"), "key")
        section = setting.get("section")
        if section is not None:
            section = check_name(option + ".section", section, "section")
        state = setting.get("state") or "present"
        if state not in ("present", "absent"):
            raise option_error(option + ".state", state, "must be present or absent")
        value = None
        if state == "present":
            if setting.get("value") is None:
                raise option_error(option + ".value", None, "is required when state is present")
            value = check_value(option + ".value", str(setting["value"]))
        edits.append(Edit(section, key, value, option))
    seen: t.Dict[t.Tuple[t.Optional[str], t.Optional[str]], str] = {}
    for edit in edits:
        ident = (_fold(edit.section), _fold(edit.key))
        if ident in seen:
            where = f"[{edit.section}] {edit.key}" if edit.section else edit.key
            raise option_error(edit.option, edit.value, f"sets {where}, which {seen[ident]} already sets")
        seen[ident] = edit.option
    return edits


def _port_value(raw: t.Optional[str], default: t.Optional[int], can_disable: bool = False) -> t.Any:
    """A port as SUM reads it: the default when absent (or FTP's 'disabled'), an int when numeric, else the text."""
    if raw is None or (can_disable and raw.strip().lower() == FTP_DISABLED):
        return default
    raw = raw.strip()
    return int(raw) if _DIGITS_RE.match(raw) else raw


def effective_ports(flavour: str, ini: IniFile) -> t.Dict[str, t.Any]:
    """What SUM will listen on with this file: http_port, https_port, ftp_port (None: FTP off)."""
    keys = NAMED_KEYS[flavour]
    return {
        "http_port": _port_value(ini.get(*keys["http_port"]), pm.DEFAULT_HTTP_PORT),
        "https_port": _port_value(ini.get(*keys["https_port"]), pm.DEFAULT_HTTPS_PORT),
        "ftp_port": _port_value(ini.get(*keys["ftp_port"]), None, can_disable=True),
    }


def _check_distinct(ports: t.Mapping[str, t.Any], params: t.Mapping[str, t.Any], path: str) -> None:
    """HTTP and HTTPS must differ (and FTP from both) in the file as it would be written."""
    pairs = (("http_port", "https_port"), ("ftp_port", "http_port"), ("ftp_port", "https_port"))
    for first, second in pairs:
        if params.get(first) is None and params.get(second) is None:
            continue  # neither is being set: not this run's doing
        if ports[first] is not None and ports[first] == ports[second]:
            option = first if params.get(first) is not None else second
            other = second if option == first else first
            if params.get(other) is not None:
                given = f"{other} ({ports[other]})"
            else:
                given = f"the {other} in effect for {path} ({ports[other]})"
            raise option_error(option, ports[option], f"equals {given}; SUM needs a port of its own for each")


def compute(path: str, data: t.Optional[bytes], params: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """The whole decision, without touching anything: before/after bytes, changed, flavour, ports.

    ``data`` is the file's bytes, or None when it does not exist.
    """
    flavour = params.get("flavour") or "auto"
    if flavour not in FLAVOURS:
        raise option_error("flavour", flavour, f"is not one of {', '.join(FLAVOURS)}")
    if data is None and not params.get("create"):
        raise SumPortsError(f"path: {path} does not exist; set create: true to create it", option="path", value=path)
    before = IniFile.parse(path, data or b"")
    if flavour == "auto":
        flavour = detect_flavour(path, before)
    edits = build_edits(flavour, params)
    after = IniFile(path, before.bom, list(before.lines))
    for edit in edits:
        after.apply(edit)
    after_bytes = after.to_bytes()
    # Parse the result back: it must be as well-formed as we claim (no forged key, no duplicate).
    after = IniFile.parse(path, after_bytes)
    for edit in edits:
        if after.get(edit.section, edit.key) != edit.value:
            raise SumPortsError(f"{path}: {edit.option} did not read back as {edit.value!r}", path=path)
    ports = effective_ports(flavour, after)
    _check_distinct(ports, params, path)
    changed = data is None or after_bytes != data
    return {
        "path": path,
        "flavour": flavour,
        "before": data,
        "after": after_bytes,
        "changed": changed,
        "created": data is None,
        "ports": ports,
        "values": after.values(),
        "diff": make_diff(path, data, after_bytes),
    }


def _show(data: t.Optional[bytes]) -> str:
    """Bytes as text for a diff (a BOM and undecodable bytes shown, never an exception)."""
    return "" if data is None else data.decode("utf-8", "replace")


def make_diff(path: str, before: t.Optional[bytes], after: bytes) -> t.Dict[str, str]:
    """Ansible's diff dict; before is empty for a file that does not exist yet."""
    return {
        "before": _show(before),
        "after": _show(after),
        "before_header": f"{path} (absent)" if before is None else path,
        "after_header": path,
    }


def public_result(outcome: t.Mapping[str, t.Any], want_diff: bool) -> t.Dict[str, t.Any]:
    """The module's return values from compute()'s outcome."""
    result = {
        "changed": outcome["changed"],
        "path": outcome["path"],
        "flavour": outcome["flavour"],
        "created": outcome["created"] and outcome["changed"],
        "ports": outcome["ports"],
        "values": outcome["values"],
    }
    if want_diff:
        result["diff"] = outcome["diff"]
    return result


class SumIni:
    """Module-side manager: read the file, compute, back up and write atomically when changed."""

    def __init__(self, module: t.Any) -> None:
        self.module = module
        self.params = module.params

    def read(self, path: str) -> t.Optional[bytes]:
        """The file's bytes, or None when it does not exist."""
        if os.path.isdir(path):
            raise SumPortsError(f"path: {path} is a directory, not an ini file", option="path", value=path)
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SumPortsError(f"path: cannot read {path}: {exc}", option="path", value=path) from exc

    def run(self) -> t.Dict[str, t.Any]:
        """Compute, then apply only when changed and not in check mode."""
        path = self.params["path"]
        # Edit the file a symlink points to, and keep the link.
        outcome = compute(path, self.read(os.path.realpath(path)), self.params)
        result = public_result(outcome, self.module._diff)
        if outcome["changed"] and outcome["created"] and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise SumPortsError(
                f"path: the directory of {path} does not exist; create it first", option="path", value=path
            )
        if outcome["changed"] and not self.module.check_mode:
            if self.params.get("backup") and not outcome["created"]:
                result["backup_file"] = self.module.backup_local(os.path.realpath(path))
            try:
                write_file_atomic(self.module, os.path.realpath(path), outcome["after"])
            except OSError as exc:
                raise SumPortsError(f"path: cannot write {path}: {exc}", option="path", value=path) from exc
        return result
