#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: esxi_firewall_rule
short_description: Let an ESXi host call HP SUM back (outbound TCP ruleset restricted to the SUM server)
version_added: "1.0.0"
description:
  - Runs on the ESXi host. Writes one custom ruleset file of its own under C(/etc/vmware/firewall/)
    with one outbound TCP destination-port rule per SUM callback port, loads it with
    C(esxcli network firewall refresh), enables the ruleset and restricts its allowed IPs to exactly
    the SUM server address(es), then reads the result back from C(esxcli network firewall ruleset list),
    C(ruleset rule list) and C(ruleset allowedip list) and fails when it differs.
  - Ports ESXi allows outbound by default (80, 443, 5989) need no rule and are left out. When no port is
    left (SUM moved to 80/443) no file is written (an old one of ours is removed) and RV(msg) says why.
  - Other files under C(/etc/vmware/firewall/) are never read or written.
  - The XML is built with ElementTree from validated values, parsed back and compared before it is written.
  - esxcli is run with its default table output; see the collection's docs/esxi.md.
  - ESXi does not keep files under C(/etc/vmware/firewall/) across a reboot. O(persist=true) adds a block of
    this module's own to C(/etc/rc.local.d/local.sh) that re-creates the ruleset at boot. ESXi 8 with UEFI
    secure boot (or C(execInstalledOnly)) does not run C(local.sh); a VIB carrying the file is the alternative.
author:
  - hpsum.ports contributors (@hpsum)
options:
  state:
    description:
      - V(present) writes and loads the ruleset; V(absent) removes the file (and the O(persist) block) and refreshes.
    type: str
    choices: [present, absent]
    default: present
  ports:
    description:
      - The SUM callback ports this host connects to (SUM's HTTP and HTTPS port, from the plan).
      - Ports in 80, 443 and 5989 are skipped (ESXi allows them outbound by default).
      - Required with O(state=present).
    type: list
    elements: int
  allowed_ips:
    description:
      - Addresses or networks of the SUM server(s); the ruleset allows exactly these.
      - Required with O(state=present) when a port needs a rule.
    type: list
    elements: str
    default: []
  ruleset_id:
    description:
      - The ruleset (service) id written into the file and used with esxcli. A letter, then letters, digits,
        V(_) or V(-).
    type: str
    default: hpsumPorts
  file_name:
    description:
      - The file's name under C(/etc/vmware/firewall/); a plain name ending in C(.xml).
    type: str
    default: hpsum_ports.xml
  persist:
    description:
      - Re-create the ruleset at boot from a marked block in C(/etc/rc.local.d/local.sh) (inserted before its final
        C(exit 0); the rest of the file is kept byte for byte). V(false) removes that block if present.
      - Not executed by ESXi with UEFI secure boot enabled; see the description. The module warns when
        C(/usr/lib/vmware/secureboot/bin/secureBoot.py -s) says secure boot is enabled.
    type: bool
    default: false
  expires:
    description:
      - A deadline for the window, with O(state=present). At the deadline ESXi's own busybox crond runs a small
        script that removes the ruleset as O(state=absent) does (the file, C(esxcli network firewall refresh), the
        module's C(local.sh) blocks), then its crontab line and itself; no controller is needed.
      - "A duration (V(4h), V(90m), V(1h30m), V(2d)) counts from the first run that set a deadline; a later run with
        the same duration keeps the deadline it finds. An absolute time needs its zone (V(2026-12-02T07:00:00Z)); a
        different one is a change. The deadline is rounded up to a whole minute (crontab lines count minutes)."
      - The schedule is a line in C(/var/spool/cron/crontabs/root) (crond restarted as VMware documents it), the
        script under C(/etc/hpsum_ports/), and a block of its own in C(/etc/rc.local.d/local.sh) that re-arms it at
        boot, or runs the script at once when the deadline passed while the host was off. Needs C(local.sh).
      - Omitted or empty, a deadline set earlier stays as it is. O(state=absent) cancels it. Not run at boot with
        UEFI secure boot (the module warns), like O(persist).
    type: str
    version_added: 1.2.0
attributes:
  check_mode:
    support: full
    description: Predicts the file, ruleset and local.sh changes from the same comparison as a real run.
  diff_mode:
    support: full
    description: The XML file, the ruleset as esxcli shows it, local.sh, and with O(expires) the deadline, root's
      crontab and the removal script, before and after.
  platform:
    support: full
    platforms: ESXi
    description: Needs C(esxcli) and C(/etc/vmware/firewall/) on the host.
notes:
  - Tested against a Linux host carrying an esxcli test double (tests/lab/esxi/esxcli), not against real ESXi.
seealso:
  - name: Making HP SUM network ports available (rule 7)
    description: The vendor page's procedure this module automates.
    link: https://support.hpe.com/
"""

EXAMPLES = r"""
- name: Let the ESXi host reach SUM's callback ports on the SUM server only
  hpsum.ports.esxi_firewall_rule:
    ports: [63001, 63002]
    allowed_ips: [198.18.0.10]

- name: From the plan (sum_plan role)
  hpsum.ports.esxi_firewall_rule:
    ports: "{{ sum_ports.esxi.custom_rule_ports }}"
    allowed_ips: "{{ sum_ports.rules | selectattr('direction', 'eq', 'out')
                     | map(attribute='peers') | flatten | unique }}"
    persist: true

- name: Open for four hours; ESXi's crond closes the window then, also after a reboot
  hpsum.ports.esxi_firewall_rule:
    ports: [63001, 63002]
    allowed_ips: [198.18.0.10]
    expires: 4h

- name: Close again after the update window
  hpsum.ports.esxi_firewall_rule:
    state: absent
"""

RETURN = r"""
msg:
  description: What was done, or why nothing was needed.
  returned: always
  type: str
  sample: "changed: ruleset hpsumPorts allows outbound tcp 63001, 63002 to 198.18.0.10"
path:
  description: The ruleset file.
  returned: always
  type: str
  sample: /etc/vmware/firewall/hpsum_ports.xml
ruleset_id:
  description: The ruleset id.
  returned: always
  type: str
  sample: hpsumPorts
ports:
  description: The ports that got an outbound rule.
  returned: always
  type: list
  elements: int
  sample: [63001, 63002]
skipped_ports:
  description: Given ports ESXi allows outbound by default, so no rule was written for them.
  returned: always
  type: list
  elements: int
  sample: [443]
allowed_ips:
  description: The addresses the ruleset is restricted to.
  returned: always
  type: list
  elements: str
  sample: [198.18.0.10]
persisted:
  description: Whether the local.sh boot block is in place.
  returned: always
  type: bool
  sample: false
ruleset:
  description: The ruleset as esxcli shows it after the run (or would, in check mode).
  returned: always
  type: dict
  sample: {"loaded": true, "enabled": true, "allowed_all": false, "allowed_ips": ["198.18.0.10"], "ports": [63001]}
expires_at:
  description: When the window closes by itself (UTC), or null when it has no deadline.
  returned: always
  type: str
  sample: "2026-12-02T07:00:00Z"
commands:
  description: The changing esxcli commands run (argv lists); empty in check mode.
  returned: always
  type: list
  elements: list
  sample: [["/bin/esxcli", "network", "firewall", "refresh"]]
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi.esxi_firewall import EsxiFirewallRule
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "ports": {"type": "list", "elements": "int"},
    "allowed_ips": {"type": "list", "elements": "str", "default": []},
    "ruleset_id": {"type": "str", "default": "hpsumPorts"},
    "file_name": {"type": "str", "default": "hpsum_ports.xml"},
    "persist": {"type": "bool", "default": False},
    "expires": {"type": "str"},
}


def main() -> t.NoReturn:
    """Run the module."""
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC, supports_check_mode=True, required_if=[("state", "present", ["ports"])]
    )
    try:
        result = EsxiFirewallRule(module).run()
    except SumPortsError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
