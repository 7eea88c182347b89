"""`scangw devices`: listing and config snippets, with fakes at the hardware boundary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from fake_evdev import FakeSource, scanner_nodes
from fake_usb import HID_POS_DESCRIPTOR, KEYBOARD_DESCRIPTOR, FakeScanner, FakeUsbBackend
from serial.tools.list_ports_common import ListPortInfo

import drivers
from drivers.discovery import devices_report, discover, render


def usb_port() -> ListPortInfo:
    info = ListPortInfo("/dev/ttyACM0", skip_link_detection=True)
    info.vid, info.pid, info.serial_number = 0x0C2E, 0x0B61, "21143B4A30"
    info.manufacturer, info.product = "Honeywell", "1950g"
    return info


def fake_sysfs(root: Path) -> Path:
    """A /sys/bus/hid/devices tree with a HID POS interface and a keyboard interface."""
    hid_root = root / "bus/hid/devices"
    hid_root.mkdir(parents=True)
    for number, name, descriptor in ((0, "0003:0C2E:0B61.0001", HID_POS_DESCRIPTOR),
                                     (1, "0003:0C2E:0B61.0002", KEYBOARD_DESCRIPTOR)):
        usb_dev = root / "devices/usb1/1-3"
        iface = usb_dev / f"1-3:1.{number}"
        real = iface / name
        real.mkdir(parents=True)
        (real / "report_descriptor").write_bytes(descriptor)
        (iface / "bInterfaceNumber").write_text(f"{number:02x}\n")
        (usb_dev / "serial").write_text("21143B4A30\n")
        (usb_dev / "product").write_text("1950g\n")
        (hid_root / name).symlink_to(real)
    return hid_root


def snippets(text: str) -> list[dict[str, dict[str, object]]]:
    """Every config snippet in the report, parsed back from YAML."""
    blocks: list[dict[str, dict[str, object]]] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "scanners:":
            block = [line]
            for nxt in lines[i + 1:]:
                if not nxt.startswith("      "):
                    break
                block.append(nxt)
            blocks.append(yaml.safe_load("\n".join(b[4:] for b in block))["scanners"])
    return blocks


def test_report_lists_devices_with_snippets_that_validate(tmp_path: Path) -> None:
    media, keyboard = scanner_nodes()
    text = devices_report(ports=[usb_port()], input_source=FakeSource(media, keyboard),
                          sysfs_hid=fake_sysfs(tmp_path))
    assert "/dev/ttyACM0  0c2e:0b61  serial=21143B4A30  Honeywell 1950g" in text
    assert "/dev/input/event5" in text
    assert "no typing keys (not the scan node)" in text
    assert "0c2e:0b61 interface 0  1950g  HID POS scanner (usage page 0x8C)" in text
    assert "interface 1  1950g  not HID POS" in text
    found = snippets(text)
    assert [next(iter(s.values()))["kind"] for s in found] == ["serial", "keyboard", "hidpos"]
    for block in found:
        for settings in block.values():
            drivers.parse_scanner_config(settings)  # pastes straight into a station config
    assert found[2] == {"hidpos1": {"kind": "hidpos", "vid": "0c2e", "pid": "0b61",
                                    "serial_number": "21143B4A30"}}


def test_nothing_plugged_in_says_so(tmp_path: Path) -> None:
    text = devices_report(ports=[], input_source=FakeSource(),
                          sysfs_hid=tmp_path / "absent", usb_backend=FakeUsbBackend())
    assert text.count("none found") == 3
    assert "No scanners found" in text


def test_permission_problems_become_hints(tmp_path: Path) -> None:
    _, keyboard = scanner_nodes()
    source = FakeSource(keyboard)
    source.denied.add(keyboard.path)
    text = render(discover(ports=[], input_source=source, sysfs_hid=tmp_path / "absent",
                           usb_backend=FakeUsbBackend()))
    assert "hint: 1 input devices not readable" in text
    assert "'input' group" in text


def test_pyusb_fallback_lists_hid_interfaces(tmp_path: Path) -> None:
    found = discover(ports=[], input_source=FakeSource(), sysfs_hid=tmp_path / "absent",
                     usb_backend=FakeUsbBackend(FakeScanner(vid=0x05E0, pid=0x1300)))
    assert [(h.vid, h.pid, h.interface, h.hid_pos) for h in found.hid] == [
        (0x05E0, 0x1300, 0, None)]
    assert "HID, usage page unknown" in render(found)


def test_real_machine_report_does_not_crash() -> None:
    text = devices_report()
    assert text.startswith("Serial ports:")
    assert "USB HID interfaces" in text


def test_package_imports_and_reports_without_evdev_and_pyusb(tmp_path: Path) -> None:
    """Where evdev/pyusb are missing, drivers still import and the report says what to install."""
    code = (
        "import sys\n"
        "sys.modules['evdev'] = None\n"
        "sys.modules['usb'] = None\n"
        "sys.modules['usb.core'] = None\n"
        "import drivers\n"
        "from drivers.discovery import devices_report\n"
        "assert sorted(drivers.DRIVER_KINDS) == ['hidpos', 'keyboard', 'serial', 'tcp']\n"
        f"print(devices_report(ports=[], sysfs_hid=__import__('pathlib').Path({str(tmp_path)!r})"
        " / 'absent'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert "the evdev package is not installed" in result.stdout
    assert "the pyusb package is not installed" in result.stdout
