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
    answer within O(timeout) (after O(retries)), an ICMP host, network, protocol or administratively
    prohibited unreachable, or the probing host refused to send it (a prohibit or blackhole route, a
    local policy). V(error) is anything else (a name that does not resolve, an address family the host lacks).
  - On Linux the ICMP error's sender is read from the socket's error queue and returned as RV(results[].offender),
    so a refusal by the destination, by a router or firewall in between, and by the probing host's own
    firewall are told apart (an ICMP or ICMPv6 administratively prohibited - ICMP codes 9, 10 and 13, ICMPv6 codes
    1, 5 and 6 - from the destination is V(administratively prohibited), the same error from the probing host
    itself V(blocked on source)).
  - A connect that timed out is tried again (O(retries)) before it is V(filtered), since hosts send ICMP errors at a
    limited rate (Linux, by default, 6 at once and then one a second to one peer, C(net.ipv4.icmp_ratelimit)), so
    probing many rejected ports of one host at once leaves some unanswered. The retries of a destination that answered
    other pairs with ICMP errors start O(retry_pace) seconds apart, never faster (a faster retry only meets the empty
    limit again), the last of them at most O(retry_window) seconds after the first retry. A pair the window leaves
    without a retry is V(untested) with reason V(icmp rate limit), and its error names the O(retry_window) that would
    prove it, never V(filtered). Destinations that sent no ICMP error (drops only) are retried at once.
  - "Wall time: about O(timeout) x (1 + O(retries)) when no destination rate-limits its ICMP errors. A destination that
    does adds the pacing of its silent ports: N REJECTed ports of one host need about N - 6 seconds at the default
    O(retry_pace) (6 answered at once, then one a second; a little less, as the kernel's own SYN retransmissions get
    some answers within the first O(timeout)), bounded by O(retry_window). The verdict of such a port then agrees with
    C(nmap -sT), which slows down the same way; a smaller O(retry_window) trades that agreement for time, per
    destination, and says so (V(untested)). The dropped ports of a host that also rejects are paced with its rejected
    ones (a drop and a rate-limited reject look the same until the retry)."
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
      - Seconds one connect may take before the pair is tried again or V(filtered). Also the floor of the whole
        run (once per attempt) when any pair is filtered by a silent drop.
    type: float
    default: 3.0
  retries:
    description:
      - How many times a pair that timed out is tried again before it is V(filtered), 0-5.
    type: int
    default: 1
  retry_pace:
    description:
      - Seconds between the retries of one destination that answered other pairs with ICMP errors (its ICMP rate
        limit). Linux hosts send one such error a second to one peer by default (C(net.ipv4.icmp_ratelimit) 1000 ms;
        IPv6 C(net.ipv6.icmp.ratelimit), 1000 or 100 ms depending on the kernel); a Linux router forwarding to an
        unreachable address one a second after 5. A value below the destination's limit gains nothing, the retries
        meet the empty limit and stay silent.
    type: float
    default: 1.0
  retry_window:
    description:
      - Seconds, counted from the first retry, within which the paced retries of one destination that answered with
        ICMP errors start; the wall-time budget of a rate-limited destination. Its timed-out pairs beyond
        O(retry_window) / O(retry_pace) + 1 get no retry and are V(untested), their error naming the window that
        proves them.
      - The default proves about 60 REJECTed ports of one Linux host in one call (N ports need about N - 6 seconds).
        With 0, a rate-limited destination gets at most one paced retry, the rest of its silent pairs V(untested).
    type: float
    default: 60.0
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
          V(protocol unreachable), V(administratively prohibited) (an ICMP error from the destination or a host in
          between, see RV(results[].offender)), V(blocked on source) (the probing host refused to send it, for a
          prohibit route, a local policy or its own firewall's reject on output), V(blackhole route) (on the probing
          host),
          V(icmp rate limit) (state V(untested), not retried within O(retry_window)), V(udp), V(resolve), V(socket), or
          the errno name of an unexpected error.
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
    local_address:
      description:
        - The local address the kernel used as the connect's source (its choice, or O(targets[].source)), or V(null)
          when the connect never started.
      type: str
      sample: 198.18.0.101
    offender:
      description:
        - The address that sent the ICMP error which ended the connect (Linux), or V(null) (open, a reset, a timeout,
          a refusal on the probing host before anything was sent).
      type: str
      sample: 198.18.0.102
    attempts:
      description: How many connects the pair took (2 when it was retried after a timeout; 0 for UDP).
      type: int
      sample: 1
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
    "retries": {"type": "int", "default": 1},
    "retry_pace": {"type": "float", "default": 1.0},
    "retry_window": {"type": "float", "default": 60.0},
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
