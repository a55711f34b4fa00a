# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter: a Windows host's sum_ports -> community.windows.win_firewall_rule parameters."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.hpsum.ports.plugins.module_utils.apply.windows.windows_rules import windows_rules
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError


def windows_firewall_rules(sum_ports: t.Any, outbound: bool = False) -> t.List[t.Dict[str, t.Any]]:
    """One dict of win_firewall_rule options per rule; errors name the plan key and value."""
    if not isinstance(outbound, bool):
        raise AnsibleFilterError("windows_firewall_rules: outbound: %r is not a boolean" % (outbound,))
    try:
        return windows_rules(sum_ports, outbound=outbound)
    except SumPortsError as exc:
        raise AnsibleFilterError("windows_firewall_rules: %s" % exc) from None


class FilterModule:
    """hpsum.ports Windows filter."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        """Map filter names to functions."""
        return {"windows_firewall_rules": windows_firewall_rules}
