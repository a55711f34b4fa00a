# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    """Modules whose action plugin writes a set of files into a directory of the controller
    (plugins/plugin_utils/controller_files.py)."""

    DOCUMENTATION = r"""
options:
  dest:
    description: The directory of the controller the files are written into; relative to the current directory.
    type: path
    required: true
attributes:
  diff_mode:
    description: The diff shows each file that changes.
    support: full
    details: One entry per file that changes, its whole text before and after.
  action:
    description: An action plugin of the same name renders and writes the files on the controller.
    support: full
    details: Runs entirely on the controller, whatever the host the task runs for.
  platform:
    description: The controller's file system; nothing runs on the task's host.
    support: full
    platforms: posix
"""
