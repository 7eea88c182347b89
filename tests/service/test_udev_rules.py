"""udev/99-scangw-scanners.rules: syntax, what its header promises, and real udevadm runs.

The udevadm tests evaluate the rules with the machine's own ``udevadm test`` against
a simulated scanner in a private mount namespace (see udev_sim.py). Where udevadm
or a mount namespace is not available, the single test
``test_udevadm_unavailable_rules_checked_by_parser_only`` runs instead and says so;
the parser checks below run everywhere.
"""

from __future__ import annotations

import grp
import re
import shutil
import warnings
from pathlib import Path

from .udev_sim import UsbScanner, namespace_command, udevadm_test
from .udev_syntax import check_rules, logical_lines, parse_rule

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "udev" / "99-scangw-scanners.rules"
UNIT = REPO / "systemd" / "scangw-station.service"
UNSHARE = namespace_command()


def test_rules_parse_with_known_keys_and_operators() -> None:
    assert check_rules(RULES.read_text()) == []


def test_checker_catches_what_udev_would_only_log() -> None:
    broken = 'SUBSYSTEM="tty", FOO=="x", GROUP=="dialout", MODE="660"\nGOTO="nowhere"\n'
    problems = check_rules(broken)
    assert problems == [
        "line 1: SUBSYSTEM cannot be assigned with =",
        "line 1: unknown key FOO",
        "line 1: GROUP cannot be matched with ==",
        "line 1: MODE '660' is not an octal mode like 0660",
        "line 2: GOTO 'nowhere' has no LABEL",
    ]


def _group_by_subsystem() -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for _, line in logical_lines(RULES.read_text()):
        pairs = parse_rule(line)
        subsystem = next((p.value for p in pairs if p.key == "SUBSYSTEM" and p.op == "=="), "")
        for p in pairs:
            if p.key == "GROUP":
                groups.setdefault(subsystem, set()).add(p.value)
    return groups


def test_groups_are_the_ones_the_header_and_the_unit_name() -> None:
    assert _group_by_subsystem() == {
        "tty": {"dialout"}, "input": {"input"}, "hidraw": {"plugdev"}, "usb": {"plugdev"},
    }
    header = RULES.read_text().split("\n\n")[0]
    assert "tty nodes -> group dialout, evdev nodes -> group input" in header
    assert "hidraw nodes and the raw USB device -> group plugdev" in header
    supplementary = re.search(r"^SupplementaryGroups=(.*)$", UNIT.read_text(), re.M)
    assert supplementary is not None
    assert set(supplementary.group(1).split()) == {"dialout", "input", "plugdev"}


def test_header_explains_debugging_with_udevadm() -> None:
    header = RULES.read_text().split("\n\n")[0]
    for command in ("udevadm info -a -n /dev/ttyACM0", "udevadm test", "udevadm monitor",
                    "udevadm control --reload-rules"):
        assert command in header


def test_every_vendor_in_the_table_is_a_four_digit_usb_id() -> None:
    vendors = re.findall(r'ENV\{ID_VENDOR_ID\}=="([^"]+)", ENV\{SCANGW_VENDOR\}="(\w+)"',
                         RULES.read_text())
    names = {name for _, name in vendors}
    assert names == {"honeywell", "zebra", "datalogic", "newland", "code", "opticon"}
    for ids, _ in vendors:
        assert all(re.fullmatch(r"[0-9a-f]{4}", v) for v in ids.split("|")), ids


def _gid(name: str) -> str:
    return str(grp.getgrnam(name).gr_gid)


if UNSHARE is None:

    def test_udevadm_unavailable_rules_checked_by_parser_only() -> None:
        """udevadm or a private mount namespace is missing here: only the parser
        tests above judged the rules. Install udev (apt-get install udev) and run as
        root to have udevadm evaluate them against simulated scanners."""
        reason = "udevadm" if shutil.which("udevadm") is None else "a mount namespace"
        warnings.warn(f"{reason} unavailable: udev rules checked by the parser only",
                      stacklevel=1)
        assert check_rules(RULES.read_text()) == []

else:
    UDEVADM: list[str] = UNSHARE

    def test_udevadm_names_a_honeywell_serial_port_by_serial(tmp_path: Path) -> None:
        scanner = UsbScanner("0c2e", "0b01", "17012B4A22", "acm")
        result = udevadm_test(UDEVADM, RULES, scanner, tmp_path)
        assert result.links == ["/dev/scanner/honeywell-17012B4A22"]
        assert result.assignments("GROUP") == [_gid("dialout")]
        assert result.assignments("MODE") == ["0660"]
        assert result.properties["ID_USB_DRIVER"] == "cdc_acm"

    def test_udevadm_names_a_scanner_without_serial_by_its_port(tmp_path: Path) -> None:
        scanner = UsbScanner("05e0", "1900", None, "acm")
        result = udevadm_test(UDEVADM, RULES, scanner, tmp_path)
        assert result.links == ["/dev/scanner/zebra-port-1-1"]

    def test_udevadm_gives_keyboard_wedge_event_nodes_to_input(tmp_path: Path) -> None:
        scanner = UsbScanner("1eab", "0d10", "NL123", "event", "usbhid", "03")
        result = udevadm_test(UDEVADM, RULES, scanner, tmp_path)
        assert result.links == ["/dev/scanner/newland-NL123-if00-event"]
        assert result.assignments("GROUP") == [_gid("input")]

    def test_udevadm_gives_hid_pos_hidraw_nodes_to_plugdev(tmp_path: Path) -> None:
        scanner = UsbScanner("05f9", "4204", "DL9", "hidraw", "usbhid", "03")
        result = udevadm_test(UDEVADM, RULES, scanner, tmp_path)
        assert result.links == ["/dev/scanner/datalogic-DL9-if00-hidraw"]
        assert result.assignments("GROUP") == [_gid("plugdev")]

    def test_udevadm_names_other_cdc_acm_devices_generically(tmp_path: Path) -> None:
        scanner = UsbScanner("2341", "0043", "A1B2", "acm")
        result = udevadm_test(UDEVADM, RULES, scanner, tmp_path)
        assert result.links == ["/dev/scanner/acm-2341-0043-A1B2"]

    def test_udevadm_leaves_unknown_usb_serial_adapters_alone(tmp_path: Path) -> None:
        scanner = UsbScanner("0403", "6001", "FT1", "usb-serial", "ftdi_sio", "ff")
        result = udevadm_test(UDEVADM, RULES, scanner, tmp_path)
        assert result.properties["ID_VENDOR_ID"] == "0403"  # udev did look at it
        assert result.links == []
        assert result.assignments("GROUP") == []

    def test_udevadm_reports_no_problem_reading_the_rules(tmp_path: Path) -> None:
        result = udevadm_test(UDEVADM, RULES, UsbScanner("0c2e", "0b01", "S1", "acm"),
                              tmp_path)
        assert "Reading rules file: /run/udev/rules.d/99-scangw-scanners.rules" in result.output
        parse_errors = re.findall(r"^/run/udev/rules\.d/.*$", result.output, re.M)
        assert parse_errors == []

    def test_udevadm_harness_sees_a_broken_rule(tmp_path: Path) -> None:
        """Negative control: the same harness reports what udev dislikes."""
        broken = tmp_path / "99-scangw-scanners.rules"
        broken.write_text(RULES.read_text() + 'SUBSYSTEM="tty", BOGUS=="1"\n')
        (tmp_path / "run").mkdir()
        result = udevadm_test(UDEVADM, broken, UsbScanner("0c2e", "0b01", "S1", "acm"),
                              tmp_path / "run")
        assert re.search(r"^/run/udev/rules\.d/99-scangw-scanners\.rules:\d+ .*SUBSYSTEM",
                         result.output, re.M), result.output
