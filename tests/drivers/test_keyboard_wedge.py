"""Keyboard-wedge device handling with a fake InputDevice: selection, grab, ENODEV."""

from __future__ import annotations

import asyncio
import errno
import logging
from pathlib import Path

import pytest
from driver_testkit import running, wait_for
from fake_evdev import KEYBOARD_KEYS, MEDIA_KEYS, FakeInputDevice, FakeSource, Info, scanner_nodes

from drivers import keymaps as k
from drivers.base import RawScan
from drivers.keyboard_wedge import (
    EvdevSource,
    KeyboardWedgeConfig,
    KeyboardWedgeScanner,
    find_device,
    has_typing_keys,
)


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


def test_two_identical_scanners_need_phys_to_tell_apart() -> None:
    _, first = scanner_nodes(first=4)
    _, second = scanner_nodes(first=8)
    second.phys = "usb-0000:01:00.0-1.4/input0"
    source = FakeSource(first, second)
    with pytest.raises(LookupError, match=r"2 input devices match .*add phys or path"):
        find_device(cfg(vid="0c2e"), source)
    assert first.closed
    assert second.closed
    assert find_device(cfg(vid="0c2e", phys="*-1.4/*"), source) is second


def test_real_evdev_source_lists_every_node_and_skips_non_devices(tmp_path: Path) -> None:
    for name in ("event10", "event2", "mouse0"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "event2").chmod(0)
    source = EvdevSource(str(tmp_path))
    assert source.list_paths() == [str(tmp_path / "event10"), str(tmp_path / "event2")]
    # Real evdev refuses plain files (and, when not root, the mode-0 one is a permission hint).
    with pytest.raises(LookupError, match=r"no (readable )?input device"):
        find_device(cfg(device_name="*"), source)


def test_idle_gap_ends_scans_typed_without_enter() -> None:
    _, keyboard = scanner_nodes()
    sink: list[RawScan] = []

    async def main() -> None:
        settings = cfg(device_name="*Keyboard", idle_gap_ms=50)
        driver = KeyboardWedgeScanner("kb", settings, source=FakeSource(keyboard))
        async with running(driver, sink):
            await wait_for(lambda: driver.online)
            keyboard.type_text([(30, True), (k.KEY_1, False)])  # "A1", no Enter
            await asyncio.sleep(0.15)
            keyboard.type_text([(48, False), (k.KEY_ENTER, False)])  # "b" + Enter
            await wait_for(lambda: len(sink) == 2)
            await asyncio.sleep(0.1)  # the Enter already ended it: no empty scan

    asyncio.run(main())
    assert [s.data for s in sink] == [b"A1", b"b"]
