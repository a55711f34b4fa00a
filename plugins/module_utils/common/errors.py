# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one exception type of the collection's logic; only main() turns it into fail_json."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import typing as t


class SumPortsError(Exception):
    """A bad input or a failed step, with details for fail_json (option, value, cmd, rc...)."""

    def __init__(self, msg: str, **details: t.Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.details = details

    def __str__(self) -> str:
        return self.msg


def option_error(option: str, value: t.Any, problem: str) -> SumPortsError:
    """An error that names the option and the value: ``http_port: 70000 is outside 1-65535``."""
    return SumPortsError("%s: %r %s" % (option, value, problem), option=option, value=value)
