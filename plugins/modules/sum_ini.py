#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sum_ini
short_description: Set, read and remove SUM's ports and other keys in hpsum.ini or sum.ini
version_added: 1.0.0
description:
  - Sets HPE Smart Update Manager's HTTP, HTTPS and FTP ports, and any other key, in its ini file,
    reads them back, and removes keys.
  - "Two flavours. C(hpsum.ini) (HP SUM 7.x) is flat C(key=value) lines: C(port=), C(ssl_port=),
    C(ftp_port=). C(sum.ini) (SUM 8 and later) has sections: C([HTTP]) C(port=) and C(ssl_port=),
    C([FTP]) C(port=), which is C(disabled) when FTP is off."
  - Only the changed line changes. Everything else stays byte for byte, including comments (V(;) and V(#)),
    blank lines, key order, a UTF-8 BOM, CRLF line ends, a missing final newline, unknown keys and the
    spacing around V(=). A new key goes after the last key of its section, spaced like the file's last key
    line; a new section goes at the end of the file.
  - A commented-out key is never taken for the live one. Keys and section names compare case-insensitively
    (as Windows' own ini functions do); their spelling in the file is kept. Everything after the first V(=)
    is the value (no inline comments).
  - A file with the same key twice in the same section is an error that names the file, the key and both
    line numbers. Every bad value is an error naming the option and the value, and leaves the file untouched.
  - The file is written atomically (a temporary file in the same directory, then a rename); owner, mode and
    SELinux context are kept. A symlink is followed and kept.
  - On Windows targets (PowerShell connections) the collection's C(sum_ini) action plugin reads the file with
    M(ansible.windows.slurp), computes the new bytes on the controller with the same code and writes them back with
    M(ansible.windows.win_copy); see the C(sum_config) role's documentation.
  - SUM reads its ports when it starts; restart it for a change to take effect.
author:
  - hpsum.ports contributors (@hpsum)
attributes:
  check_mode:
    support: full
    description: Predicts exactly what a real run changes, including the diff.
  diff_mode:
    support: full
    description: Shows the whole file before and after.
  platform:
    support: full
    platforms: posix, windows
    description: Linux targets run the module; Windows targets go through the action plugin.
options:
  path:
    description:
      - The ini file. C(hpsum.ini) for HP SUM 7.x, C(sum.ini) for SUM 8 and later.
    type: path
    required: true
  flavour:
    description:
      - V(hpsum) for C(hpsum.ini) (flat C(key=value)), V(sum) for C(sum.ini) (sections).
      - V(auto) decides from the content (a C([HTTP]) or C([FTP]) section means V(sum); a top-level C(port),
        C(ssl_port) or C(ftp_port) means V(hpsum)), then from the file name; otherwise it is an error.
    type: str
    default: auto
    choices: [auto, hpsum, sum]
    aliases: [flavor]
  http_port:
    description:
      - SUM's HTTP port, 1-65535 (C(port=); in C(sum.ini) under C([HTTP])). Omitted, it is left as it is.
      - Must differ from the HTTPS port in the resulting file.
    type: int
  https_port:
    description:
      - SUM's HTTPS port, 1-65535 (C(ssl_port=); in C(sum.ini) under C([HTTP])). Omitted, it is left as it is.
    type: int
  ftp_port:
    description:
      - SUM's FTP port, 1-65535, or V(disabled) to turn FTP off. Omitted, it is left as it is.
      - In C(hpsum.ini) it is C(ftp_port=) and V(disabled) removes the line (FTP is off without it).
        In C(sum.ini) it is C([FTP]) C(port=) and V(disabled) writes C(port=disabled).
    type: raw
  settings:
    description:
      - Any other keys, set or removed. A key set here must not also be set by O(http_port), O(https_port) or
        O(ftp_port).
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description:
          - The key. No V(=), V([), V(]), line break, surrounding spaces, or leading V(;) or V(#).
        type: str
        required: true
      section:
        description:
          - The section, without brackets. Omitted, the key is at the top of the file (before any section).
        type: str
      value:
        description:
          - The value. No line break and no surrounding spaces. Required when O(settings[].state=present).
        type: str
      state:
        description:
          - V(present) sets the key, V(absent) removes its line.
        type: str
        default: present
        choices: [present, absent]
  create:
    description:
      - Create the file when it does not exist (its directory must exist). V(false) makes a missing file an error.
    type: bool
    default: false
  backup:
    description:
      - Keep a copy of the file, with a timestamp in its name, before changing it.
    type: bool
    default: false
notes:
  - The default locations of SUM's ini file are in the C(sum_config) role's documentation.
seealso:
  - module: community.general.ini_file
    description: A general ini module; it does not know SUM's flavours and rewrites spacing.
"""

EXAMPLES = r"""
- name: Move SUM 7.x to ports 80 and 443
  hpsum.ports.sum_ini:
    path: /opt/hp/hpsum/hpsum.ini
    flavour: hpsum
    http_port: 80
    https_port: 443
    backup: true

- name: SUM 8 ports, FTP off, creating sum.ini if needed
  hpsum.ports.sum_ini:
    path: /opt/sum/sum.ini
    flavour: sum
    http_port: 63001
    https_port: 63002
    ftp_port: disabled
    create: true

- name: Set one raw key and remove another
  hpsum.ports.sum_ini:
    path: /opt/sum/sum.ini
    settings:
      - section: HTTP
        key: bind
        value: 198.18.0.10
      - key: legacy_option
        state: absent

- name: Read what SUM will listen on (no change)
  hpsum.ports.sum_ini:
    path: /opt/sum/sum.ini
  register: sum_ini_now
"""

RETURN = r"""
path:
  description: The ini file.
  returned: always
  type: str
  sample: /opt/sum/sum.ini
flavour:
  description: The flavour used, V(hpsum) or V(sum) (detected when O(flavour=auto)).
  returned: always
  type: str
  sample: sum
created:
  description: Whether the file was (or in check mode would be) created.
  returned: always
  type: bool
  sample: false
ports:
  description:
    - What SUM will listen on with the file as it is after this task; a port the file does not set is SUM's default.
  returned: always
  type: dict
  contains:
    http_port:
      description: HTTP port (default 63001). A value that is not a number is returned as the file's text.
      type: raw
      sample: 63001
    https_port:
      description: HTTPS port (default 63002).
      type: raw
      sample: 63002
    ftp_port:
      description: FTP port, or V(null) when FTP is disabled.
      type: raw
      sample: null
  sample: {"http_port": 63001, "https_port": 63002, "ftp_port": null}
values:
  description: Every live key of the file after this task, by section (V("") for the top of the file).
  returned: always
  type: dict
  sample: {"HTTP": {"port": "63001", "ssl_port": "63002"}, "FTP": {"port": "disabled"}}
backup_file:
  description: The copy made by O(backup=true).
  returned: changed and O(backup=true) and the file existed
  type: str
  sample: /opt/sum/sum.ini.12345.2026-11-26@01:02:03~
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.config.sum_ini import ARGUMENT_SPEC, SumIni


def main() -> t.NoReturn:
    """Run the module."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = SumIni(module).run()
    except SumPortsError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
