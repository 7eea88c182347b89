"""A fake evdev InputDevice and device list: the hardware boundary of the wedge driver."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from drivers import keymaps as k

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
