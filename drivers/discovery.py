"""``scangw devices``: what scanners are plugged in, and how to configure them.

Lists serial ports, input devices and USB HID interfaces, says which look like
scanners, and prints a config snippet to paste under ``scanners:``. Problems
(no permission, a library missing) become hints, never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from serial.tools.list_ports import comports

from drivers.hid_pos_report import is_hid_pos, usage_pages
from drivers.keyboard_wedge import PERMISSION_HINT as INPUT_HINT
from drivers.keyboard_wedge import (
    EvdevSource,
    InputDeviceSource,
    has_typing_keys,
)
from drivers.keymaps import EV_KEY
from drivers.serial_port import PERMISSION_HINT as SERIAL_PERMISSION_HINT

SYSFS_HID = Path("/sys/bus/hid/devices")


@dataclass(frozen=True)
class SerialFound:
    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    manufacturer: str | None
    product: str | None


@dataclass(frozen=True)
class InputFound:
    path: str
    name: str
    phys: str
    vid: int
    pid: int
    has_keys: bool


@dataclass(frozen=True)
class HidFound:
    vid: int
    pid: int
    interface: int
    hid_pos: bool | None
    """True/False from the report descriptor; None when it could not be read."""
    serial_number: str | None = None
    product: str | None = None


@dataclass
class Discovery:
    serial: list[SerialFound] = field(default_factory=list)
    inputs: list[InputFound] = field(default_factory=list)
    hid: list[HidFound] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)


def find_serial(ports: list[Any], found: Discovery) -> None:
    for p in ports:
        found.serial.append(SerialFound(p.device, p.vid, p.pid, p.serial_number,
                                        p.manufacturer, p.product))
        if os.path.exists(p.device) and not os.access(p.device, os.R_OK | os.W_OK):
            found.hints.append(f"{p.device}: no read/write permission; {SERIAL_PERMISSION_HINT}")


def find_inputs(source: InputDeviceSource, found: Discovery) -> None:
    try:
        paths = source.list_paths()
    except ImportError:
        found.hints.append("input devices: the evdev package is not installed "
                           "(pip install evdev, or apt install python3-evdev)")
        return
    denied = []
    for path in paths:
        try:
            device = source.open(path)
        except PermissionError:
            denied.append(path)
            continue
        except OSError:
            continue
        try:
            keys = device.capabilities().get(EV_KEY, [])
            found.inputs.append(InputFound(path, device.name, device.phys or "",
                                           device.info.vendor, device.info.product,
                                           has_typing_keys(keys)))
        finally:
            device.close()
    if denied:
        found.hints.append(f"{len(denied)} input devices not readable "
                           f"({', '.join(denied[:3])}...); {INPUT_HINT}")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def find_hid_sysfs(root: Path, found: Discovery) -> bool:
    """HID interfaces from sysfs (Linux): report descriptors are readable without root."""
    if not root.is_dir():
        return False
    for hid in sorted(root.iterdir()):
        parts = hid.name.replace(".", ":").split(":")  # 0003:0C2E:0B61.0001
        if len(parts) != 4 or parts[0] != "0003":
            continue  # not USB
        try:
            descriptor = (hid / "report_descriptor").read_bytes()
        except OSError:
            descriptor = None
        interface_dir = hid.resolve().parent
        usb_dir = interface_dir.parent
        number = _read(interface_dir / "bInterfaceNumber")
        found.hid.append(HidFound(
            int(parts[1], 16), int(parts[2], 16), int(number or "0", 16),
            None if descriptor is None else is_hid_pos(descriptor),
            _read(usb_dir / "serial"), _read(usb_dir / "product"),
        ))
    return True


def find_hid_pyusb(backend: Any, found: Discovery) -> None:
    """HID interfaces through pyusb, where sysfs is not there to read descriptors."""
    try:
        import usb.core  # type: ignore[import-untyped]
    except ImportError:
        found.hints.append("USB HID POS: the pyusb package is not installed (pip install pyusb)")
        return
    try:
        devices = list(usb.core.find(find_all=True, backend=backend))
    except usb.core.NoBackendError:
        found.hints.append("USB HID POS: libusb is missing (apt install libusb-1.0-0)")
        return
    for device in devices:
        for configuration in device:
            for intf in configuration:
                if intf.bInterfaceClass == 3 and intf.bAlternateSetting == 0:
                    # Boot keyboards/mice (protocol 1/2) are never HID POS; others may be.
                    hid_pos = False if intf.bInterfaceProtocol in (1, 2) else None
                    found.hid.append(HidFound(device.idVendor, device.idProduct,
                                              intf.bInterfaceNumber, hid_pos))
            break


def discover(
    *,
    ports: list[Any] | None = None,
    input_source: InputDeviceSource | None = None,
    sysfs_hid: Path = SYSFS_HID,
    usb_backend: Any = None,
) -> Discovery:
    found = Discovery()
    find_serial(comports() if ports is None else ports, found)
    find_inputs(input_source or EvdevSource(), found)
    if not find_hid_sysfs(sysfs_hid, found):
        find_hid_pyusb(usb_backend, found)
    return found


def _snippet(name: str, settings: dict[str, Any]) -> str:
    text = yaml.safe_dump({"scanners": {name: settings}}, sort_keys=False, allow_unicode=True)
    return "\n".join("    " + line for line in text.splitlines())


def _hex(value: int | None) -> str | None:
    return None if value is None else f"{value:04x}"


def _render_serial(found: Discovery) -> list[str]:
    out = ["Serial ports:"] + ([] if found.serial else ["  none found"])
    for i, s in enumerate(found.serial, 1):
        ident = f"{_hex(s.vid)}:{_hex(s.pid)}" if s.vid is not None else "no USB identity"
        out.append(f"  {s.device}  {ident}  serial={s.serial_number or '-'}  "
                   f"{s.manufacturer or ''} {s.product or ''}".rstrip())
        cfg: dict[str, Any] = {"kind": "serial"}
        if s.vid is not None:
            cfg.update({"vid": _hex(s.vid), "pid": _hex(s.pid)})
            if s.serial_number:
                cfg["serial_number"] = s.serial_number
        else:
            cfg["port"] = s.device
        cfg.update({"baudrate": 9600, "terminator": "any-newline"})
        out.append(_snippet(f"serial{i}", cfg))
    return out


def _render_inputs(found: Discovery) -> list[str]:
    out = ["Input devices (keyboard wedge):"] + ([] if found.inputs else ["  none found"])
    for i, d in enumerate(found.inputs, 1):
        role = "has keys" if d.has_keys else "no typing keys (not the scan node)"
        out.append(f"  {d.path}  {d.name!r}  phys={d.phys or '-'}  "
                   f"{d.vid:04x}:{d.pid:04x}  {role}")
        if d.has_keys:
            cfg: dict[str, Any] = {"kind": "keyboard", "device_name": d.name}
            if d.vid:
                cfg.update({"vid": _hex(d.vid), "pid": _hex(d.pid)})
            cfg["layout"] = "us"
            out.append(_snippet(f"keyboard{i}", cfg))
    return out


def _render_hid(found: Discovery) -> list[str]:
    out = ["USB HID interfaces (HID POS):"] + ([] if found.hid else ["  none found"])
    for i, h in enumerate(found.hid, 1):
        kind = {True: "HID POS scanner (usage page 0x8C)", False: "not HID POS",
                None: "HID, usage page unknown"}[h.hid_pos]
        out.append(f"  {h.vid:04x}:{h.pid:04x} interface {h.interface}  "
                   f"{h.product or ''}  {kind}")
        if h.hid_pos is not False:
            cfg: dict[str, Any] = {"kind": "hidpos", "vid": _hex(h.vid), "pid": _hex(h.pid)}
            if h.serial_number:
                cfg["serial_number"] = h.serial_number
            out.append(_snippet(f"hidpos{i}", cfg))
    return out


def render(found: Discovery) -> str:
    """The report as plain text with config snippets to paste into the station config."""
    out = _render_serial(found) + _render_inputs(found) + _render_hid(found)
    if not (found.serial or any(d.has_keys for d in found.inputs)
            or any(h.hid_pos is not False for h in found.hid)):
        out.append("No scanners found. Plug one in" + (", and see the hints below." if found.hints
                                                       else "."))
    out += [f"hint: {hint}" for hint in found.hints]
    return "\n".join(out) + "\n"


def devices_report(**kwargs: Any) -> str:
    """Entry point for ``scangw devices``: discover and render; never raises on a bad device."""
    return render(discover(**kwargs))


__all__ = ["Discovery", "devices_report", "discover", "render", "usage_pages"]
