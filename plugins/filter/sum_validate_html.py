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
from ansible_collections.hpsum.ports.plugins.module_utils.validate.report_files import check_report


def sum_validate_html(report: t.Mapping[str, t.Any]) -> str:
    """The report as HTML."""
    problem = check_report(report, "sum_validate_html")
    if problem:
        raise AnsibleFilterError(problem)
    return render_html(report)


class FilterModule:
    """hpsum.ports validation report as HTML."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        """Map filter names to functions."""
        return {"sum_validate_html": sum_validate_html}
