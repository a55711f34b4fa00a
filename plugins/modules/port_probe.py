#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: port_probe
short_description: Prove TCP paths from this host to many (address, port) pairs at once
version_added: "1.0.0"
description:
  - Connects with TCP from the host it runs on to every (address, port) pair in O(targets),
    concurrently (non-blocking sockets and one selector), at most O(concurrency) at once, each
    connect bounded by O(timeout).
  - Returns one result per pair, in order. V(open) means the connect completed. V(closed) means it
    was refused (the destination is reachable and nothing listens there, or a firewall there answers
    with a reset or an ICMP port unreachable, as C(iptables -j REJECT) does). V(filtered) means no
    answer within O(timeout), an ICMP host, network or administratively prohibited unreachable, or
    the probing host refused to send it (EPERM or EACCES, a prohibit route for one). V(error) is anything else (a name
    that does not resolve, an address family the host lacks).
  - The probing host's own firewall looks the same from the socket as a remote one - a drop on output
    is a timeout (the kernel retries the SYN), a reject there a refusal or an ICMP unreachable.
  - A UDP pair (SUM's 137 and 138) is reported V(untested), since a TCP connect proves nothing about it.
  - IPv4 and IPv6 addresses, and host names (resolved on the probing host).
  - Nothing is changed on any host; the connects themselves are the only effect.
author:
  - hpsum.ports contributors (@hpsum)
attributes:
  check_mode:
    support: full
    description: The probes are read-only and run in check mode too, so check mode reports the real states.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
options:
  targets:
    description:
      - The pairs to probe.
    type: list
    elements: dict
    required: true
    suboptions:
      address:
        description: IPv4 or IPv6 address, or host name, of the destination.
        type: str
        required: true
      port:
        description: Destination port, 1-65535.
        type: int
        required: true
      protocol:
        description: V(udp) pairs are not probed and come back V(untested).
        type: str
        choices: [tcp, udp]
        default: tcp
      id:
        description: Any label; echoed back in the pair's result so callers can match results to their paths.
        type: str
      source:
        description:
          - Local address to connect from (bound before the connect), to prove a path from one of the
            host's addresses, such as an Integrity server's management address. Default is the kernel's choice.
        type: str
  timeout:
    description:
      - Seconds one connect may take before the pair is V(filtered). Also the floor of the whole run when
        any pair is filtered by a silent drop.
    type: float
    default: 3.0
  concurrency:
    description:
      - How many connects may be in flight at once. Capped by the process's open-file limit.
    type: int
    default: 128
notes:
  - Needs Python on the probing host; Windows hosts, HP-UX hosts without Python and management processors
    cannot run it. Ansible's M(ansible.builtin.wait_for) does the same for one pair per task.
seealso:
  - module: hpsum.ports.port_listener
  - module: ansible.builtin.wait_for
"""

EXAMPLES = r"""
- name: Prove the to-target paths of two nodes from the SUM server
  hpsum.ports.port_probe:
    targets:
      - {address: 198.18.0.20, port: 22}
      - {address: 198.18.0.21, port: 443, id: "ilo1-https"}
      - {address: "2001:db8::21", port: 443}
      - {address: 198.18.0.22, port: 137, protocol: udp}
    timeout: 2
    concurrency: 200
  register: probe

- name: Show what is not open
  ansible.builtin.debug:
    msg: "{{ probe.results | rejectattr('state', 'eq', 'open') | list }}"
"""

RETURN = r"""
results:
  description: One result per target, in the order of O(targets).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The target's O(targets[].id), or V(null).
      type: str
      sample: ilo1-https
    address:
      description: The target's address as given.
      type: str
      sample: 198.18.0.21
    port:
      description: The target's port.
      type: int
      sample: 443
    protocol:
      description: The target's protocol.
      type: str
      sample: tcp
    state:
      description: V(open), V(closed), V(filtered), V(error) or V(untested).
      type: str
      sample: filtered
    reason:
      description:
        - Why. V(connected), V(refused), V(timeout), V(host unreachable), V(network unreachable),
          V(blocked on source) (EPERM or EACCES on the probing host), V(udp),
          V(resolve), V(socket), or the errno name of an unexpected error.
      type: str
      sample: timeout
    elapsed_ms:
      description: Milliseconds from the start of this pair's connect to its result.
      type: float
      sample: 3000.4
    error:
      description: The system error text, or V(null) when the pair is open.
      type: str
      sample: "no answer within 3s"
    resolved:
      description: The IP address connected to, or V(null) when the name did not resolve or the pair is UDP.
      type: str
      sample: 198.18.0.21
    source:
      description: The target's O(targets[].source), or V(null).
      type: str
      sample: 198.18.0.120
summary:
  description: How many results have each state; every state is present.
  returned: always
  type: dict
  sample: {open: 10, closed: 1, filtered: 2, error: 0, untested: 2}
elapsed_ms:
  description: Milliseconds the whole probe run took.
  returned: always
  type: float
  sample: 3004.2
concurrency:
  description: The concurrency limit used, after capping by the open-file limit.
  returned: always
  type: int
  sample: 128
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.validate.probe import PortProbe

ARGUMENT_SPEC = {
    "targets": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "address": {"type": "str", "required": True},
            "port": {"type": "int", "required": True},
            "protocol": {"type": "str", "choices": ["tcp", "udp"], "default": "tcp"},
            "id": {"type": "str"},
            "source": {"type": "str"},
        },
    },
    "timeout": {"type": "float", "default": 3.0},
    "concurrency": {"type": "int", "default": 128},
}


def main() -> t.NoReturn:
    """Probe every target and return the states."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = PortProbe(module).run()
    except SumPortsError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
