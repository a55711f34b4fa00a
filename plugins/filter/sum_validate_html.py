# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sum_validate report as one self-contained HTML page."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.hpsum.ports.plugins.module_utils.validate.html_report import render_html


def sum_validate_html(report: t.Mapping[str, t.Any]) -> str:
    """The report as HTML."""
    if not isinstance(report, t.Mapping) or "paths" not in report or "groups" not in report:
        raise AnsibleFilterError("sum_validate_html: the input must be the result of hpsum.ports.sum_validate_report, "
                                 "got %s" % type(report).__name__)
    return render_html(report)


class FilterModule:
    """hpsum.ports validation report as HTML."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        """Map filter names to functions."""
        return {"sum_validate_html": sum_validate_html}
