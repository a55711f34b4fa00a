#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hpsum.ports contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: port_listener
short_description: Temporary TCP listeners on SUM's callback ports, so callbacks can be proven before SUM runs
version_added: "1.0.0"
description:
  - With O(state=started), binds every port of O(ports) where nothing listens yet and hands the
    sockets to a detached child process that accepts and closes connections, and exits by itself
    after O(timeout) seconds. A port that another program holds is reported in RV(busy), with
    its owners when C(/proc) shows them, and is never taken.
  - With O(state=stopped), stops the child named in O(pidfile). It signals the pid only when
    C(/proc/PID/cmdline) carries this module's marker and the random token of the pidfile, so a
    reused pid is never signalled. A pidfile whose process is gone is removed (RV(stale)).
  - A second O(state=started) whose ports are already held by the running listener changes
    nothing (and does not extend its lifetime). Asking for other ports replaces the listener.
  - Linux only (C(/proc)).
author:
  - hpsum.ports contributors (@hpsum)
attributes:
  check_mode:
    support: full
    description: Check mode tests each port with a bind that is released at once and reports what a real run would do.
  diff_mode:
    support: full
    description: The diff shows the listener's pid and ports before and after.
options:
  state:
    description: V(started) starts the listener, V(stopped) stops it.
    type: str
    choices: [started, stopped]
    default: started
  ports:
    description:
      - TCP ports to listen on. Required non-empty with O(state=started); ignored with O(state=stopped).
    type: list
    elements: int
    default: []
  timeout:
    description:
      - Seconds after which the listener exits by itself, whatever happens to the play. The backstop
        when O(state=stopped) never runs.
    type: int
    default: 600
  address:
    description:
      - Address to bind. Default is every address, IPv6 and IPv4 (dual-stack C(::)), or every IPv4
        address when the host has no IPv6.
    type: str
  pidfile:
    description:
      - JSON file naming the listener (pid, token, ports, expiry). Its directory is created when missing.
        Use a path the remote user may write when not running as root.
    type: path
    default: /run/hpsum_ports_listener.json
notes:
  - The child is a C(python -c) process in its own session with stdin, stdout and stderr on C(/dev/null),
    so it does not hold the connection open. It removes the pidfile when it exits.
seealso:
  - module: hpsum.ports.port_probe
"""

EXAMPLES = r"""
- name: Listen on SUM's callback ports for at most ten minutes
  hpsum.ports.port_listener:
    ports: [63001, 63002]
    timeout: 600
  register: listener

- name: Stop it
  hpsum.ports.port_listener:
    state: stopped
"""

RETURN = r"""
state:
  description: The requested state.
  returned: always
  type: str
  sample: started
ports:
  description: Ports the running listener holds (after this run); empty when none runs.
  returned: always
  type: list
  elements: int
  sample: [63001, 63002]
pid:
  description: Pid of the running listener, or V(null) when none runs (or in check mode before it would start).
  returned: always
  type: int
  sample: 4242
busy:
  description: Requested ports already held by another program, with their owners when visible.
  returned: always
  type: list
  elements: dict
  sample: [{port: 63002, owners: [{pid: 812, program: hpsum_service}], error: Address already in use}]
stopped_pid:
  description: Pid of a listener this run stopped (to stop or to replace it), else V(null).
  returned: always
  type: int
  sample: 4100
stale:
  description: True when the pidfile named a process that was gone or not ours; the file was removed.
  returned: always
  type: bool
  sample: false
expires:
  description: Unix time at which the running listener exits by itself.
  returned: when state=started
  type: float
  sample: 1764121200.5
pidfile:
  description: The pidfile used.
  returned: always
  type: str
  sample: /run/hpsum_ports_listener.json
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError
from ansible_collections.hpsum.ports.plugins.module_utils.validate.listener import Listener

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["started", "stopped"], "default": "started"},
    "ports": {"type": "list", "elements": "int", "default": []},
    "timeout": {"type": "int", "default": 600},
    "address": {"type": "str"},
    "pidfile": {"type": "path", "default": "/run/hpsum_ports_listener.json"},
}


def main() -> t.NoReturn:
    """Start or stop the temporary listener."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = Listener(module).run()
    except SumPortsError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
