"""Keyboard-wedge device handling with a fake InputDevice: selection, grab, ENODEV."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from driver_testkit import running, wait_for

from drivers import keymaps as k
from drivers.base import RawScan
from drivers.keyboard_wedge import (
    KeyboardWedgeConfig,
    KeyboardWedgeScanner,
    find_device,
    has_typing_keys,
)

KEYBOARD_KEYS = list(range(1, 100))
MEDIA_KEYS = [113, 114, 115, 163, 164, 165]  # mute, volume, next/previous


@dataclass
class Info:
    vendor: int
    product: int


@dataclass
class Event:
    type: int
    code: int
    value: int


@dataclass
class FakeInputDevice:
    """Stands in for evdev.InputDevice at the hardware boundary only."""

    path: str
    name: str
    phys: str
    info: Info
    keys: list[int]
    grab_error: OSError | None = None
    events: asyncio.Queue[Event | OSError] = field(default_factory=asyncio.Queue)
    grabbed: bool = False
    grabs: int = 0
    closed: bool = False
    gone: bool = False

    def capabilities(self) -> dict[int, list[int]]:
        return {0: [0, 1, 4], k.EV_KEY: self.keys, 4: [4]}

    def grab(self) -> None:
        if self.grab_error is not None:
            raise self.grab_error
        assert not self.grabbed, "grabbed twice"
        self.grabbed = True
        self.grabs += 1

    def ungrab(self) -> None:
        if self.gone:
            self.grabbed = False  # the kernel dropped it with the device
            raise OSError(errno.ENODEV, "No such device")
        self.grabbed = False

    def close(self) -> None:
        self.closed = True

    def type_text(self, codes: list[tuple[int, bool]]) -> None:
        for code, shift in codes:
            if shift:
                self.events.put_nowait(Event(k.EV_KEY, k.KEY_LEFTSHIFT, 1))
            self.events.put_nowait(Event(k.EV_KEY, code, 1))
            self.events.put_nowait(Event(k.EV_KEY, code, 0))
            if shift:
                self.events.put_nowait(Event(k.EV_KEY, k.KEY_LEFTSHIFT, 0))

    def vanish(self) -> None:
        self.gone = True
        self.events.put_nowait(OSError(errno.ENODEV, "No such device"))

    async def async_read_loop(self) -> AsyncIterator[Event]:
        while True:
            item = await self.events.get()
            if isinstance(item, OSError):
                raise item
            yield item


class FakeSource:
    def __init__(self, *devices: FakeInputDevice) -> None:
        self.devices = {d.path: d for d in devices}
        self.denied: set[str] = set()
        self.listings = 0

    def list_paths(self) -> list[str]:
        self.listings += 1
        return sorted(self.devices)

    def open(self, path: str) -> FakeInputDevice:
        if path in self.denied:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        device = self.devices[path]
        device.closed = False
        return device


def scanner_nodes(first: int = 4, vid: int = 0x0C2E) -> tuple[FakeInputDevice, FakeInputDevice]:
    """A scanner's two nodes: a media-key node listed first, then the keyboard node."""
    info = Info(vid, 0x0B61)
    media = FakeInputDevice(f"/dev/input/event{first}", "Honeywell 1950g Consumer Control",
                            "usb-0000:01:00.0-1.3/input1", info, MEDIA_KEYS)
    keyboard = FakeInputDevice(f"/dev/input/event{first + 1}", "Honeywell 1950g Keyboard",
                               "usb-0000:01:00.0-1.3/input0", info, KEYBOARD_KEYS)
    return media, keyboard


def cfg(**settings: object) -> KeyboardWedgeConfig:
    return KeyboardWedgeConfig.model_validate({"reattach_interval_s": 0.02, **settings})


SN = [(k.KEY_1 + 3, True), (31, True), (49, True), (k.KEY_1, False), (k.KEY_1 + 1, False),
      (k.KEY_ENTER, False)]  # "$SN12" on a US layout


def test_has_typing_keys_tells_keyboard_from_media_node() -> None:
    assert has_typing_keys(KEYBOARD_KEYS)
    assert not has_typing_keys(MEDIA_KEYS)
    assert has_typing_keys([k.KEY_KP0, k.KEY_KPENTER])


@pytest.mark.parametrize(
    "selector",
    [{"device_name": "Honeywell 1950g*"}, {"vid": "0c2e", "pid": "0b61"},
     {"phys": "usb-0000:01:00.0-1.3/*"}, {"path": "/dev/input/event5"}],
)
def test_selection_picks_the_node_with_keys(selector: dict[str, str]) -> None:
    media, keyboard = scanner_nodes()
    other = FakeInputDevice("/dev/input/event0", "AT Translated Set 2 keyboard",
                            "isa0060/serio0/input0", Info(1, 1), KEYBOARD_KEYS)
    assert find_device(cfg(**selector), FakeSource(other, media, keyboard)) is keyboard
    assert media.closed
    assert other.closed


def test_selection_explains_permission_problems() -> None:
    _, keyboard = scanner_nodes()
    source = FakeSource(keyboard)
    source.denied.add(keyboard.path)
    with pytest.raises(LookupError, match=r"permission denied on /dev/input/event5.*'input' group"):
        find_device(cfg(device_name="*"), source)


def test_config_needs_a_selector() -> None:
    with pytest.raises(ValueError, match="set path, device_name"):
        KeyboardWedgeConfig.model_validate({"layout": "de"})
    with pytest.raises(ValueError, match="layout"):
        KeyboardWedgeConfig.model_validate({"path": "/x", "layout": "dvorak"})


def test_scans_are_decoded_and_grab_is_released_on_cancel() -> None:
    media, keyboard = scanner_nodes()
    sink: list[RawScan] = []

    async def main() -> None:
        driver = KeyboardWedgeScanner("kb", cfg(vid="0c2e"), source=FakeSource(media, keyboard))
        async with running(driver, sink):
            await wait_for(lambda: driver.online)
            assert keyboard.grabbed
            keyboard.type_text(SN)
            await wait_for(lambda: len(sink) == 1)

    asyncio.run(main())
    assert [(s.scanner, s.data) for s in sink] == [("kb", b"$SN12")]
    assert not keyboard.grabbed
    assert keyboard.closed
    assert media.grabs == 0


def test_grab_is_released_when_the_sink_raises() -> None:
    _, keyboard = scanner_nodes()

    def broken_sink(scan: RawScan) -> None:
        raise RuntimeError("station crashed")

    async def main() -> None:
        driver = KeyboardWedgeScanner("kb", cfg(device_name="*Keyboard"),
                                      source=FakeSource(keyboard))
        task = asyncio.create_task(driver.run(broken_sink))
        await wait_for(lambda: keyboard.grabbed)
        keyboard.type_text(SN)
        with pytest.raises(RuntimeError, match="station crashed"):
            await task

    asyncio.run(main())
    assert not keyboard.grabbed
    assert keyboard.closed


def test_busy_device_is_closed_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    _, keyboard = scanner_nodes()
    keyboard.grab_error = OSError(errno.EBUSY, "Device or resource busy")
    source = FakeSource(keyboard)

    async def main() -> None:
        driver = KeyboardWedgeScanner("kb", cfg(path=keyboard.path), source=source)
        async with running(driver, []):
            await wait_for(lambda: source.listings >= 2)
            keyboard.grab_error = None
            await wait_for(lambda: driver.online)

    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    assert "grabbed by another program" in caplog.text
    assert keyboard.closed
    assert not keyboard.grabbed


def test_vanished_device_goes_offline_without_spinning_and_reattaches() -> None:
    media, keyboard = scanner_nodes()
    source = FakeSource(media, keyboard)
    sink: list[RawScan] = []

    async def main() -> None:
        driver = KeyboardWedgeScanner("kb", cfg(vid="0c2e", pid="0b61"), source=source)
        async with running(driver, sink):
            await wait_for(lambda: driver.online)
            keyboard.type_text(SN)
            keyboard.type_text([(30, False), (31, False)])  # partial "as", then unplug
            await wait_for(lambda: len(sink) == 1)
            await wait_for(keyboard.events.empty)
            keyboard.vanish()
            source.devices.clear()
            await wait_for(lambda: not driver.online)
            before = source.listings
            await asyncio.sleep(0.2)
            # Polled every 20 ms: about ten looks, not thousands.
            assert 3 <= source.listings - before <= 15
            assert not keyboard.grabbed
            assert keyboard.closed
            new_media, new_keyboard = scanner_nodes(first=7)
            source.devices = {d.path: d for d in (new_media, new_keyboard)}
            await wait_for(lambda: driver.online)
            assert new_keyboard.grabbed
            new_keyboard.type_text([(30, False), (k.KEY_ENTER, False)])
            await wait_for(lambda: len(sink) == 2)

    asyncio.run(main())
    assert [s.data for s in sink] == [b"$SN12", b"a"]
