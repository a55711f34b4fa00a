# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory contract (docs/inventory.md), read here only: host variables -> sum_port_facts options.

Pure functions over plain mappings, so the filter that the sum_plan role calls and the
benchmarks share them.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible.module_utils.common.validation import check_type_bool, check_type_int, check_type_list

from ansible_collections.hpsum.ports.plugins.module_utils.common import checks
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.plan import plan as plan_lib
from ansible_collections.hpsum.ports.plugins.module_utils.plan import port_matrix as pm

SUM_SERVERS_GROUP = "sum_servers"
WINDOWS_CONNECTIONS = ("winrm", "psrp")
# The fleet settings: sum_port_facts option -> the inventory variable that sets it (the sum_plan
# role's defaults). Variable names are read in settings_from_variables and written in variables_of
# only: the plan speaks option names.
SETTINGS = (
    ("sum_version", "sum_plan_version"),
    ("phases", "sum_plan_phases"),
    ("http_port", "sum_plan_http_port"),
    ("https_port", "sum_plan_https_port"),
    ("ftp_port", "sum_plan_ftp_port"),
    ("browser_sources", "sum_plan_browser_sources"),
    ("optional_ports", "sum_plan_optional_ports"),
)
SETTING_OPTIONS = tuple(option for option, _variable in SETTINGS)
# Settings a node takes from its SUM server (the server is where SUM's ports live).
NODE_SETTINGS = ("sum_version", "phases", "http_port", "https_port", "ftp_port", "optional_ports")
# Every host variable the contract reads (an inventory plugin needs no other).
CONTRACT_VARIABLES = ("sum_node_type", "sum_server", "sum_server_os", "sum_address", "sum_mgmt_address",
                      "sum_validate_proxy", "ansible_host", "ansible_connection") + tuple(
                          variable for _option, variable in SETTINGS)

HostVars = t.Mapping[str, t.Mapping[str, t.Any]]


def _host_error(host: str, variable: str, value: t.Any, problem: str) -> SumPortsError:
    return SumPortsError("%s: %r (host %s) %s" % (variable, value, host, problem), option=variable, value=value,
                         host=host)


def address_of(host: str, hvars: t.Mapping[str, t.Any]) -> str:
    """The address SUM uses for a host: sum_address, else ansible_host, else the inventory name."""
    value = hvars.get("sum_address") or hvars.get("ansible_host") or host
    if hvars.get("sum_address"):
        variable = "sum_address"
    elif hvars.get("ansible_host"):
        variable = "ansible_host"
    else:
        variable = "inventory_hostname"
    try:
        return checks.address(variable, value)
    except SumPortsError:
        raise _host_error(host, variable, value, "is not an IP address; set sum_address to the address SUM "
                                                 "uses for this host") from None


def addresses_of(host: str, hvars: t.Mapping[str, t.Any]) -> t.List[str]:
    """Production address, then the management address when there is one (rule 8)."""
    addresses = [address_of(host, hvars)]
    mgmt = hvars.get("sum_mgmt_address")
    if mgmt:
        try:
            mgmt = checks.address("sum_mgmt_address", mgmt)
        except SumPortsError:
            raise _host_error(host, "sum_mgmt_address", mgmt, "is not an IP address") from None
        if mgmt not in addresses:
            addresses.append(mgmt)
    return addresses


def server_os_of(host: str, hvars: t.Mapping[str, t.Any]) -> str:
    """sum_server_os, else windows for a WinRM/PSRP connection, else linux."""
    value = hvars.get("sum_server_os")
    if value is None:
        return "windows" if hvars.get("ansible_connection") in WINDOWS_CONNECTIONS else "linux"
    if value not in ("windows", "linux"):
        raise _host_error(host, "sum_server_os", value, "is not one of windows, linux")
    return str(value)


def servers_of(host: str, hvars: t.Mapping[str, t.Any], sum_servers: t.Sequence[str]) -> t.List[str]:
    """The SUM servers that update a node: sum_server (a name or a list), else all of sum_servers."""
    value = hvars.get("sum_server")
    if value is None:
        names = list(sum_servers)
    elif isinstance(value, str):
        names = [value]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        names = list(value)
    else:
        raise _host_error(host, "sum_server", value, "must be an inventory name or a list of them")
    for name in names:
        if name not in sum_servers:
            problem = "names %s, which is not in group %s" % (name, SUM_SERVERS_GROUP)
            raise _host_error(host, "sum_server", value, problem)
    if not names:
        raise _host_error(host, "sum_server", value, "gives no SUM server: group %s is empty" % SUM_SERVERS_GROUP)
    return names


# Inventory and extra variables arrive as strings (-e, AWX surveys, INI inventories): convert
# them the way a module's argument spec would, and name the variable when that fails.
_CONVERT = {
    "http_port": check_type_int,
    "https_port": check_type_int,
    "ftp_port": check_type_int,
    "optional_ports": check_type_bool,
    "phases": check_type_list,
    "browser_sources": check_type_list,
}
_MISSING = object()


def settings_from_variables(variables: t.Mapping[str, t.Any], host: str = "") -> t.Dict[str, t.Any]:
    """The fleet settings that the sum_plan_* variables among ``variables`` set, by option name, converted.

    The one place where the inventory's names of the settings are read: everything past it speaks
    option names (``http_port``, ...). An error names the variable, its value and ``host``.
    """
    settings = {}
    for option, variable in SETTINGS:
        value = variables.get(variable, _MISSING)
        if value is _MISSING:
            continue
        if value is not None and isinstance(value, (str, bytes)) and option in _CONVERT:
            try:
                value = _CONVERT[option](value)
            except (TypeError, ValueError) as exc:
                raise _host_error(host, variable, value, "cannot be converted (%s)" % exc) from None
        settings[option] = value
    return settings


def variables_of(settings: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """Fleet settings by option name -> by sum_plan_* variable name (the names the inventory publishes)."""
    variables = dict(SETTINGS)
    return {variables[option]: value for option, value in settings.items() if option in variables}


def host_settings(host: str, hvars: t.Mapping[str, t.Any], settings: t.Mapping[str, t.Any]) -> t.Dict[str, t.Any]:
    """The fleet settings of a host (the inventory contract's precedence, docs/inventory.md).

    ``settings`` are the fleet settings given to the task or plugin; the host's own sum_plan_* variables
    override them. Every setting option is in the result (None: not set, the option's default).
    """
    mine = dict.fromkeys(SETTING_OPTIONS)
    mine.update((option, value) for option, value in settings.items() if option in mine)
    mine.update(settings_from_variables(hvars, host))
    return mine


def plan_args(host: str, hostvars: HostVars, groups: t.Mapping[str, t.Sequence[str]],
              settings: t.Mapping[str, t.Any]) -> t.Optional[t.Dict[str, t.Any]]:
    """The sum_port_facts options for one host, or None when it is neither a SUM server nor a node.

    ``settings`` are the fleet settings by option name (``http_port``, ...). A SUM server's own
    sum_plan_* host variables override them (host_settings); a node takes its SUM server's
    (NODE_SETTINGS), whatever the node's own variables say: the server is where SUM's ports live.
    """
    sum_servers = list(groups.get(SUM_SERVERS_GROUP, []))
    hvars = hostvars[host]
    node_type = hvars.get("sum_node_type")
    if host in sum_servers:
        if node_type is not None:
            raise _host_error(host, "sum_node_type", node_type, "is set on a host of group %s; a host is either "
                                                                "a SUM server or a node" % SUM_SERVERS_GROUP)
        args = host_settings(host, hvars, settings)
        args.update(host_role="sum_server", sum_server_os=server_os_of(host, hvars),
                    addresses=addresses_of(host, hvars), peers=_server_peers(host, hostvars, groups, sum_servers))
        return args
    if node_type is None:
        return None
    servers = servers_of(host, hvars, sum_servers)
    node_settings = None
    server_oses = set()
    for server in servers:
        svars = hostvars[server]
        server_oses.add(server_os_of(server, svars))
        mine = host_settings(server, svars, settings)
        mine = {k: mine[k] for k in NODE_SETTINGS}
        if node_settings is not None and mine != node_settings:
            problem = "names SUM servers with different settings (%s); a node's SUM servers must agree" % (
                ", ".join(servers))
            raise _host_error(host, "sum_server", servers, problem)
        node_settings = mine
    if len(server_oses) > 1:
        raise _host_error(host, "sum_server", servers, "mixes Windows and Linux SUM servers; plan them apart")
    args = dict(t.cast(t.Dict[str, t.Any], node_settings))
    args.update(host_role="node", node_type=node_type, sum_server_os=server_oses.pop(),
                addresses=addresses_of(host, hvars), sum_servers=servers,
                peers=plan_lib._unique(a for s in servers for a in addresses_of(s, hostvars[s])))
    return args


def _server_peers(server: str, hostvars: HostVars, groups: t.Mapping[str, t.Sequence[str]],
                  sum_servers: t.Sequence[str]) -> t.List[t.Dict[str, str]]:
    """Every node this SUM server updates, once per address."""
    peers = []
    for host in groups.get("all", []):
        hvars = hostvars[host]
        node_type = hvars.get("sum_node_type")
        if node_type is None or host in sum_servers:
            continue
        if server not in servers_of(host, hvars, sum_servers):
            continue
        for address in addresses_of(host, hvars):
            peers.append({"address": address, "node_type": node_type, "name": host})
        proxy = proxy_of(host, hvars, hostvars) if node_type in pm.MANAGEMENT_PROCESSORS else None
        if proxy is not None:
            peers.append({"address": address_of(proxy, hostvars[proxy]), "node_type": node_type, "name": proxy,
                          "proxy_for": host})
    return peers


def proxy_of(host: str, hvars: t.Mapping[str, t.Any], hostvars: HostVars) -> t.Optional[str]:
    """The host whose probes stand in for a management processor's callbacks (sum_validate_proxy), or None."""
    proxy = hvars.get("sum_validate_proxy")
    if not proxy or hvars.get("sum_node_type") not in pm.MANAGEMENT_PROCESSORS:
        return None
    if not isinstance(proxy, str) or proxy not in hostvars:
        raise _host_error(host, "sum_validate_proxy", proxy, "is not a host of the inventory")
    return proxy


def plan_fleet(hostvars: HostVars, groups: t.Mapping[str, t.Sequence[str]], settings: t.Mapping[str, t.Any],
               hosts: t.Optional[t.Iterable[str]] = None) -> t.Dict[str, t.Dict[str, t.Any]]:
    """Inventory data in, per-host plans out: the plan of each of ``hosts`` (default: all) that is planned.

    ``settings`` are the fleet settings by option name (``http_port``, ...), the values a host takes
    where its own (or, for a node, its SUM server's) sum_plan_* variables do not set them (plan_args).
    Hosts that are neither a SUM server nor a node get no plan; an error names the host.
    """
    plans = {}
    for host in groups.get("all", []) if hosts is None else hosts:
        options = plan_args(host, hostvars, groups, settings)
        if options is not None:
            try:
                plans[host] = plan_lib.build_plan(options, host=host)
            except SumPortsError as exc:
                if exc.details.get("host"):  # the error names its host already
                    raise
                raise SumPortsError("%s (host %s)" % (exc.msg, host), **dict(exc.details, host=host)) from None
    return plans
