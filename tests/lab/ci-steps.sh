# shellcheck shell=bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Functions .ci/run uses for the test lab. Source it:
#
#   . tests/lab/ci-steps.sh
#   apt-get install -y $(lab_apt_packages)     # plus the rest of CI's packages
#   trap 'lab_down' EXIT                        # down even when tests fail (or up fails)
#   lab_up                                      # fresh: builds the base on a new machine (~25 s),
#                                               #   boots the default lab (~8 s)
#   lab_test                                    # pytest -m lab on tests/integration
#
# Everything runs as root. Nothing here touches anything outside the lab's own names.

# The Debian packages the lab needs on the machine (one line, space separated).
lab_apt_packages() {
    echo systemd-container mmdebstrap iproute2 openssh-client util-linux python3-yaml
}

_lab_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd); }

# Bring a lab up fresh (default: the default lab): whatever an earlier session left of it
# (processes ended, namespaces, mounts, persisted host state) is taken down first, then every
# host boots from the base in its starting state. Prints the inventory path. Shows the lab's
# status and the tail of each console log when it fails, so CI logs say why.
lab_up() {
    local root lab
    root=$(_lab_root)
    lab=${1:-$root/tests/lab/labs/default.yml}
    "$root/tests/lab/lab" down --lab "$lab" || return 1
    if ! "$root/tests/lab/lab" up --lab "$lab"; then
        echo "lab up failed; status and console logs follow" >&2
        "$root/tests/lab/lab" status --lab "$lab" >&2 || true
        tail -n 20 /var/lib/hpsum-lab/*/hosts/*/console.log >&2 2>/dev/null || true
        return 1
    fi
}

# Take a lab down (default: the default lab). Safe to call at any time, also after a failed up.
lab_down() {
    local root
    root=$(_lab_root)
    "$root/tests/lab/lab" down --lab "${1:-$root/tests/lab/labs/default.yml}"
}

# The lab's own tests (and any other @pytest.mark.lab test under tests/integration).
# Extra arguments go to pytest.
lab_test() {
    local root
    root=$(_lab_root)
    (cd "$root" && python -m pytest -m lab tests/integration "$@")
}
