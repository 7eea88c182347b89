"""Scanners that type like a keyboard, read through Linux evdev.

The device is grabbed exclusively so scans do not also type into a console,
and the grab is released on every way out. Events go through the pure
``KeyDecoder``. A scanner is chosen by path, name, phys or USB VID/PID, and of
its event nodes only the one that has typing keys is used. When the device
vanishes (ENODEV) the driver goes offline, drops the node (a dead fd in a
select loop would spin) and polls until the same identity is back.

``evdev`` is imported only when a device is opened, so the rest of scangw runs
where it is not installed.
"""

from __future__ import annotations

import asyncio
import errno
import fnmatch
import glob
import logging
import os
from collections.abc import AsyncIterator, Iterable
from typing import Literal, Protocol

from pydantic import Field, model_validator

from drivers.base import DriverConfig, RawScan, ScannerDriver, ScanSink, register_driver
from drivers.identity import PID_FIELD, VID_FIELD, UsbId, describe_identity
from drivers.keydecoder import KeyDecoder, KeyScan, TerminatorKey
from drivers.keymaps import (
    EV_KEY,
    KEY_0,
    KEY_1,
    KEY_ENTER,
    KEY_KPENTER,
    KEYPAD_DIGITS,
    Layout,
)

log = logging.getLogger(__name__)

PERMISSION_HINT = (
    "add the gateway's user to the 'input' group (sudo usermod -aG input USER, then log in "
    "again) or install a udev rule giving it access to the scanner's /dev/input/event* node"
)


class KeyboardWedgeConfig(DriverConfig):
    """A scanner in keyboard (HID wedge) mode (``kind: keyboard``); set at least one selector."""

    kind: Literal["keyboard"] = "keyboard"
    path: str | None = Field(
        default=None,
        description="Event device path; /dev/input/by-id/... survives replugs.",
        examples=["/dev/input/by-id/usb-Honeywell_Imaging_1950g-event-kbd"],
    )
    device_name: str | None = Field(
        default=None,
        description="Device name as evdev reports it; shell wildcards allowed.",
        examples=["Honeywell*Scanner*"],
    )
    phys: str | None = Field(
        default=None,
        description="Physical location (USB port); shell wildcards allowed.",
        examples=["usb-0000:01:00.0-1.3/input0"],
    )
    vid: UsbId | None = VID_FIELD
    pid: UsbId | None = PID_FIELD
    layout: Layout = Field(
        default="us",
        description="Keyboard layout the scanner is set to: us, uk, de or fr.",
        examples=["de"],
    )
    terminators: list[TerminatorKey] = Field(
        default=["enter", "kpenter"],
        min_length=1,
        description="Keys that end a scan: enter, kpenter, tab.",
        examples=[["enter"]],
    )
    max_length: int = Field(
        default=256,
        ge=1,
        le=65536,
        description="Longest scan in characters.",
        examples=[256],
    )
    idle_gap_ms: int | None = Field(
        default=None,
        ge=1,
        description="End a scan after this pause in typing (scanners set to send no Enter).",
        examples=[80],
    )
    grab: bool = Field(
        default=True,
        description="Take the device exclusively so scans do not type elsewhere.",
        examples=[True],
    )
    reattach_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="How often to look for the device while it is gone.",
        examples=[1.0],
    )

    @model_validator(mode="after")
    def _some_selector(self) -> KeyboardWedgeConfig:
        if all(v is None for v in (self.path, self.device_name, self.phys, self.vid, self.pid)):
            raise ValueError("set path, device_name, phys or vid/pid to pick the scanner's device")
        return self

    def describe(self) -> str:
        parts = [
            f"path {self.path}" if self.path else "",
            f"name {self.device_name!r}" if self.device_name else "",
            f"phys {self.phys}" if self.phys else "",
        ]
        if self.vid is not None or self.pid is not None:
            parts.append(describe_identity(self.vid, self.pid, None))
        return ", ".join(p for p in parts if p)


class InputEventLike(Protocol):
    type: int
    code: int
    value: int


class DeviceInfoLike(Protocol):
    @property
    def vendor(self) -> int: ...
    @property
    def product(self) -> int: ...


class InputDeviceLike(Protocol):
    """The part of ``evdev.InputDevice`` the driver uses (fakes implement it in tests)."""

    @property
    def path(self) -> str | bytes: ...
    @property
    def name(self) -> str: ...
    @property
    def phys(self) -> str: ...
    @property
    def info(self) -> DeviceInfoLike: ...
    def capabilities(self) -> dict[int, list[int]]: ...
    def grab(self) -> None: ...
    def ungrab(self) -> None: ...
    def close(self) -> None: ...
    def async_read_loop(self) -> AsyncIterator[InputEventLike]: ...


class InputDeviceSource(Protocol):
    def list_paths(self) -> list[str]: ...
    def open(self, path: str) -> InputDeviceLike: ...


class EvdevSource:
    """The real input devices, through the evdev package."""

    def __init__(self, input_dir: str = "/dev/input") -> None:
        self._input_dir = input_dir

    def list_paths(self) -> list[str]:
        """Every event node, readable or not.

        ``evdev.list_devices`` hides nodes we may not open; listing them all lets
        the permission problem surface with a hint instead of "no device".
        """
        import evdev  # noqa: F401 - optional dependency, Linux only: fail early

        return sorted(glob.glob(os.path.join(self._input_dir, "event*")))

    def open(self, path: str) -> InputDeviceLike:
        import evdev

        device: InputDeviceLike = evdev.InputDevice(path)
        return device


def has_typing_keys(key_codes: Iterable[int]) -> bool:
    """True for the event node that types scans (digits and Enter), not a mouse/media node."""
    keys = set(key_codes)
    digits = keys & (set(range(KEY_1, KEY_0 + 1)) | set(KEYPAD_DIGITS))
    return bool(digits) and bool(keys & {KEY_ENTER, KEY_KPENTER})


def device_matches(cfg: KeyboardWedgeConfig, device: InputDeviceLike) -> bool:
    """True when every selector that is set fits the device."""
    if cfg.path is not None and os.path.realpath(cfg.path) != os.path.realpath(
        os.fsdecode(device.path)
    ):
        return False
    if cfg.device_name is not None and not fnmatch.fnmatchcase(device.name, cfg.device_name):
        return False
    if cfg.phys is not None and not fnmatch.fnmatchcase(device.phys or "", cfg.phys):
        return False
    if cfg.vid is not None and device.info.vendor != cfg.vid:
        return False
    return cfg.pid is None or device.info.product == cfg.pid


def find_device(cfg: KeyboardWedgeConfig, source: InputDeviceSource) -> InputDeviceLike:
    """Open the scanner's key node; raise LookupError saying why none (or several) fit."""
    denied: list[str] = []
    found: list[InputDeviceLike] = []
    for path in source.list_paths():
        try:
            device = source.open(path)
        except PermissionError:
            denied.append(path)
            continue
        except OSError:
            continue  # vanished between listing and opening
        try:
            keys = device.capabilities().get(EV_KEY, [])
            if device_matches(cfg, device) and has_typing_keys(keys):
                found.append(device)
                continue
        except OSError:
            pass
        device.close()
    if len(found) == 1:
        return found[0]
    for device in found:
        device.close()
    if found:
        where = ", ".join(f"{os.fsdecode(d.path)} (phys {d.phys})" for d in found)
        raise LookupError(
            f"{len(found)} input devices match {cfg.describe()}: {where}; "
            "add phys or path to pick one"
        )
    if denied:
        raise LookupError(
            f"no readable input device matches {cfg.describe()}; permission denied on "
            f"{', '.join(denied)}: {PERMISSION_HINT}"
        )
    raise LookupError(f"no input device with keys matches {cfg.describe()}")


@register_driver
class KeyboardWedgeScanner(ScannerDriver):
    kind = "keyboard"
    config_model = KeyboardWedgeConfig

    def __init__(
        self, name: str, config: KeyboardWedgeConfig, *, source: InputDeviceSource | None = None
    ) -> None:
        super().__init__(name, config)
        self.settings = config
        self._source: InputDeviceSource = source or EvdevSource()

    async def run(self, emit: ScanSink) -> None:
        s = self.settings
        decoder = KeyDecoder(s.layout, s.terminators, s.max_length)
        last_problem = ""
        while True:
            try:
                device = await asyncio.to_thread(find_device, s, self._source)
            except LookupError as exc:
                if str(exc) != last_problem:  # say it once, not every second
                    log.warning(
                        "scanner %s: %s; looking again every %.1fs",
                        self.name,
                        exc,
                        s.reattach_interval_s,
                    )
                    last_problem = str(exc)
                await asyncio.sleep(s.reattach_interval_s)
                continue
            problem = ""
            path = os.fsdecode(device.path)
            try:
                await self._read(device, decoder, emit)
                problem = f"{path} stopped sending events"
            except OSError as exc:
                if exc.errno == errno.EBUSY:
                    problem = (
                        f"{path} is grabbed by another program ({exc}); stop it or set grab: false"
                    )
                else:
                    problem = f"{path} vanished ({exc}); waiting for it to return"
            finally:
                if self.online:
                    last_problem = ""  # it worked for a while: report the next problem anew
                self.online = False
                decoder.reset()
            if problem != last_problem:
                log.warning("scanner %s: %s", self.name, problem)
                last_problem = problem
            await asyncio.sleep(s.reattach_interval_s)

    async def _read(self, device: InputDeviceLike, decoder: KeyDecoder, emit: ScanSink) -> None:
        loop = asyncio.get_running_loop()
        gap_s = self.settings.idle_gap_ms / 1000 if self.settings.idle_gap_ms else None
        idle: asyncio.TimerHandle | None = None

        def send(scan: KeyScan | None) -> None:
            if scan is not None:
                emit(RawScan(self.name, scan.text.encode("utf-8"), scan.overlong))

        grabbed = False
        try:
            if self.settings.grab:
                device.grab()
                grabbed = True
            self.online = True
            log.info("scanner %s: online at %s (%s)", self.name, device.path, device.name)
            async for event in device.async_read_loop():
                send(decoder.feed(event.type, event.code, event.value))
                if gap_s is not None:
                    if idle is not None:
                        idle.cancel()
                    idle = loop.call_later(gap_s, lambda: send(decoder.flush()))
        finally:
            if idle is not None:
                idle.cancel()
            if grabbed:
                try:
                    device.ungrab()
                except OSError as exc:
                    log.debug("scanner %s: ungrab failed (device gone?): %s", self.name, exc)
            try:
                device.close()
            except OSError as exc:
                log.debug("scanner %s: close failed: %s", self.name, exc)
