# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sum_validate's report as its four files: JSON for tools, Markdown, JUnit XML for CI, HTML for people."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import json
import typing as t

from ansible_collections.hpsum.ports.plugins.module_utils.validate.html_report import render_html
from ansible_collections.hpsum.ports.plugins.module_utils.validate.report import render_junit, render_markdown

REPORT_FILES_ARGUMENT_SPEC = {
    "report": {"type": "dict", "required": True},
    "dest": {"type": "path", "required": True},
}

REPORT_KEYS = ("failed", "summary", "paths", "groups")


def check_report(report: t.Any, name: str = "report") -> t.Optional[str]:
    """What is wrong with ``report`` (not the result of hpsum.ports.sum_validate_report), or None; the message
    starts with ``name``, the option or filter that was given it."""
    if not isinstance(report, t.Mapping):
        return "%s: must be the result of hpsum.ports.sum_validate_report, got %s" % (name, type(report).__name__)
    missing = [key for key in REPORT_KEYS if key not in report]
    if missing:
        return ("%s: must be the result of hpsum.ports.sum_validate_report; it has no %s"
                % (name, ", ".join(missing)))
    return None


def report_files(report: t.Mapping[str, t.Any]) -> t.Dict[str, str]:
    """File name -> text, in the order the role has always written them."""
    return {
        # The JSON as ansible.builtin.to_nice_json writes it, with a final newline.
        "sum-validate.json": json.dumps(report, indent=4, sort_keys=True, separators=(",", ": ")) + "\n",
        "sum-validate.md": render_markdown(report),
        "sum-validate.xml": render_junit(report),
        "sum-validate.html": render_html(report),
    }
