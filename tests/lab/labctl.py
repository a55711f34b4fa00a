# SPDX-License-Identifier: GPL-3.0-or-later
"""The hpsum.ports test lab: booted systemd Debian containers (systemd-nspawn), one network
namespace each, on a bridge, with real firewalls. Python 3 stdlib only; run as root.

Commands: up, down, status, inventory, exec (see tests/lab/README.md).

Every object the lab makes carries a name derived from the lab name and the host name:
  network namespace and nspawn machine  hpsl-<lab>-<host>
  cgroup folders                        /sys/fs/cgroup/{systemd,unified}/hpsl-<lab>-<host>
  host-side veth                        hv<8 hex of sha1(lab/host)>
  bridge                                the lab file's `bridge` (must start with hpsl-)
  state (keys, inventory, overlays)     /var/lib/hpsum-lab/<lab>/
  shared base root filesystem           /var/cache/hpsum-lab/base-<hash of package list>/
`down` removes exactly those names, nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_LAB = os.path.join(HERE, "labs", "default.yml")
ESXCLI_SOURCE = os.path.join(HERE, "esxi", "esxcli")
# HPSUM_LAB_CACHE: another cache folder (bench/lab uses one to time a fresh base build)
CACHE_DIR = os.environ.get("HPSUM_LAB_CACHE", "/var/cache/hpsum-lab")
STATE_ROOT = "/var/lib/hpsum-lab"
LOCK_DIR = "/run/lock"
CGROUP_ROOTS = ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified")
NSPAWN_RUN = "/run/systemd/nspawn"

# Everything the hosts will ever run is baked into the base: they have no network beyond the lab.
# ufw and iptables-persistent conflict (Breaks:), so the base carries ufw and the two
# *-persistent .debs as files; iptables hosts swap ufw for them at their first boot.
PACKAGES = sorted(
    [
        "systemd",
        "systemd-sysv",
        "dbus",
        "libpam-systemd",
        "openssh-server",
        "python3",
        "nftables",
        "iptables",
        "firewalld",
        "ufw",
        "ipset",
        "python3-cap-ng",
        "iproute2",
        "procps",
        "sudo",
        "netcat-openbsd",
        "socat",
        "ca-certificates",
        "iputils-ping",
        "openssl",
        "curl",
        "less",
    ]
)
EXTRA_DEBS = ["iptables-persistent", "netfilter-persistent"]
SUITE = "bookworm"
# Customisation of the base (part of the cache key, with the suite and the package list).
BASE_HOOK = r"""set -eu
R="$1"
mkdir -p "$R/var/cache/hpsl-debs" "$R/etc/hpsl"
chroot "$R" sh -c 'cd /var/cache/hpsl-debs && apt-get -q download {debs}' >/dev/null
chroot "$R" openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=hpsum-lab \
    -keyout /etc/hpsl/tls.key -out /etc/hpsl/tls.crt 2>/dev/null
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
         fstrim.timer man-db.timer systemd-networkd-wait-online.service; do
    ln -sf /dev/null "$R/etc/systemd/system/$u"
done
printf 'PasswordAuthentication no\nUseDNS no\n' > "$R/etc/ssh/sshd_config.d/hpsl.conf"
: > "$R/etc/resolv.conf"
: > "$R/etc/machine-id"
""".format(debs=" ".join(EXTRA_DEBS))

BACKENDS = ("firewalld", "ufw", "nftables", "iptables", "none")
STATES = ("open", "locked", "esxi", "none")
ROLE_GROUPS = {
    "sum_server": "sum_servers",
    "node": "linux_nodes",
    "locked": "locked_nodes",
    "esxi": "esxi_nodes",
    "management": "management",
    "outsider": "outsiders",
}
ROLE_TLS_PORTS = {"esxi": [443, 5989], "management": [443]}
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")

TLS_LISTENER = r'''#!/usr/bin/python3
"""hpsum lab: a tiny TLS listener (stands in for a management processor / ESXi HTTPS)."""
import socket, socketserver, ssl, sys

PORT = int(sys.argv[1])
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
CTX.load_cert_chain("/etc/hpsl/tls.crt", "/etc/hpsl/tls.key")
BODY = b"hpsum lab TLS listener on port %d\n" % PORT


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(10)
        try:
            conn = CTX.wrap_socket(self.request, server_side=True)
            try:
                conn.recv(4096)
            except OSError:
                pass
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(BODY), BODY))
            conn.close()
        except (OSError, ssl.SSLError):
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    address_family = socket.AF_INET


Server(("0.0.0.0", PORT), Handler).serve_forever()
'''

TLS_UNIT = """[Unit]
Description=hpsum lab TLS listener on port %i
After=network.target

[Service]
ExecStart=/usr/local/sbin/hpsl-tls-listener %i
Restart=always

[Install]
WantedBy=multi-user.target
"""

NFT_OPEN = """#!/usr/sbin/nft -f
# hpsum lab: the Debian default ruleset (everything accepted)
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
"""

NFT_LOCKED = """#!/usr/sbin/nft -f
# hpsum lab: locked down (input policy drop), with one foreign rule that must survive
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		tcp dport 22 accept
		ip saddr %(controller)s tcp dport 9999 accept comment "foreign"
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
"""

NFT_ESXI = """#!/usr/sbin/nft -f
# hpsum lab: the ESXi default outbound policy (blocked except tcp 80, 443, 5989)
flush ruleset

table inet esxi {
	chain input {
		type filter hook input priority filter; policy accept;
	}
	chain output {
		type filter hook output priority filter; policy drop;
		ct state established,related accept
		oif "lo" accept
		tcp dport { 80, 443, 5989 } accept
	}
}
"""

IPT_OPEN = """# hpsum lab: open (ACCEPT policies)
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
"""

IPT_LOCKED = """# hpsum lab: locked down (INPUT and OUTPUT policy DROP; SSH in, established, loopback)
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A OUTPUT -o lo -j ACCEPT
-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
"""

IPT_INSTALL = """export DEBIAN_FRONTEND=noninteractive
dpkg --purge ufw >/dev/null
dpkg -i /var/cache/hpsl-debs/*.deb >/dev/null
"""

# Run once inside each host at its first boot (via nsenter), with the distro's own tools, so the
# persistent configuration is what the distro would have.
SETUP = {
    ("firewalld", "open"): "firewall-cmd --state\n",
    ("firewalld", "locked"): (
        "firewall-cmd --set-default-zone=public\n"
        "firewall-cmd --permanent --zone=public --add-service=ssh\n"
        "firewall-cmd --permanent --zone=public --set-target=DROP\n"
        "firewall-cmd --reload\n"
    ),
    ("ufw", "open"): "ufw allow 22/tcp\nufw --force enable\n",
    ("ufw", "locked"): ("ufw allow 22/tcp\nufw default deny incoming\nufw default deny outgoing\nufw --force enable\n"),
    ("nftables", "open"): "systemctl enable nftables\nsystemctl restart nftables\n",
    ("nftables", "locked"): "systemctl enable nftables\nsystemctl restart nftables\n",
    ("nftables", "esxi"): "systemctl enable nftables\nsystemctl restart nftables\n",
    ("iptables", "open"): IPT_INSTALL,
    ("iptables", "locked"): IPT_INSTALL,
    ("none", "none"): "",
}
IPT_AFTER = (
    "cp /etc/hpsl/rules.v4 /etc/iptables/rules.v4\ncp /etc/hpsl/rules.v6 /etc/iptables/rules.v6\n"
    "systemctl enable netfilter-persistent\nsystemctl restart netfilter-persistent\n"
)


class LabError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- mini YAML


def _scalar(text):
    text = text.strip()
    if text == "" or text in ("~", "null"):
        return None
    if text[0] in "\"'":
        if text[0] == '"':
            return json.loads(text)
        return text[1:-1].replace("''", "'")
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [_scalar(p) for p in inner.split(",")] if inner else []
    if text in ("true", "True", "yes"):
        return True
    if text in ("false", "False", "no"):
        return False
    if re.match(r"^-?\d+$", text):
        return int(text)
    return text


def _strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def parse_yaml(text):
    """Parse the small YAML subset lab files use: block mappings and sequences, scalars,
    flow lists of scalars, comments. Full-line comments right above a mapping key are kept in
    the mapping's "__comments__" entry ({key: [lines]}), so they can be carried over."""
    lines = []
    pending = []
    for raw in text.splitlines():
        if raw.strip().startswith("#"):
            pending.append(raw.strip())
            continue
        line = _strip_comment(raw)
        if not line.strip() or line.strip() == "---":
            pending = []
            continue
        if "\t" in line[: len(line) - len(line.lstrip())]:
            raise LabError(f"tabs are not allowed for indentation: {raw!r}")
        lines.append((len(line) - len(line.lstrip()), line.strip(), pending))
        pending = []
    pos = [0]

    def block(indent):
        if pos[0] >= len(lines):
            return None
        if lines[pos[0]][1].startswith("- ") or lines[pos[0]][1] == "-":
            return seq(lines[pos[0]][0])
        return mapping(lines[pos[0]][0])

    def mapping(indent, first=None):
        out = {}
        comments = {}
        while pos[0] < len(lines) or first:
            if first:
                ind, content, cmt = first
                first = None
            else:
                ind, content, cmt = lines[pos[0]]
                if ind < indent:
                    break
                if ind > indent:
                    raise LabError(f"bad indentation near {content!r}")
                if content.startswith("- "):
                    break
                pos[0] += 1
            m = re.match(r"^([A-Za-z0-9_.-]+):(?:\s+(.*))?$", content)
            if not m:
                raise LabError(f"expected 'key: value' near {content!r}")
            key, value = m.group(1), m.group(2)
            if cmt:
                comments[key] = cmt
            if value is not None and value != "":
                out[key] = _scalar(value)
            elif pos[0] < len(lines) and (
                lines[pos[0]][0] > ind or (lines[pos[0]][0] == ind and lines[pos[0]][1].startswith("-"))
            ):
                out[key] = block(lines[pos[0]][0])
            else:
                out[key] = None
        if comments:
            out["__comments__"] = comments
        return out

    def seq(indent):
        out = []
        while pos[0] < len(lines):
            ind, content, cmt = lines[pos[0]]
            if ind != indent or not (content.startswith("- ") or content == "-"):
                if ind > indent:
                    raise LabError(f"bad indentation near {content!r}")
                break
            pos[0] += 1
            rest = content[1:].strip()
            if not rest:
                out.append(block(indent + 1))
            elif re.match(r"^[A-Za-z0-9_.-]+:(\s|$)", rest):
                out.append(mapping(ind + 2, first=(ind + 2, rest, cmt)))
            else:
                out.append(_scalar(rest))
        return out

    result = block(0)
    if pos[0] != len(lines):
        raise LabError(f"could not parse near {lines[pos[0]][1]!r}")
    return result


def dump_yaml(data, indent=0, comments=None):
    """Emit YAML for dicts/lists/scalars (strings JSON-quoted, which is valid YAML)."""
    pad = "  " * indent
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "__comments__":
                continue
            for c in (comments or {}).get(key, []):
                out.append(pad + c)
            sub_comments = value.get("__comments__") if isinstance(value, dict) else None
            if (
                isinstance(value, (dict, list))
                and value
                and not (isinstance(value, dict) and list(value) == ["__comments__"])
            ):
                out.append(f"{pad}{key}:")
                out.append(dump_yaml(value, indent + 1, sub_comments))
            else:
                out.append("{}{}:{}".format(pad, key, _dump_scalar(value, prefix=" ")))
    elif isinstance(data, list):
        for item in data:
            out.append(f"{pad}- {_dump_scalar(item)}")
    return "\n".join(line for line in out if line != "")


def _dump_scalar(value, prefix=""):
    if value is None:
        return ""
    if isinstance(value, bool):
        return prefix + ("true" if value else "false")
    if isinstance(value, int):
        return prefix + str(value)
    if isinstance(value, (dict, list)):
        return prefix + ("{}" if isinstance(value, dict) else "[]")
    return prefix + json.dumps(str(value))


# --------------------------------------------------------------------------- lab model


class Host:
    def __init__(self, lab, spec):
        self.lab = lab
        unknown = set(spec) - {
            "name",
            "address",
            "role",
            "backend",
            "state",
            "groups",
            "vars",
            "tls_ports",
            "__comments__",
        }
        if unknown:
            raise LabError("host {!r}: unknown keys {}".format(spec.get("name"), ", ".join(sorted(unknown))))
        self.name = spec.get("name")
        if not isinstance(self.name, str) or not NAME_RE.match(self.name):
            raise LabError(f"host name {self.name!r}: use [a-z][a-z0-9-]*, at most 31 characters")
        self.role = spec.get("role")
        if self.role not in ROLE_GROUPS:
            raise LabError("host {}: role {!r} is not one of {}".format(self.name, self.role, ", ".join(ROLE_GROUPS)))
        self.backend = spec.get("backend", "none")
        if self.backend not in BACKENDS:
            raise LabError(
                "host {}: backend {!r} is not one of {}".format(self.name, self.backend, ", ".join(BACKENDS))
            )
        self.state = spec.get("state", "none" if self.backend == "none" else "open")
        if (self.backend, self.state) not in SETUP:
            raise LabError(
                "host {}: state {!r} is not available with backend {!r} (choose from {})".format(
                    self.name, self.state, self.backend, ", ".join(s for b, s in SETUP if b == self.backend)
                )
            )
        try:
            self.address = ipaddress.ip_address(str(spec.get("address")))
        except ValueError as exc:
            raise LabError(f"host {self.name}: address: {exc}") from None
        if self.address not in lab.subnet or self.address in (lab.subnet.network_address, lab.subnet.broadcast_address):
            raise LabError(
                f"host {self.name}: address {self.address} is not a host address of the lab subnet {lab.subnet}"
            )
        self.groups = list(spec.get("groups") or [ROLE_GROUPS[self.role]])
        self.vars = dict(spec.get("vars") or {})
        self.vars.pop("__comments__", None)
        self.tls_ports = [int(p) for p in (spec.get("tls_ports") or ROLE_TLS_PORTS.get(self.role, []))]
        self.machine = f"hpsl-{lab.name}-{self.name}"
        self.netns = self.machine
        digest = hashlib.sha1((f"{lab.name}/{self.name}").encode()).hexdigest()
        self.veth = "hv" + digest[:8]
        # A fixed, locally administered MAC: a restarted host keeps its address's neighbour entries valid.
        self.mac = "02:" + ":".join(digest[i : i + 2] for i in range(8, 18, 2))
        self.dir = os.path.join(lab.state_dir, "hosts", self.name)
        self.merged = os.path.join(self.dir, "root")
        self.pidfile = os.path.join(self.dir, "nspawn.pid")
        self.logfile = os.path.join(self.dir, "console.log")

    def as_dict(self):
        return {
            "name": self.name,
            "address": str(self.address),
            "role": self.role,
            "backend": self.backend,
            "state": self.state,
            "groups": self.groups,
            "vars": self.vars,
            "tls_ports": self.tls_ports,
            "machine": self.machine,
            "netns": self.netns,
            "veth": self.veth,
        }


class Lab:
    def __init__(self, path):
        self.path = os.path.abspath(path)
        try:
            with open(self.path, encoding="utf-8") as fh:
                spec = parse_yaml(fh.read())
        except OSError as exc:
            raise LabError(f"lab file {path}: {exc.strerror}") from None
        if not isinstance(spec, dict):
            raise LabError(f"lab file {path}: expected a mapping")
        self.name = spec.get("name") or os.path.splitext(os.path.basename(path))[0]
        if not NAME_RE.match(str(self.name)):
            raise LabError(f"lab name {self.name!r}: use [a-z][a-z0-9-]*")
        try:
            self.subnet = ipaddress.ip_network(str(spec.get("subnet")))
        except ValueError as exc:
            raise LabError(f"lab {self.name}: subnet: {exc}") from None
        if not self.subnet.subnet_of(ipaddress.ip_network("198.18.0.0/24")):
            raise LabError(f"lab {self.name}: subnet {self.subnet} is outside 198.18.0.0/24")
        self.bridge = str(spec.get("bridge") or "")
        if not re.match(r"^hpsl-[a-z0-9-]{1,10}$", self.bridge):
            raise LabError(
                f"lab {self.name}: bridge {self.bridge!r} must be hpsl-<1-10 of [a-z0-9-]> (at most 15 characters)"
            )
        self.bridge_address = ipaddress.ip_address(str(spec.get("bridge_address") or next(self.subnet.hosts())))
        if self.bridge_address not in self.subnet:
            raise LabError(f"lab {self.name}: bridge_address {self.bridge_address} is outside {self.subnet}")
        self.vars = spec.get("vars") or {}
        self.state_dir = os.path.join(STATE_ROOT, self.name)
        self.hosts = [Host(self, h) for h in (spec.get("hosts") or [])]
        seen = {}
        for h in self.hosts:
            for key in (h.name, str(h.address)):
                if key in seen:
                    raise LabError(f"lab {self.name}: {key} is used twice")
                seen[key] = h
        if str(self.bridge_address) in seen:
            raise LabError(f"lab {self.name}: bridge_address {self.bridge_address} is also a host's address")
        self.key = os.path.join(self.state_dir, "id_ed25519")
        self.inventory = os.path.join(self.state_dir, "inventory.yml")
        self.record = os.path.join(self.state_dir, "lab.json")

    def recorded_hosts(self):
        """Hosts of this lab as recorded by the last up (so down also finds hosts the file lost)."""
        known = {h.name: h for h in self.hosts}
        try:
            with open(self.record, encoding="utf-8") as fh:
                rec = json.load(fh)
            for spec in rec.get("hosts", []):
                if spec["name"] not in known:
                    known[spec["name"]] = Host(
                        self, {k: spec[k] for k in ("name", "address", "role", "backend", "state") if k in spec}
                    )
        except (OSError, ValueError, KeyError, LabError):
            pass
        return list(known.values())


# --------------------------------------------------------------------------- helpers


def run(argv, check=True, capture=True, timeout=120, input_text=None):
    proc = subprocess.run(
        argv,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
        text=True,
        timeout=timeout,
        input=input_text,
        check=False,
    )
    if check and proc.returncode != 0:
        out = ((proc.stderr or "") + (proc.stdout or "")).strip()[-2000:]
        raise LabError(f"{' '.join(argv)} failed (rc {proc.returncode}): {out}")
    return proc


def write_if_changed(path, content, mode=0o644):
    data = content.encode() if isinstance(content, str) else content
    try:
        with open(path, "rb") as fh:
            if fh.read() == data and (os.stat(path).st_mode & 0o7777) == mode:
                return False
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".hpsl-tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


def symlink_force(target, path):
    if os.path.islink(path) and os.readlink(path) == target:
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


class FileLock:
    def __init__(self, path):
        self.path = path
        self.fh = None

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fh = open(self.path, "a")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for lock {self.path}")
            fcntl.flock(self.fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def pid_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().split(b"\0")
    except OSError:
        return []


def nspawn_pid(host):
    """The pid of this host's systemd-nspawn: from the pid file, checked against its command line
    (our own machine name), else by scanning /proc for that exact machine argument."""
    marker = (f"--machine={host.machine}").encode()
    try:
        with open(host.pidfile) as fh:
            pid = int(fh.read().strip())
        if pid_alive(pid) and marker in pid_cmdline(pid):
            return pid
    except (OSError, ValueError):
        pass
    for entry in os.listdir("/proc"):
        if entry.isdigit() and marker in pid_cmdline(int(entry)) and pid_alive(int(entry)):
            args = pid_cmdline(int(entry))
            if args and os.path.basename(args[0]) == b"systemd-nspawn":
                return int(entry)
    return None


def init_pid(nspawn):
    """PID 1 of the container: the child of systemd-nspawn that lives in a pid namespace of its
    own (nspawn briefly has other children while it sets the container up)."""
    try:
        with open(f"/proc/{nspawn}/task/{nspawn}/children") as fh:
            kids = [int(p) for p in fh.read().split()]
        mine = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    for kid in kids:
        try:
            if os.readlink(f"/proc/{kid}/ns/pid") != mine and pid_alive(kid):
                return kid
        except OSError:
            continue
    return None


def nsenter_argv(pid, argv):
    return [
        "nsenter",
        "-t",
        str(pid),
        "-m",
        "-u",
        "-i",
        "-n",
        "-p",
        "--",
        "/usr/bin/env",
        "-i",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root",
        "LANG=C.UTF-8",
        "TERM=dumb",
        *argv,
    ]


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            if line.split()[4].replace("\\040", " ") == path:
                return True
    return False


def link_exists(name, netns=None):
    argv = ["ip"] + (["-n", netns] if netns else []) + ["link", "show", "dev", name]
    return run(argv, check=False).returncode == 0


def netns_exists(name):
    return os.path.exists(os.path.join("/run/netns", name))


def tcp_ready(address, port, timeout=1.0):
    try:
        with socket.create_connection((str(address), port), timeout=timeout) as sock:
            if port == 22:
                sock.settimeout(timeout)
                return sock.recv(4).startswith(b"SSH")
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- base rootfs


def base_hash():
    text = "\n".join([SUITE, *PACKAGES, "--debs--", *EXTRA_DEBS, "--hook--", BASE_HOOK])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_base():
    """The shared base root filesystem, built once per package list (mmdebstrap) and cached.
    Returns (path, seconds spent building; 0 when reused)."""
    path = os.path.join(CACHE_DIR, "base-" + base_hash())
    done = os.path.join(path, ".hpsl-base-complete")
    if os.path.exists(done):
        return path, 0.0
    os.makedirs(CACHE_DIR, exist_ok=True)
    with FileLock(os.path.join(CACHE_DIR, ".build.lock")):
        if os.path.exists(done):
            return path, 0.0
        if not shutil.which("mmdebstrap"):
            raise LabError("mmdebstrap is missing: apt-get install mmdebstrap (see tests/lab/ci-steps.sh)")
        tmp = path + ".building"
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.exists(path):
            shutil.rmtree(path)
        log(f"building base root filesystem {path} (mmdebstrap {SUITE}, {len(PACKAGES)} packages)")
        start = time.monotonic()
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as hook:
            hook.write(BASE_HOOK)
        try:
            proc = subprocess.run(
                [
                    "mmdebstrap",
                    "--mode=root",
                    "--variant=minbase",
                    "--include=" + ",".join(PACKAGES),
                    f'--customize-hook=sh {hook.name} "$1"',
                    SUITE,
                    tmp,
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
        finally:
            os.unlink(hook.name)
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise LabError("mmdebstrap failed:\n" + proc.stdout[-4000:])
        with open(os.path.join(tmp, ".hpsl-base-complete"), "w") as fh:
            fh.write("\n".join(PACKAGES) + "\n")
        os.rename(tmp, path)
        took = time.monotonic() - start
        log(f"base built in {took:.1f} s")
        return path, took


# --------------------------------------------------------------------------- up


def ensure_key(lab):
    if not os.path.exists(lab.key):
        os.makedirs(lab.state_dir, exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hpsum-lab-" + lab.name, "-f", lab.key])
    with open(lab.key + ".pub") as fh:
        return fh.read()


def other_labs_networks(lab):
    """Networks of other hpsl-* bridges in the root namespace (to refuse overlapping slices)."""
    proc = run(["ip", "-j", "addr", "show", "type", "bridge"], check=False)
    out = []
    try:
        for link in json.loads(proc.stdout or "[]"):
            if link["ifname"].startswith("hpsl-") and link["ifname"] != lab.bridge:
                for a in link.get("addr_info", []):
                    if a.get("family") == "inet":
                        out.append(
                            (
                                link["ifname"],
                                ipaddress.ip_network("{}/{}".format(a["local"], a["prefixlen"]), strict=False),
                            )
                        )
    except (ValueError, KeyError):
        pass
    return out


BRIDGE_ALIAS = "hpsum-lab:"  # the bridge's alias names the lab that made it


def bridge_owner(bridge):
    """None: no such bridge; "": a bridge without our alias; else the name of the lab that made it."""
    proc = run(["ip", "-j", "link", "show", "dev", bridge], check=False)
    if proc.returncode != 0:
        return None
    try:
        alias = json.loads(proc.stdout)[0].get("ifalias", "")
    except (ValueError, IndexError):
        return ""
    return alias[len(BRIDGE_ALIAS) :] if alias.startswith(BRIDGE_ALIAS) else ""


def ensure_bridge(lab):
    for name, net in other_labs_networks(lab):
        if net.overlaps(lab.subnet):
            raise LabError(
                f"lab {lab.name}: subnet {lab.subnet} overlaps {net} of bridge {name} (another lab): "
                "pick your own slice"
            )
    owner = bridge_owner(lab.bridge)
    if owner is not None and owner not in (lab.name, ""):
        raise LabError(f"lab {lab.name}: bridge {lab.bridge} belongs to lab {owner}: pick a bridge name of your own")
    if not link_exists(lab.bridge):
        run(["ip", "link", "add", lab.bridge, "type", "bridge"])
    if owner != lab.name:
        run(["ip", "link", "set", "dev", lab.bridge, "alias", BRIDGE_ALIAS + lab.name])
    addr = f"{lab.bridge_address}/{lab.subnet.prefixlen}"
    have = run(["ip", "-4", "-o", "addr", "show", "dev", lab.bridge]).stdout
    if (f" {addr} ") not in have:
        run(["ip", "addr", "add", addr, "dev", lab.bridge])
    # The lab is an island: nothing received on its bridge is forwarded (per-interface switch, so
    # nothing outside the lab's own names changes), no IPv6, and the hosts get no default route.
    for key, value in (
        (f"net/ipv4/conf/{lab.bridge}/forwarding", "0"),
        (f"net/ipv6/conf/{lab.bridge}/disable_ipv6", "1"),
    ):
        with open("/proc/sys/" + key, "w") as fh:
            fh.write(value)
    run(["ip", "link", "set", lab.bridge, "up"])


def host_running(host):
    pid = nspawn_pid(host)
    return pid if pid and is_mounted(host.merged) and netns_exists(host.netns) else None


# What SUM 7.x (hpsum.ini) and SUM 8+ (sum.ini) installations carry, at the sum_config role's
# default Linux paths, with SUM's default ports.
SUM_INI_STANDINS = {
    "/opt/hp/hpsum/hpsum.ini": "; HP SUM settings (lab stand-in for an installed HP SUM 7.x)\n"
                               "port=63001\nssl_port=63002\n",
    "/opt/sum/sum.ini": "; SUM settings (lab stand-in for an installed SUM 8)\n[HTTP]\nport=63001\nssl_port=63002\n"
                        "\n[FTP]\nport=disabled\n",
}


def write_overlay_files(lab, host, pubkey):
    """Files each host gets in its own overlay: identity, key, listener units, service masks.
    Written only when different (a second up leaves them alone)."""
    r = host.merged
    changed = []

    def put(rel, content, mode=0o644):
        if write_if_changed(os.path.join(r, rel.lstrip("/")), content, mode):
            changed.append(rel)

    put("/etc/hostname", host.name + "\n")
    hosts = [
        "127.0.0.1\tlocalhost",
        f"127.0.1.1\t{host.name}",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        f"{lab.bridge_address}\tcontroller",
    ]
    hosts += [f"{h.address}\t{h.name}" for h in lab.hosts]
    put("/etc/hosts", "\n".join(hosts) + "\n")
    put("/etc/machine-id", hashlib.md5(host.machine.encode()).hexdigest() + "\n", 0o444)
    put("/root/.ssh/authorized_keys", pubkey, 0o600)
    os.chmod(os.path.join(r, "root/.ssh"), 0o700)
    fw_mask = os.path.join(r, "etc/systemd/system/firewalld.service")
    if host.backend != "firewalld":
        symlink_force("/dev/null", fw_mask)
    if host.backend != "ufw":
        # ufw.service is "active" even with ufw disabled: mask it where ufw is not the backend
        # (iptables hosts also purge ufw at first boot: it Breaks: iptables-persistent)
        symlink_force("/dev/null", os.path.join(r, "etc/systemd/system/ufw.service"))
    if host.tls_ports:
        put("/usr/local/sbin/hpsl-tls-listener", TLS_LISTENER, 0o755)
        put("/etc/systemd/system/hpsl-tls@.service", TLS_UNIT)
        for port in host.tls_ports:
            symlink_force(
                "/etc/systemd/system/hpsl-tls@.service",
                os.path.join(r, f"etc/systemd/system/multi-user.target.wants/hpsl-tls@{port}.service"),
            )
    if host.backend == "nftables":
        content = {"open": NFT_OPEN, "locked": NFT_LOCKED % {"controller": lab.bridge_address}, "esxi": NFT_ESXI}[
            host.state
        ]
        if not os.path.exists(os.path.join(r, "var/lib/hpsl/setup-done")):
            put("/etc/nftables.conf", content, 0o755)
    if host.backend == "iptables":
        rules = IPT_LOCKED if host.state == "locked" else IPT_OPEN
        put("/etc/hpsl/rules.v4", rules)
        put("/etc/hpsl/rules.v6", rules)
    if host.role == "sum_server":
        # An installed SUM's settings file (no SUM runs here): written once, then it is the
        # collection's to edit (sum_config), so a second up must not put it back.
        for rel, content in SUM_INI_STANDINS.items():
            if not os.path.exists(os.path.join(r, rel.lstrip("/"))):
                put(rel, content)
    if host.state == "esxi":
        os.makedirs(os.path.join(r, "etc/vmware/firewall"), exist_ok=True)
        if os.path.exists(ESXCLI_SOURCE):
            with open(ESXCLI_SOURCE, "rb") as fh:
                put("/usr/local/bin/esxcli", fh.read(), 0o755)
    return changed


def cgroup_dirs(host):
    return [os.path.join(root, host.machine) for root in CGROUP_ROOTS]


def start_host(lab, host, base, pubkey):
    """Overlay, namespace, veth, cgroups, and the nspawn boot of one host (does not wait)."""
    for sub in ("upper", "work", "root"):
        os.makedirs(os.path.join(host.dir, sub), exist_ok=True)
    if not is_mounted(host.merged):
        run(
            [
                "mount",
                "-t",
                "overlay",
                "overlay",
                "-o",
                "lowerdir={},upperdir={},workdir={}".format(
                    base, os.path.join(host.dir, "upper"), os.path.join(host.dir, "work")
                ),
                host.merged,
            ]
        )
    write_overlay_files(lab, host, pubkey)
    if not netns_exists(host.netns):
        run(["ip", "netns", "add", host.netns])
    if not link_exists("eth0", host.netns):
        if link_exists(host.veth):
            run(["ip", "link", "del", host.veth])
        run(
            [
                "ip",
                "link",
                "add",
                host.veth,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                host.netns,
                "address",
                host.mac,
            ]
        )
    # Forget the old neighbour entries for this address (a restarted host, or one made by an
    # older version with another MAC): on the bridge and in the lab's other hosts.
    run(["ip", "neigh", "del", str(host.address), "dev", lab.bridge], check=False)
    for other in lab.hosts:
        if other is not host and netns_exists(other.netns):
            run(["ip", "-n", other.netns, "neigh", "del", str(host.address), "dev", "eth0"], check=False)
    run(["ip", "link", "set", host.veth, "master", lab.bridge, "up"])
    with open(f"/proc/sys/net/ipv6/conf/{host.veth}/disable_ipv6", "w") as fh:
        fh.write("1")
    ns = ["ip", "netns", "exec", host.netns]
    run([*ns, "sysctl", "-q", "-w", "net.ipv6.conf.eth0.disable_ipv6=1"])
    addr = f"{host.address}/{lab.subnet.prefixlen}"
    if (f" {addr} ") not in run(["ip", "-n", host.netns, "-4", "-o", "addr", "show", "dev", "eth0"]).stdout:
        run(["ip", "-n", host.netns, "addr", "add", addr, "dev", "eth0"])
    run(["ip", "-n", host.netns, "link", "set", "lo", "up"])
    run(["ip", "-n", host.netns, "link", "set", "eth0", "up"])
    for d in cgroup_dirs(host):
        os.makedirs(d, exist_ok=True)
    cg = " && ".join(f'echo $$ > "{d}/cgroup.procs"' for d in cgroup_dirs(host))
    argv = [
        "sh",
        "-c",
        cg + ' && exec "$@"',
        "sh",
        "systemd-nspawn",
        "--quiet",
        "--boot",
        "--register=no",
        "--keep-unit",
        f"--machine={host.machine}",
        f"--directory={host.merged}",
        f"--network-namespace-path=/run/netns/{host.netns}",
        "--capability=CAP_NET_ADMIN",
        "--console=read-only",
        "--link-journal=no",
        "--resolv-conf=off",
        "--timezone=off",
    ]
    with open(host.logfile, "ab") as logf:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    with open(host.pidfile, "w") as fh:
        fh.write(f"{proc.pid}\n")
    return proc.pid


def wait_booted(host, pid, timeout=120):
    deadline = time.monotonic() + timeout
    ipid = None
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            raise LabError(f"host {host.name}: systemd-nspawn exited; see {host.logfile}")
        ipid = init_pid(pid)
        if ipid:
            break
        time.sleep(0.05)
    if not ipid:
        raise LabError(f"host {host.name}: container init did not start")
    left = max(5, int(deadline - time.monotonic()))
    # The container's systemd may not answer until its own pid 1 is ready: retry briefly.
    while True:
        proc = run(nsenter_argv(ipid, ["systemctl", "is-system-running", "--wait"]), check=False, timeout=left)
        state = proc.stdout.strip()
        if state in ("running", "degraded") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if state != "running":
        failed = run(nsenter_argv(ipid, ["systemctl", "--failed", "--no-legend", "--plain"]), check=False).stdout
        log("host {}: system is {}; failed units: {}".format(host.name, state or "?", failed.strip() or "none"))
    return ipid


def setup_host(host, ipid):
    """First-boot starting state, applied with the distro's tools inside the host, once."""
    stamp = os.path.join(host.merged, "var/lib/hpsl/setup-done")
    if os.path.exists(stamp):
        return False
    script = "set -e\n" + SETUP[(host.backend, host.state)]
    if host.backend == "iptables":
        script += IPT_AFTER
    proc = run(nsenter_argv(ipid, ["sh", "-c", script]), check=False, timeout=120)
    if proc.returncode != 0:
        raise LabError(
            f"host {host.name}: setting up {host.backend}/{host.state} failed: "
            f"{(proc.stderr + proc.stdout).strip()[-1500:]}"
        )
    os.makedirs(os.path.dirname(stamp), exist_ok=True)
    with open(stamp, "w") as fh:
        fh.write(f"{host.backend} {host.state}\n")
    return True


def wait_ports(host, timeout=60):
    deadline = time.monotonic() + timeout
    for port in [22, *host.tls_ports]:
        while not tcp_ready(host.address, port):
            if time.monotonic() > deadline:
                raise LabError(f"host {host.name}: {host.address}:{port} does not answer from the controller")
            time.sleep(0.1)


def write_inventory(lab):
    hosts = {}
    for h in lab.hosts:
        hv = {"ansible_host": str(h.address)}
        hv.update(h.vars)
        hv.update({"lab_backend": h.backend, "lab_state": h.state, "lab_role": h.role})
        hosts[h.name] = hv
    groups = {}
    for h in lab.hosts:
        for g in h.groups:
            groups.setdefault(g, {"hosts": {}})["hosts"][h.name] = None
    all_vars = {
        "ansible_user": "root",
        "ansible_ssh_private_key_file": lab.key,
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
        "-o IdentitiesOnly=yes -o LogLevel=ERROR",
        "lab_name": lab.name,
        "lab_subnet": str(lab.subnet),
        "lab_controller_address": str(lab.bridge_address),
    }
    comments = dict(lab.vars.get("__comments__", {})) if isinstance(lab.vars, dict) else {}
    all_vars.update({k: v for k, v in lab.vars.items() if k != "__comments__"})
    all_vars["__comments__"] = comments
    source = os.path.relpath(lab.path, REPO)
    text = f"# Generated by tests/lab/lab up for lab {lab.name!r} ({lab.subnet}, bridge {lab.bridge}) from {source}.\n"
    text += "# Do not edit: it is rewritten by every up.\n"
    text += dump_yaml({"all": {"vars": all_vars, "hosts": hosts, "children": groups}}) + "\n"
    write_if_changed(lab.inventory, text, 0o644)
    record = {
        "name": lab.name,
        "file": lab.path,
        "subnet": str(lab.subnet),
        "bridge": lab.bridge,
        "bridge_address": str(lab.bridge_address),
        "state_dir": lab.state_dir,
        "key": lab.key,
        "inventory": lab.inventory,
        "hosts": [h.as_dict() for h in lab.hosts],
    }
    write_if_changed(lab.record, json.dumps(record, indent=2) + "\n")


def parallel(items, fn):
    errors = []
    results = {}

    def work(item):
        try:
            results[item.name] = fn(item)
        except Exception as exc:
            errors.append(f"{item.name}: {exc}")

    threads = [threading.Thread(target=work, args=(i,)) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise LabError("\n".join(sorted(errors)))
    return results


def cmd_up(lab, args):
    start = time.monotonic()
    base, built = ensure_base()
    with FileLock(os.path.join(LOCK_DIR, f"hpsum-lab-{lab.name}.lock")):
        os.makedirs(lab.state_dir, exist_ok=True)
        pubkey = ensure_key(lab)
        write_inventory(lab)  # record the hosts first, so a down after a failed up finds them
        ensure_bridge(lab)
        started = {}
        for host in lab.hosts:
            pid = host_running(host)
            if pid:
                changed = write_overlay_files(lab, host, pubkey)
                if changed:
                    log("{}: updated {}".format(host.name, ", ".join(changed)))
                continue
            stop_host(host, quiet=True)  # leftovers of a failed or killed run
            # A host that is not running boots fresh, in its starting state: whatever a dead run
            # left in its overlay is dropped (only `restart` boots a host from what it persisted).
            if os.path.isdir(host.dir) and not is_mounted(host.merged):
                shutil.rmtree(host.dir)
            started[host.name] = start_host(lab, host, base, pubkey)
        new = [h for h in lab.hosts if h.name in started]
        if new:
            log(f"booting {len(new)} host(s): {' '.join(h.name for h in new)}")
            parallel(new, lambda h: setup_host(h, wait_booted(h, started[h.name])))
        parallel(lab.hosts, wait_ports)
        write_inventory(lab)
    took = f" (base built in {built:.1f} s)" if built else ""
    log(f"lab {lab.name} up: {len(lab.hosts)} host(s), {len(new)} booted, in {time.monotonic() - start:.1f} s{took}")
    print(lab.inventory)
    return 0


# --------------------------------------------------------------------------- down


def cgroup_pids(path):
    pids = set()
    for root, _dirs, files in os.walk(path):
        if "cgroup.procs" in files:
            try:
                with open(os.path.join(root, "cgroup.procs")) as fh:
                    pids.update(int(p) for p in fh.read().split())
            except (OSError, ValueError):
                pass
    return pids


def rmdir_tree(path):
    """Remove a cgroup folder, deepest first (cgroupfs folders are removed with rmdir)."""
    if not os.path.isdir(path):
        return True
    for root, dirs, _files in os.walk(path, topdown=False):
        for d in dirs:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(root, d))
    try:
        os.rmdir(path)
        return True
    except OSError:
        return False


def stop_host(host, quiet=False, timeout=20):
    pid = nspawn_pid(host)
    if pid:
        os.kill(pid, signal.SIGTERM)  # nspawn asks the container to power off
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(pid):
            log(f"{host.name}: nspawn {pid} did not stop, killing it")
            os.kill(pid, signal.SIGKILL)
    # Whatever is left in our own cgroups (ours by name) is killed by pid.
    for _ in range(50):
        left = set()
        for d in cgroup_dirs(host):
            left |= cgroup_pids(d)
        left = {p for p in left if pid_alive(p)}
        if not left:
            break
        for p in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        time.sleep(0.1)
    if is_mounted(host.merged) and run(["umount", host.merged], check=False).returncode != 0:
        run(["umount", "-l", host.merged], check=False)
    for d in cgroup_dirs(host):
        for _ in range(20):
            if rmdir_tree(d):
                break
            time.sleep(0.1)
        else:
            log(f"{host.name}: could not remove cgroup {d}")
    if netns_exists(host.netns):
        run(["ip", "netns", "del", host.netns], check=False)
    if link_exists(host.veth):
        run(["ip", "link", "del", host.veth], check=False)
    # nspawn leftovers, by our machine name
    for leftover in (
        os.path.join(NSPAWN_RUN, "propagate", host.machine),
        os.path.join(NSPAWN_RUN, "propagate", f".#{host.machine}.lck"),
        os.path.join(NSPAWN_RUN, "unix-export", host.machine),
        os.path.join(host.dir, ".#root.lck"),
        os.path.join("/run/systemd/nspawn/locks", host.machine),
    ):
        if os.path.isdir(leftover) and not os.path.islink(leftover):
            shutil.rmtree(leftover, ignore_errors=True)
        elif os.path.lexists(leftover):
            os.unlink(leftover)
    if not quiet:
        log(f"{host.name}: down")


def cmd_down(lab, args):
    start = time.monotonic()
    with FileLock(os.path.join(LOCK_DIR, f"hpsum-lab-{lab.name}.lock")):
        hosts = lab.recorded_hosts()
        parallel(hosts, stop_host)
        owner = bridge_owner(lab.bridge)
        if owner in (lab.name, ""):
            run(["ip", "link", "del", lab.bridge])
        elif owner is not None:
            log(f"bridge {lab.bridge} belongs to lab {owner}: left alone")
        if os.path.isdir(lab.state_dir):
            still = [h.name for h in hosts if is_mounted(h.merged)]
            if still:
                raise LabError("still mounted, state kept: {}".format(", ".join(still)))
            shutil.rmtree(lab.state_dir)
    log(f"lab {lab.name} down in {time.monotonic() - start:.1f} s")
    return 0


# --------------------------------------------------------------------------- status / inventory / exec


def cmd_status(lab, args):
    rows = []
    up = 0
    for h in lab.hosts:
        pid = host_running(h)
        ssh = tcp_ready(h.address, 22, timeout=0.5) if pid else False
        up += bool(pid and ssh)
        rows.append(
            (
                h.name,
                str(h.address),
                h.role,
                h.backend,
                h.state,
                "running" if pid else "down",
                "ok" if ssh else "-",
                str(pid or "-"),
            )
        )
    bridge = "up" if link_exists(lab.bridge) else "absent"
    print(f"lab {lab.name}  subnet {lab.subnet}  bridge {lab.bridge} ({bridge})  state {lab.state_dir}")
    widths = [
        max(len(r[i]) for r in [*rows, ("host", "address", "role", "backend", "state", "status", "ssh", "nspawn")])
        for i in range(8)
    ]
    for r in [("host", "address", "role", "backend", "state", "status", "ssh", "nspawn"), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if up == len(lab.hosts):
        print(f"all {up} host(s) up; inventory: {lab.inventory}")
        return 0
    print(f"{up} of {len(lab.hosts)} host(s) up")
    return 3


def cmd_inventory(lab, args):
    if not os.path.exists(lab.inventory) or not all(host_running(h) for h in lab.hosts):
        log(f"lab {lab.name} is not up: run tests/lab/lab up --lab {lab.path}")
        return 3
    print(lab.inventory)
    return 0


def cmd_exec(lab, args):
    hosts = {h.name: h for h in lab.hosts}
    if args.host not in hosts:
        raise LabError(f"no host {args.host!r} in lab {lab.name}")
    pid = host_running(hosts[args.host])
    ipid = init_pid(pid) if pid else None
    if not ipid:
        raise LabError(f"host {args.host} is not running")
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    os.execvp("nsenter", nsenter_argv(ipid, argv or ["bash", "-l"]))
    return 1


def cmd_restart(lab, args):
    """Power a host off and boot it again from its overlay: its persisted configuration (and
    nothing live) is what comes back, so "persistent and live agree" can be proven."""
    hosts = {h.name: h for h in lab.hosts}
    unknown = [h for h in args.hosts if h not in hosts]
    if unknown:
        raise LabError(f"no host {', '.join(unknown)} in lab {lab.name}")
    start = time.monotonic()
    base, _ = ensure_base()
    with FileLock(os.path.join(LOCK_DIR, f"hpsum-lab-{lab.name}.lock")):
        if not os.path.exists(lab.record):
            raise LabError(f"lab {lab.name} is not up")
        pubkey = ensure_key(lab)
        ensure_bridge(lab)
        chosen = [hosts[h] for h in args.hosts]
        parallel(chosen, lambda h: stop_host(h, quiet=True))
        started = {h.name: start_host(lab, h, base, pubkey) for h in chosen}
        parallel(chosen, lambda h: setup_host(h, wait_booted(h, started[h.name])))
        parallel(chosen, wait_ports)
    log(f"restarted {', '.join(args.hosts)} in {time.monotonic() - start:.1f} s")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tests/lab/lab", description="hpsum.ports test lab")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, hlp in (
        ("up", "build the base if needed, boot every host (idempotent)"),
        ("down", "remove every host, namespace, mount, cgroup and file of the lab"),
        ("status", "show the lab's hosts"),
        ("inventory", "print the path of the lab's Ansible inventory"),
        ("exec", "run a command inside a lab host: exec HOST -- ARGV"),
        ("restart", "power hosts off and boot them again from their persisted state: restart HOST..."),
        ("base", "build (or find) the shared base root filesystem and print its path"),
    ):
        p = sub.add_parser(name, help=hlp)
        p.add_argument("--lab", default=DEFAULT_LAB, help="lab file (default: tests/lab/labs/default.yml)")
        if name == "exec":
            p.add_argument("host")
            p.add_argument("argv", nargs=argparse.REMAINDER)
        if name == "restart":
            p.add_argument("hosts", nargs="+", metavar="HOST")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        log("tests/lab/lab must run as root")
        return 2
    try:
        if args.command == "base":
            path, built = ensure_base()
            print(path)
            log("base {} ({})".format(path, f"built in {built:.1f} s" if built else "cached"))
            return 0
        lab = Lab(args.lab)
        commands = {
            "up": cmd_up,
            "down": cmd_down,
            "status": cmd_status,
            "inventory": cmd_inventory,
            "exec": cmd_exec,
            "restart": cmd_restart,
        }
        return commands[args.command](lab, args)
    except LabError as exc:
        log(f"lab: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
