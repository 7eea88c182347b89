"""Run the real ``udevadm test`` on our rules against a simulated USB scanner.

The rules only do something for a scanner's device nodes, and CI has no scanner.
So we build the part of sysfs the kernel would show for one (the USB device with
idVendor/serial, its interface with the driver, the tty/event/hidraw node) in a
temporary directory and let udev walk it, the way systemd's own test suite fakes
sysfs. A private mount namespace puts the fake tree at /sys, our rules file alone
in /run/udev/rules.d and empty tmpfs at /dev and /run, so nothing on the machine
changes (``udevadm test`` of systemd 252 does create symlinks in /dev).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

NodeKind = Literal["acm", "usb-serial", "event", "hidraw"]
DEVICE = "devices/pci0000:00/0000:00:14.0/usb1/1-1"
INTERFACE = f"{DEVICE}/1-1:1.0"

_IN_NAMESPACE = r"""
set -e
rules="$1"; fake_sys="$2"; devpath="$3"
mount -t tmpfs none /run
mkdir -p /run/udev/rules.d
cp "$rules" /run/udev/rules.d/
for d in /etc/udev/rules.d /usr/lib/udev/rules.d /lib/udev/rules.d /usr/local/lib/udev/rules.d; do
  if [ -d "$d" ]; then mount -t tmpfs none "$d"; fi
done
mount -t tmpfs none /dev
mount --bind "$fake_sys" /sys
exec udevadm test --action=add "$devpath"
"""


def namespace_command() -> list[str] | None:
    """``unshare`` arguments for a private mount namespace, or None if there is none."""
    if shutil.which("unshare") is None or shutil.which("udevadm") is None:
        return None
    cmd = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        cmd.insert(1, "--map-root-user")
    probe = subprocess.run([*cmd, "true"], capture_output=True, check=False)
    return cmd if probe.returncode == 0 else None


@dataclass
class UsbScanner:
    """What the kernel would show in sysfs for one USB scanner interface."""

    vendor: str
    product: str
    serial: str | None
    node: NodeKind
    driver: str = "cdc_acm"
    interface_class: str = "02"

    def build(self, sys_root: Path) -> str:
        """Write the tree under ``sys_root``; return the device path for udevadm."""
        for d in ("class/tty", "class/input", "class/hidraw", "bus/usb/drivers/usb",
                  f"bus/usb/drivers/{self.driver}", "bus/hid/drivers/hid-generic",
                  "bus/usb-serial/drivers/ftdi_sio"):
            (sys_root / d).mkdir(parents=True, exist_ok=True)
        attrs = {"idVendor": self.vendor, "idProduct": self.product, "manufacturer": "Acme",
                 "product": "Scanner", "bcdDevice": "0100", "dev": "189:1"}
        if self.serial is not None:
            attrs["serial"] = self.serial
        _node(sys_root, DEVICE, "/sys/bus/usb", "usb",
              f"MAJOR=189\nMINOR=1\nDEVNAME=bus/usb/001/002\nDEVTYPE=usb_device\nDRIVER=usb\n"
              f"PRODUCT={int(self.vendor, 16):x}/{int(self.product, 16):x}/100\n", attrs)
        _node(sys_root, INTERFACE, "/sys/bus/usb", self.driver,
              f"DEVTYPE=usb_interface\nDRIVER={self.driver}\n",
              {"bInterfaceNumber": "00", "bInterfaceClass": self.interface_class,
               "bInterfaceSubClass": "00", "bInterfaceProtocol": "00"})
        if self.node == "acm":
            return _node(sys_root, f"{INTERFACE}/tty/ttyACM0", "/sys/class/tty", None,
                         "MAJOR=166\nMINOR=0\nDEVNAME=ttyACM0\n", {"dev": "166:0"})
        if self.node == "usb-serial":
            port = f"{INTERFACE}/ttyUSB0"
            _node(sys_root, port, "/sys/bus/usb-serial", None, "DRIVER=ftdi_sio\n", {})
            return _node(sys_root, f"{port}/tty/ttyUSB0", "/sys/class/tty", None,
                         "MAJOR=188\nMINOR=0\nDEVNAME=ttyUSB0\n", {"dev": "188:0"})
        hid = f"{INTERFACE}/0003:{self.vendor.upper()}:{self.product.upper()}.0001"
        _node(sys_root, hid, "/sys/bus/hid", None, "DRIVER=hid-generic\n", {})
        if self.node == "event":
            _node(sys_root, f"{hid}/input/input5", "/sys/class/input", None,
                  f"PRODUCT=3/{self.vendor}/{self.product}/100\nNAME=\"Acme Scanner\"\n", {})
            return _node(sys_root, f"{hid}/input/input5/event5", "/sys/class/input", None,
                         "MAJOR=13\nMINOR=69\nDEVNAME=input/event5\n", {"dev": "13:69"})
        return _node(sys_root, f"{hid}/hidraw/hidraw0", "/sys/class/hidraw", None,
                     "MAJOR=243\nMINOR=0\nDEVNAME=hidraw0\n", {"dev": "243:0"})


def _node(sys_root: Path, path: str, subsystem: str, driver: str | None, uevent: str,
          attrs: dict[str, str]) -> str:
    here = sys_root / path
    here.mkdir(parents=True, exist_ok=True)
    (here / "subsystem").symlink_to(subsystem)  # absolute: resolves once mounted at /sys
    if driver:
        (here / "driver").symlink_to(f"/sys/bus/usb/drivers/{driver}")
    (here / "uevent").write_text(uevent)
    for name, value in attrs.items():
        (here / name).write_text(value + "\n")
    return f"/sys/{path}"


@dataclass
class UdevResult:
    """What ``udevadm test`` printed: its log and the final device properties."""

    output: str
    properties: dict[str, str] = field(default_factory=dict)

    def assignments(self, key: str) -> list[str]:
        """Values of ``GROUP``/``MODE``/``LINK`` lines our rules file logged."""
        pattern = re.compile(rf"99-scangw-scanners\.rules:\d+ {key} '?([^'\n]*)'?$", re.M)
        return pattern.findall(self.output)

    @property
    def links(self) -> list[str]:
        return self.properties.get("DEVLINKS", "").split()


def udevadm_test(unshare: list[str], rules: Path, scanner: UsbScanner, tmp: Path) -> UdevResult:
    """Evaluate ``rules`` for ``scanner`` with the real udevadm; nothing outside changes."""
    fake_sys = tmp / "sys"
    devpath = scanner.build(fake_sys)
    rules_copy = tmp / "rules" / rules.name
    rules_copy.parent.mkdir(exist_ok=True)
    shutil.copy(rules, rules_copy)
    env = {**os.environ, "SYSTEMD_DEVICE_VERIFY_SYSFS": "0", "SYSTEMD_LOG_LEVEL": "debug"}
    proc = subprocess.run(
        [*unshare, "sh", "-c", _IN_NAMESPACE, "sh", str(rules_copy), str(fake_sys), devpath],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    properties = dict(
        line.split("=", 1) for line in proc.stdout.splitlines()
        if re.match(r"^[A-Z_][A-Z0-9_]*=", line)
    )
    return UdevResult(output, properties)
