"""esxi_firewall: esxcli output parsing and the local.sh block editing (pure parts)."""

from __future__ import annotations

import pytest

from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi import esxi_firewall as f
from ansible_collections.hpsum.ports.plugins.module_utils.apply.esxi import esxi_xml
from ansible_collections.hpsum.ports.plugins.module_utils.common.errors import SumPortsError

# Real esxcli default output, as VMware's "vSphere CLI Concepts and Examples" prints it.
RULESET_LIST = """\
Name                Enabled
------------------  -------
sshServer              true
sshClient             false
CIMHttpsServer         true
hpsumPorts             true
"""
ALLOWEDIP_ALL = """\
Ruleset    Allowed IP Addresses
---------  --------------------
sshServer  All
"""
ALLOWEDIP_SOME = """\
Ruleset     Allowed IP Addresses
----------  ----------------------------
hpsumPorts  198.18.0.10, 198.18.0.0/28
"""
RULE_LIST = """\
Ruleset     Direction  Protocol  Port Type  Port Begin  Port End
----------  ---------  --------  ---------  ----------  --------
hpsumPorts  Outbound   TCP       Dst             63001     63001
hpsumPorts  Outbound   TCP       Dst             63002     63002
hpsumPorts  Inbound    TCP       Dst                22        22
"""


def test_parse_table_spans_by_dashes() -> None:
    rows = f.parse_table(RULE_LIST)
    assert rows[0] == {"Ruleset": "hpsumPorts", "Direction": "Outbound", "Protocol": "TCP", "Port Type": "Dst",
                       "Port Begin": "63001", "Port End": "63001"}
    assert len(rows) == 3


def test_parse_table_ignores_extra_columns_and_empty_output() -> None:
    text = "Name        Enabled  Allowed All\n----------  -------  -----------\nhpsumPorts     true        false\n"
    assert f.parse_ruleset_list(text) == {"hpsumPorts": True}
    assert f.parse_table("") == [] and f.parse_table("\n \n") == []


@pytest.mark.parametrize("text", ["Name Enabled\nsshServer true\n", "just one line\n"])
def test_parse_table_refuses_non_tables(text: str) -> None:
    with pytest.raises(SumPortsError, match="not a table"):
        f.parse_table(text)


def test_parse_ruleset_list() -> None:
    assert f.parse_ruleset_list(RULESET_LIST) == {
        "sshServer": True, "sshClient": False, "CIMHttpsServer": True, "hpsumPorts": True}


def test_missing_column_names_it() -> None:
    with pytest.raises(SumPortsError, match="lacks the column 'Enabled'"):
        f.parse_ruleset_list("Name\n----\nx\n")


def test_parse_allowedip_list() -> None:
    assert f.parse_allowedip_list(ALLOWEDIP_ALL, "sshServer") == (True, ())
    assert f.parse_allowedip_list(ALLOWEDIP_SOME, "hpsumPorts") == (False, ("198.18.0.0/28", "198.18.0.10"))
    empty = "Ruleset     Allowed IP Addresses\n----------  --------------------\nhpsumPorts\n"
    assert f.parse_allowedip_list(empty, "hpsumPorts") == (False, ())
    with pytest.raises(SumPortsError, match="does not show ruleset other"):
        f.parse_allowedip_list(ALLOWEDIP_SOME, "other")


def test_parse_rule_list_and_outbound_ports() -> None:
    rules = f.parse_rule_list(RULE_LIST, "hpsumPorts")
    assert rules[2] == f.Rule("Inbound", "TCP", "Dst", 22, 22)
    assert f.outbound_tcp_ports(rules) == (63001, 63002)
    assert f.outbound_tcp_ports([f.Rule("Outbound", "TCP", "Dst", 10, 12)]) == (10, 11, 12)
    assert f.outbound_tcp_ports([f.Rule("Outbound", "UDP", "Dst", 10, 10)]) == ()
    assert f.parse_rule_list(RULE_LIST, "other") == ()
    with pytest.raises(SumPortsError, match="bad port"):
        f.parse_rule_list(RULE_LIST.replace("63001     63001", "  abc     63001"), "hpsumPorts")


def test_state_describe() -> None:
    assert f.RulesetState(False).describe("r") == "ruleset r: not loaded\n"
    text = f.RulesetState(True, True, False, ("198.18.0.10",), (63001,)).describe("r")
    assert text == "ruleset r: enabled=true\nallowed IPs: 198.18.0.10\noutbound tcp dst ports: 63001\n"
    assert "allowed IPs: All" in f.RulesetState(True, False, True).describe("r")


# ---------------------------------------------------------------- local.sh

LOCAL_SH = b"""#!/bin/sh ++group=host/vim/vmvisor/boot

# local configuration options

# Note: modify at your own risk!  If you do/use anything in this
# script that is not part of a stable API (relying on files to be in
# specific places, specific tools, specific output, etc) there is a
# possibility you will end up with a broken system after patching or
# upgrading.  Changes are not supported unless under direction of
# VMware support.

# Note: This script will not be run when UEFI secure boot is enabled.

exit 0
"""
XML = esxi_xml.render(esxi_xml.Ruleset("hpsumPorts", (63001, 63002)))
PATH = "/etc/vmware/firewall/hpsum_ports.xml"


def block(addresses: tuple[str, ...] = ("198.18.0.10",)) -> bytes:
    return f.boot_block(PATH, XML, "hpsumPorts", addresses, "hpsum_ports.xml")


def test_boot_block_content() -> None:
    text = block(("198.18.0.11", "198.18.0.10")).decode()
    lines = text.splitlines()
    assert lines[0] == "# BEGIN hpsum.ports esxi_firewall_rule hpsum_ports.xml"
    assert lines[-1] == "# END hpsum.ports esxi_firewall_rule hpsum_ports.xml"
    assert "cat > /etc/vmware/firewall/hpsum_ports.xml <<'HPSUM_PORTS_RULESET_XML'" in lines
    assert XML.decode().rstrip("\n") in text
    assert lines[-3:-1] == [
        "esxcli network firewall ruleset allowedip add --ruleset-id hpsumPorts --ip-address 198.18.0.10",
        "esxcli network firewall ruleset allowedip add --ruleset-id hpsumPorts --ip-address 198.18.0.11",
    ]
    assert "esxcli network firewall ruleset set --ruleset-id hpsumPorts --allowed-all false" in lines


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x;reboot", ("198.18.0.10",), "hpsum_ports.xml"), "ruleset_id: "),
        (("ok", ("$(reboot)",), "hpsum_ports.xml"), "allowed_ips: "),
        (("ok", ("198.18.0.10",), "../x.xml"), "file_name: "),
    ],
)
def test_boot_block_refuses_unsafe_values(args: tuple, message: str) -> None:
    with pytest.raises(SumPortsError, match="^" + message):
        f.boot_block(PATH, XML, args[0], args[1], args[2])


def test_block_goes_before_final_exit_and_comes_out_byte_for_byte() -> None:
    added = f.edit_local_sh(LOCAL_SH, "hpsum_ports.xml", block())
    assert added == LOCAL_SH[: -len(b"exit 0\n")] + block() + b"exit 0\n"
    assert f.edit_local_sh(added, "hpsum_ports.xml", block()) == added
    assert f.edit_local_sh(added, "hpsum_ports.xml", None) == LOCAL_SH


def test_block_replaced_in_place() -> None:
    added = f.edit_local_sh(LOCAL_SH, "hpsum_ports.xml", block())
    changed = f.edit_local_sh(added, "hpsum_ports.xml", block(("198.18.0.20",)))
    assert changed == LOCAL_SH[: -len(b"exit 0\n")] + block(("198.18.0.20",)) + b"exit 0\n"


def test_other_content_and_crlf_kept() -> None:
    content = b"#!/bin/sh\r\necho mine\r\nexit 0\r\n# trailing comment, no newline"
    added = f.edit_local_sh(content, "hpsum_ports.xml", block())
    assert added == b"#!/bin/sh\r\necho mine\r\n" + block() + b"exit 0\r\n# trailing comment, no newline"
    assert f.edit_local_sh(added, "hpsum_ports.xml", None) == content


def test_no_exit_appends_and_missing_newline_fixed() -> None:
    assert f.edit_local_sh(b"echo a", "hpsum_ports.xml", block()) == b"echo a\n" + block()
    assert f.edit_local_sh(b"", "hpsum_ports.xml", block()) == block()


def test_last_exit_is_used_and_other_blocks_are_left_alone() -> None:
    other = f.boot_block(PATH.replace("hpsum_ports", "b"), XML, "hpsumPorts", ("198.18.0.10",), "b.xml")
    content = b"if x; then\n  exit 0\nfi\n" + other + b"exit 0\n"
    added = f.edit_local_sh(content, "hpsum_ports.xml", block())
    assert added == b"if x; then\n  exit 0\nfi\n" + other + block() + b"exit 0\n"
    assert f.edit_local_sh(added, "hpsum_ports.xml", None) == content


def test_removing_an_absent_block_changes_nothing() -> None:
    assert f.edit_local_sh(LOCAL_SH, "hpsum_ports.xml", None) is LOCAL_SH


BEGIN = b"# BEGIN hpsum.ports esxi_firewall_rule hpsum_ports.xml\n"
END = b"# END hpsum.ports esxi_firewall_rule hpsum_ports.xml\n"


@pytest.mark.parametrize(
    "content",
    [
        BEGIN + b"exit 0\n",
        END + BEGIN,
        BEGIN + BEGIN + END,
    ],
)
def test_damaged_block_is_an_error(content: bytes) -> None:
    with pytest.raises(SumPortsError, match="damaged"):
        f.edit_local_sh(content, "hpsum_ports.xml", block())
