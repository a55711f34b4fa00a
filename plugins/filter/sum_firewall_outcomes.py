# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter: every host of the play and the state the sum_firewall role left it in, said once."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.apply.window import outcomes


def sum_firewall_outcomes(hosts_all: t.Sequence[str], hostvars: t.Any, play_hosts: t.Sequence[str],
                          check_mode: bool = False) -> t.List[str]:
    """Lines: a header, then each state with its hosts."""
    return outcomes(list(hosts_all), hostvars, list(play_hosts), bool(check_mode))


class FilterModule:
    """hpsum.ports window filter."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        """Map filter names to functions."""
        return {"sum_firewall_outcomes": sum_firewall_outcomes}
