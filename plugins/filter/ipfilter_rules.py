# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter: an HP-UX node's sum_ports -> IPFilter (ipf.conf) lines, the manual step."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.hpsum.ports.plugins.module_utils.apply.hpux.ipfilter import render_text
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError


def ipfilter_rules(sum_ports: t.Any, host: str = "") -> str:
    """The text to add to /etc/opt/ipf/ipf.conf (and ipf6.conf) on the node, with how to load it."""
    try:
        return render_text(sum_ports, host=str(host))
    except SumPortsError as exc:
        raise AnsibleFilterError("ipfilter_rules: %s" % exc) from None


class FilterModule:
    """hpsum.ports HP-UX filter."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        """Map filter names to functions."""
        return {"ipfilter_rules": ipfilter_rules}
