"""What the page shows, computed without a server (pure)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from gateway.display.server import _Browser
from gateway.display.view import (
    Alerts,
    RecentEntries,
    last_scan,
    refusal_alert_text,
    snapshot,
)
from gateway.journal import EntryState, JournalEntry
from gateway.order_cache import CachedLine
from gateway.station import Station
from scangw.sales.registration import ScanMode


def _entry(accepted: bool, reason: str, serial: str | None = "SN-1", **extra: object,
           ) -> JournalEntry:
    return JournalEntry(seq=1, id=f"id-{reason}", ts=1000.0, scanner="gun", data="raw",
                        accepted=accepted, reason=reason, message=f"msg {reason}",
                        state=EntryState.PENDING if accepted else EntryState.LOCAL,
                        serial=serial, **extra)  # type: ignore[arg-type]


def test_the_verdict_is_always_a_word_not_only_a_colour() -> None:
    assert [(v.verdict, v.word) for v in (
        last_scan(_entry(True, "added")), last_scan(_entry(True, "removed")),
        last_scan(_entry(True, "mode_remove")), last_scan(_entry(False, "duplicate_serial")),
    )] == [("good", "ADDED"), ("good", "REMOVED"), ("info", "OK"), ("bad", "REFUSED")]
    shown = last_scan(_entry(False, "bad_read"))
    assert (shown.message, shown.data, shown.reason) == ("msg bad_read", "raw", "bad_read")


def test_alerts_stay_until_acknowledged_and_are_bounded() -> None:
    alerts = Alerts(limit=3)
    first = alerts.add("store_refusal", "t", "m", 1.0)
    assert alerts.open() == [first]
    assert not alerts.ack("a-unknown")
    assert alerts.ack(first.id)
    assert not alerts.ack(first.id)
    made = [alerts.add("uplink_down", f"t{i}", "m", float(i)) for i in range(5)]
    assert alerts.open() == made[2:]  # the oldest go first
    assert alerts.find("uplink_down") is made[-1]
    assert alerts.find("store_refusal") is None


def test_a_late_refusal_names_the_serial_and_the_line() -> None:
    entry = _entry(True, "added", order_id="SO-7", line_number=2, mode="add")
    assert refusal_alert_text(entry, "duplicate_serial", "SN-1 is sold already") == (
        "The order store refused SN-1 on SO-7 line 2",
        "SN-1 is sold already. It is no longer registered: check the unit.")
    blank = _entry(True, "added", serial=None, order_id="SO-7", line_number=2, mode="add")
    assert refusal_alert_text(blank, "over_quantity", "")[0] == (
        "The order store refused a NOT-READABLE unit on SO-7 line 2")
    assert refusal_alert_text(None, "over_quantity", "") == (
        "The order store refused a registration", "over_quantity")
    recent = RecentEntries(limit=2)
    for i in range(3):
        recent.add(_entry(True, f"r{i}"))
    assert [recent.get(f"id-r{i}") is not None for i in range(3)] == [False, True, True]


def test_the_snapshot_follows_the_scanners_context() -> None:
    station = Station("pack-01", per_scanner=True)
    station.load([CachedLine("SO-1", 1, "PHONE", 3, ["A", None]),
                  CachedLine("SO-1", 4, "DRILL", 1, [])])
    assert snapshot(station, "gun", None, [], uplink=False).line is None
    station.open_document("SO-1", 4, "gun")
    station.context("gun").mode = ScanMode.REMOVE
    station.open_document("SO-1", 1, "other")
    gun = snapshot(station, "gun", None, [], uplink=True).as_json()
    other = snapshot(station, "other", None, [], uplink=True).as_json()
    assert gun["mode"] == "remove"
    assert gun["line"] == {"order_id": "SO-1", "number": 4, "item_id": "DRILL",
                           "registered": 0, "quantity": 1, "position": 2, "lines": 2}
    assert (other["mode"], other["line"]["registered"], other["line"]["position"]) == (
        "add", 2, 1)


def test_the_config_does_not_load_the_web_framework() -> None:
    """``scangw check`` and a station without a display never import aiohttp."""
    code = ("import sys, gateway.display, gateway.display.config;"
            " sys.exit('aiohttp' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_a_slow_browser_keeps_only_the_newest_snapshots() -> None:
    """Offering never waits: a browser that does not read loses old snapshots."""
    async def run() -> list[bytes | None]:
        browser = _Browser("gun")
        for i in range(10):
            browser.offer(f"s{i}".encode())
        browser.offer(b"s9")  # unchanged: not sent again
        seen = [browser.queue.get_nowait() for _ in range(browser.queue.qsize())]
        browser.offer(b"s10")
        browser.close()
        return seen + [browser.queue.get_nowait() for _ in range(browser.queue.qsize())]

    assert asyncio.run(run()) == [b"s6", b"s7", b"s8", b"s9", None]
