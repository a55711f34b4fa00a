# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HP SUM port matrices: HPE's two port pages, each as data, picked by SUM version.

``SUM7``: "Making HP SUM network ports available" (HP SUM 7.x, two "from target"
columns). ``SUM8``: its successor "SUM network ports used" (SUM 8 and later, one
"from target" column, new Superdome rows, no HP-UX, Moonshot or Superdome 2 row).

This file is the one source of truth. The plan (plan/plan.py), the facts, the firewall
rules, the validation, the flows export and docs/port-matrix.md are all derived
from the constants below; nothing else in the collection names a SUM port.

Symbols: ``HTTP`` and ``HTTPS`` stand for SUM's own ports (63001 and 63002 unless
moved with ``/port`` / ``/ssl_port`` or hpsum.ini, rule 3). An ``optional`` port is
printed in parentheses on the page: ``(80)``.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import collections
import types
import typing as t

HTTP = "HTTP"
HTTPS = "HTTPS"

DEFAULT_HTTP_PORT = 63001
DEFAULT_HTTPS_PORT = 63002

SERVER_OSES = ("windows", "linux")
PHASES = ("inventory", "deployment")
HOST_ROLES = ("sum_server", "node")

# The "from target" columns and the version bounds that pick them. The SUM 7.x page has
# two columns; the SUM 8 page has one (its header reads "SUM 7.3.0 and later", but its
# table differs from the 7.x page's: it applies from FIRST_SUM8_VERSION on).
COLUMN_OLD = "<=7.2.1"
COLUMN_NEW = ">=7.3.0"
COLUMN_SUM8 = ">=8.0.0"
VERSION_COLUMNS = (COLUMN_OLD, COLUMN_NEW)
COLUMNS = (COLUMN_OLD, COLUMN_NEW, COLUMN_SUM8)
LAST_OLD_VERSION = (7, 2, 1)
FIRST_NEW_VERSION = (7, 3, 0)
# Our reading, not HPE's: no HPE page states the first SUM version with the new page. SPP
# 2017.04 carries the 7.x page, SPP 2017.10.1 the new one; SUM 8.0.0 shipped between them.
FIRST_SUM8_VERSION = (8, 0, 0)
# The pages, by key.
SUM7 = "sum7"
SUM8 = "sum8"

# Node types, with the page's name for each (used in reasons and docs).
NODE_TYPE_LABELS = types.MappingProxyType(
    collections.OrderedDict(
        [
            ("windows", "Windows"),
            ("linux", "Linux"),
            ("hpux", "HP-UX"),
            ("vmware", "VMware"),
            ("oa", "OA"),
            ("ilo", "iLO"),
            ("vc", "VC"),
            ("fc_switch", "FC switch"),
            ("sas_switch", "SAS switch"),
            ("moonshot", "Moonshot"),
            ("superdome", "Superdome 2/X"),
            ("superdome_x", "Superdome X"),
            ("superdome_flex", "Superdome Flex"),
        ]
    )
)
NODE_TYPES = tuple(NODE_TYPE_LABELS)

# Reached through their own management firmware: never logged into to change a
# firewall (docs/inventory.md); rule 9 names OA, iLO and VC as updated through their web UI.
MANAGEMENT_PROCESSORS = ("oa", "ilo", "vc", "fc_switch", "sas_switch", "moonshot", "superdome", "superdome_x",
                         "superdome_flex")
WEB_UI_FALLBACK = ("oa", "ilo", "vc")

# Protocols the page leaves out follow the standard assignments (NetBIOS name and
# datagram services are UDP); every other port is TCP.
UDP_PORTS = frozenset((137, 138))

# Rule 7: ESXi allows outbound connections to these ports by default.
ESXI_DEFAULT_OUTBOUND = (80, 443, 5989)


class PortRef(t.NamedTuple):
    """One port cell entry: a number or HTTP/HTTPS, and whether the page puts it in parentheses."""

    port: t.Union[int, str]
    optional: bool = False


class Row(t.NamedTuple):
    """One row of the page's table."""

    server_oses: t.Tuple[str, ...]
    node_types: t.Tuple[str, ...]
    to_target: t.Mapping[str, t.Tuple[PortRef, ...]]  # phase -> ports
    from_target: t.Mapping[t.Tuple[str, str], t.Tuple[PortRef, ...]]  # (phase, column) -> ports


def _p(*ports: t.Union[int, str]) -> t.Tuple[PortRef, ...]:
    return tuple(PortRef(p) for p in ports)


def _row(
    server_oses: t.Tuple[str, ...],
    node_types: t.Tuple[str, ...],
    inventory_to: t.Tuple[PortRef, ...],
    inventory_from_old: t.Tuple[PortRef, ...],
    inventory_from_new: t.Tuple[PortRef, ...],
    deployment_to: t.Tuple[PortRef, ...],
    deployment_from_old: t.Tuple[PortRef, ...],
    deployment_from_new: t.Tuple[PortRef, ...],
) -> Row:
    """Build a row in the page's column order."""
    return _frozen_row(server_oses, node_types, inventory_to, deployment_to, {
        ("inventory", COLUMN_OLD): inventory_from_old,
        ("inventory", COLUMN_NEW): inventory_from_new,
        ("deployment", COLUMN_OLD): deployment_from_old,
        ("deployment", COLUMN_NEW): deployment_from_new,
    })


def _frozen_row(
    server_oses: t.Tuple[str, ...],
    node_types: t.Tuple[str, ...],
    inventory_to: t.Tuple[PortRef, ...],
    deployment_to: t.Tuple[PortRef, ...],
    from_target: t.Dict[t.Tuple[str, str], t.Tuple[PortRef, ...]],
) -> Row:
    """A Row of either page, its mappings read-only; from_target is keyed by (phase, column)."""
    return Row(
        server_oses=server_oses,
        node_types=node_types,
        to_target=types.MappingProxyType({"inventory": inventory_to, "deployment": deployment_to}),
        from_target=types.MappingProxyType(from_target),
    )


_BOTH = ("windows", "linux")
_MP_TO = (PortRef(22), PortRef(80, optional=True), PortRef(443))

# The SUM 7.x table, row for row and column for column as the page prints it
# (superdome_x is the page's "Superdome 2/X", like superdome):
# inventory to / from <=7.2.1 / from >=7.3.0, deployment to / from <=7.2.1 / from >=7.3.0.
SUM7_TABLE = (
    _row(("windows",), ("windows",),
         _p(445, 135, 137, 138, 139), _p(HTTP, HTTPS), _p(),
         _p(445, 135, 137, 138, 139), _p(HTTP, HTTPS), _p()),
    _row(_BOTH, ("linux",),
         _p(22), _p(HTTP, HTTPS), _p(),
         _p(22), _p(HTTP, HTTPS), _p()),
    _row(_BOTH, ("hpux",),
         _p(22), _p(HTTP, HTTPS), _p(HTTP, HTTPS),
         _p(22), _p(HTTP, HTTPS), _p(HTTP, HTTPS)),
    _row(_BOTH, ("vmware",),
         _p(443, 5989), _p(HTTP), _p(HTTP),
         _p(443, 5989), _p(HTTP), _p(HTTP)),
    _row(_BOTH, ("oa",),
         _MP_TO, _p(), _p(),
         _MP_TO, _p(), _p()),
    _row(_BOTH, ("ilo", "vc", "fc_switch", "sas_switch", "moonshot", "superdome", "superdome_x"),
         _MP_TO, _p(), _p(),
         _MP_TO, _p(HTTP), _p(HTTP)),
)  # fmt: skip


def _row8(
    server_oses: t.Tuple[str, ...],
    node_types: t.Tuple[str, ...],
    inventory_to: t.Tuple[PortRef, ...],
    inventory_from: t.Tuple[PortRef, ...],
    deployment_to: t.Tuple[PortRef, ...],
    deployment_from: t.Tuple[PortRef, ...],
) -> Row:
    """Build a row of the SUM 8 page (one "from target" column) in the page's column order."""
    return _frozen_row(server_oses, node_types, inventory_to, deployment_to,
                       {("inventory", COLUMN_SUM8): inventory_from, ("deployment", COLUMN_SUM8): deployment_from})


# The SUM 8 and later table, row for row as the page prints it:
# inventory to / from, deployment to / from.
SUM8_TABLE = (
    _row8(("windows",), ("windows",),
          _p(445, 135, 137, 138, 139), _p(),
          _p(445, 135, 137, 138, 139), _p()),
    _row8(_BOTH, ("linux",),
          _p(22), _p(),
          _p(22), _p()),
    _row8(_BOTH, ("vmware",),
          _p(443, 5989), _p(HTTP),
          _p(443, 5989), _p(HTTP)),
    _row8(_BOTH, ("oa",),
          _MP_TO, _p(),
          _MP_TO, _p()),
    _row8(_BOTH, ("superdome_x",),
          _MP_TO, _p(),
          _MP_TO, _p(HTTP, HTTPS)),
    _row8(_BOTH, ("ilo", "vc", "fc_switch", "sas_switch"),
          _MP_TO, _p(),
          _MP_TO, _p(HTTP)),
    _row8(_BOTH, ("superdome_flex",),
          _p(443), _p(),
          _p(443), _p(HTTPS)),
)  # fmt: skip

# Rule 7: the VMware procedure opens both SUM ports outbound although the table
# lists only HTTP; the extra one is opened but not required when validating.
VMWARE_EXTRA_CALLBACKS = (PortRef(HTTPS, optional=True),)

# Rule 2: Windows -> Windows uses WMI. Names of Windows Firewall's own rules (by
# their rule names, never by localized display names) whose scope we mirror.
WMI_RULES = types.MappingProxyType(
    collections.OrderedDict(
        [
            ("DCOM-In", types.MappingProxyType(
                {"protocol": "tcp", "localport": "135", "program": "%SystemRoot%\\system32\\svchost.exe",
                 "service": "rpcss"})),
            ("WMI-In", types.MappingProxyType(
                {"protocol": "tcp", "localport": "RPC", "program": "%SystemRoot%\\system32\\svchost.exe",
                 "service": "winmgmt"})),
            ("Async-In", types.MappingProxyType(
                {"protocol": "tcp", "localport": "any", "program": "%systemroot%\\system32\\wbem\\unsecapp.exe",
                 "service": "any"})),
        ]
    )
)  # fmt: skip

# The 7.x page's other rules, numbered as in docs/port-matrix.md; reasons and docs quote them.
SUM7_RULES = types.MappingProxyType(
    collections.OrderedDict(
        [
            (1, "The HTTPS port (63002) is also used locally between hpsum_binary and hpsum_service "
                "on the SUM server, on Windows and Linux."),
            (2, "Windows -> Windows traffic uses WMI: DCOM-In on port 135, plus Async-In and WMI-In "
                "(dynamic RPC ports)."),
            (3, "/port and /ssl_port move 63001 and 63002; every rule naming HTTP or HTTPS follows."),
            (4, "--open_firewall opens the HTTP and HTTPS ports for remote node functionality and "
                "for remote browser access to the SUM web UI."),
            (5, "/ftp_port assigns a port for an FTP service; FTP is disabled by default."),
            (6, "hpsum.ini holds the same settings: port=63001 (commonly port=80) and ssl_port=63002 "
                "(commonly ssl_port=443)."),
            (7, "ESXi blocks outgoing connections except to 80, 443 and 5989; an outbound TCP rule per "
                "SUM port is created in /etc/vmware/firewall/ and loaded with esxcli network firewall "
                "refresh. HTTP is required, HTTPS is opened but not required."),
            (8, "HPE Integrity servers have a management and a production network; full remote "
                "administration needs both."),
            (9, "If ports cannot be opened, run SUM locally and update OA, iLO and VC through their "
                "web interfaces."),
        ]
    )
)  # fmt: skip

# The SUM 8 page's rules: 1 with the new program names, 2 and 3 restated by the page, 4-9
# carried over from the 7.x page (the rest of the SUM 8 page was not available in full),
# and the page's two new sentences as 10 and 11.
SUM8_RULES = types.MappingProxyType(
    collections.OrderedDict(
        [(1, "The HTTPS port (63002) is also used locally between sum_binary and sum_service on the SUM "
             "server, on Windows and Linux.")]
        + [(n, SUM7_RULES[n]) for n in (2, 3, 4, 5)]
        + [(6, "sum.ini holds the same settings: [HTTP] port=63001, ssl_port=63002 and [FTP] port "
               "(disabled by default), as hpsum.ini does on the 7.x page.")]
        + [(n, SUM7_RULES[n]) for n in (7, 8, 9)]
        + [(10, "If ports are listed in both columns, SUM communicates bidirectionally (every backend is "
                "stateful: the replies of a planned connection pass without a rule of their own)."),
           (11, "After the first connection binds, SUM traffic can move to a dedicated high-number port "
                "(greater than 1024). The page names neither side nor range: no ephemeral range is planned "
                "on a guess (a known limit of planning).")]
    )
)  # fmt: skip
# Carried over to SUM 8 from the 7.x page without a SUM 8 source (docs say so).
SUM8_CARRIED_OVER = (4, 5, 6, 7, 8, 9)


class Page(t.NamedTuple):
    """One HPE port page: its table, its rules and what it leaves out."""

    key: str
    title: str
    source: str
    versions: str  # the SUM versions that use it, as the docs print them
    columns: t.Tuple[str, ...]  # its "from target" columns
    table: t.Tuple[Row, ...]
    rules: t.Mapping[int, str]
    program_names: str  # rule 1's two programs, as reasons print them
    row_names: t.Mapping[str, str]  # node type -> the page's name for it, where not NODE_TYPE_LABELS'
    row_notes: t.Mapping[str, str]  # node type -> the page's footnote on its row
    not_listed: t.Mapping[str, str]  # node type -> why the page has no row, and what to do


SUM7_PAGE = Page(
    key=SUM7,
    title="Making HP SUM network ports available",
    source="HPE's HP SUM 7.x help topic of that name (SPP 2016.04 and 2017.04 carry it); quoted in "
           "docs/vendor/hpsum-network-ports.txt",
    versions="SUM 7.x and earlier (sum_version < 8.0.0)",
    columns=(COLUMN_OLD, COLUMN_NEW),
    table=SUM7_TABLE,
    rules=SUM7_RULES,
    program_names="hpsum_binary <-> hpsum_service",
    row_names=types.MappingProxyType({"superdome_x": "Superdome 2/X"}),
    row_notes=types.MappingProxyType({}),
    not_listed=types.MappingProxyType({
        "superdome_flex": "the SUM 7.x page has no Superdome Flex row; the SUM 8 and later page "
                          "(sum_version >= 8.0.0) lists it",
    }),
)  # fmt: skip

SUM8_PAGE = Page(
    key=SUM8,
    title="SUM network ports used",
    source="HPE's SUM help topic of that name, file v33312880.htm, read in SPP 2017.10.1 (Japanese edition, "
           "the first seen with it), SPP 2018.11.0 and SPP Gen11 2022.12.00.00 (which adds the VMware footnote); "
           "restated in docs/vendor/sum8-network-ports.md",
    versions="SUM 8.0.0 and later (sum_version >= 8.0.0; 8.0.0 as the first version is our reading)",
    columns=(COLUMN_SUM8,),
    table=SUM8_TABLE,
    rules=SUM8_RULES,
    program_names="sum_binary <-> sum_service",
    row_names=types.MappingProxyType({}),
    row_notes=types.MappingProxyType({
        "vmware": "SPP 2022.12: remote VMware updates only on Gen9 and previous generation servers",
    }),
    not_listed=types.MappingProxyType({
        "hpux": "SUM 8 and later do not list HP-UX nodes; the SUM 7.x page (sum_version < 8.0.0) does",
        "moonshot": "SUM 8 and later do not list Moonshot nodes; the SUM 7.x page (sum_version < 8.0.0) does",
        "superdome": "the SUM 8 and later page has no Superdome 2/X row: choose superdome_x (Superdome X) or "
                     "superdome_flex (Superdome Flex)",
    }),
)  # fmt: skip

PAGES = types.MappingProxyType(collections.OrderedDict([(SUM7, SUM7_PAGE), (SUM8, SUM8_PAGE)]))
PAGE_OF_COLUMN = types.MappingProxyType({COLUMN_OLD: SUM7, COLUMN_NEW: SUM7, COLUMN_SUM8: SUM8})

# Kept names: the 7.x page's table and rules.
TABLE = SUM7_TABLE
RULES = SUM7_RULES


def protocol_for(port: int) -> str:
    """The protocol of a port the page names without one."""
    return "udp" if port in UDP_PORTS else "tcp"


def page_of(column: str) -> Page:
    """The page a "from target" column belongs to."""
    return PAGES[PAGE_OF_COLUMN[column]]


def row_name(page: Page, node_type: str) -> str:
    """A node type's name on a page."""
    return page.row_names.get(node_type, NODE_TYPE_LABELS[node_type])


def row_for(server_os: str, node_type: str, page: str = SUM7) -> t.Optional[Row]:
    """The row of a page for a (SUM server OS, node type) pair, or None when the page has none."""
    for row in PAGES[page].table:
        if server_os in row.server_oses and node_type in row.node_types:
            return row
    return None


def supported_pairs(page: str = SUM7) -> t.List[t.Tuple[str, str]]:
    """Every (server OS, node type) pair a page covers."""
    return [(os_, nt) for os_ in SERVER_OSES for nt in NODE_TYPES if row_for(os_, nt, page) is not None]
