# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HP SUM port matrix: the vendor page "Making HP SUM network ports available" as data.

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

# The two "from target" columns of the page, and the version bounds that pick them.
COLUMN_OLD = "<=7.2.1"
COLUMN_NEW = ">=7.3.0"
VERSION_COLUMNS = (COLUMN_OLD, COLUMN_NEW)
LAST_OLD_VERSION = (7, 2, 1)
FIRST_NEW_VERSION = (7, 3, 0)

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
        ]
    )
)
NODE_TYPES = tuple(NODE_TYPE_LABELS)

# Reached through their own management firmware: never logged into to change a
# firewall (docs/inventory.md); rule 9 names OA, iLO and VC as updated through their web UI.
MANAGEMENT_PROCESSORS = ("oa", "ilo", "vc", "fc_switch", "sas_switch", "moonshot", "superdome")
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
    return Row(
        server_oses=server_oses,
        node_types=node_types,
        to_target=types.MappingProxyType({"inventory": inventory_to, "deployment": deployment_to}),
        from_target=types.MappingProxyType(
            {
                ("inventory", COLUMN_OLD): inventory_from_old,
                ("inventory", COLUMN_NEW): inventory_from_new,
                ("deployment", COLUMN_OLD): deployment_from_old,
                ("deployment", COLUMN_NEW): deployment_from_new,
            }
        ),
    )


_BOTH = ("windows", "linux")
_MP_TO = (PortRef(22), PortRef(80, optional=True), PortRef(443))

# The table, row for row and column for column as the page prints it:
# inventory to / from <=7.2.1 / from >=7.3.0, deployment to / from <=7.2.1 / from >=7.3.0.
TABLE = (
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
    _row(_BOTH, ("ilo", "vc", "fc_switch", "sas_switch", "moonshot", "superdome"),
         _MP_TO, _p(), _p(),
         _MP_TO, _p(HTTP), _p(HTTP)),
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

# The page's other rules, numbered as in docs/port-matrix.md; reasons and docs quote them.
RULES = types.MappingProxyType(
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


def protocol_for(port: int) -> str:
    """The protocol of a port the page names without one."""
    return "udp" if port in UDP_PORTS else "tcp"


def row_for(server_os: str, node_type: str) -> t.Optional[Row]:
    """The table row for a (SUM server OS, node type) pair, or None when the page has none."""
    for row in TABLE:
        if server_os in row.server_oses and node_type in row.node_types:
            return row
    return None


def supported_pairs() -> t.List[t.Tuple[str, str]]:
    """Every (server OS, node type) pair the page covers."""
    return [(os_, nt) for os_ in SERVER_OSES for nt in NODE_TYPES if row_for(os_, nt) is not None]
