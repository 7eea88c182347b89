"""The station gateway service: scanners in, decisions out.

device -> framing (drivers) -> decoding -> station rules -> journal commit ->
feedback (scanner beep, event stream) and uplink (order store).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from drivers.base import DRIVER_KINDS, RawScan, ScannerDriver
from gateway.config import StationConfig
from gateway.database import StationDatabase
from gateway.decoding import decode
from gateway.events import DecisionMade, EventBus, StoreAnswered
from gateway.journal import StoreVerdict, append, last_seq, settle
from gateway.order_cache import CachedLine, add_serial, load_all, put_order, remove_serial
from gateway.station import Judgement, Station
from gateway.uplink import Uplink
from scangw.sales.registration import ScanMode

log = logging.getLogger(__name__)


class StationService:
    def __init__(self, config: StationConfig) -> None:
        self.config = config
        self.events = EventBus()
        self.db = StationDatabase(config.station.database)
        self.station = Station(config.station.id)
        self.uplink = Uplink(config, self.db, self._on_verdicts)
        self.scanners: dict[str, ScannerDriver] = {
            name: DRIVER_KINDS[cfg.kind](name, cfg) for name, cfg in config.scanners.items()
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Future[object]] = set()

    async def start(self) -> None:
        await self.db.open()
        self.station = Station(self.config.station.id, await self.db.run(last_seq) + 1)
        self.station.load(await self.db.run(load_all))
        await self.uplink.start()
        self._tasks.append(asyncio.create_task(self.uplink.run(), name="uplink"))
        for name, driver in self.scanners.items():
            self._tasks.append(asyncio.create_task(driver.run(self.on_scan), name=name))
        log.info("station %s/%s ready with %d scanner(s)", self.config.station.site,
                 self.config.station.id, len(self.scanners))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.uplink.stop()
        await self.db.close()

    # -- orders ---------------------------------------------------------------------

    async def cache_order(self, lines: list[CachedLine]) -> None:
        """Keep a copy of an order's lines (and their registrations) at the station."""
        await self.db.run(put_order(lines))
        self.station.load([CachedLine(ln.order_id, ln.line_number, ln.item_id, ln.quantity,
                                      list(ln.serials)) for ln in lines])

    def open_document(self, order_id: str, line_number: int = 1) -> CachedLine:
        return self.station.open_document(order_id, line_number)

    def set_mode(self, mode: ScanMode) -> None:
        self.station.mode = mode

    # -- the scan path (hot) --------------------------------------------------------

    def on_scan(self, raw: RawScan) -> None:
        """Called by a driver on the event loop for each framed scan."""
        decoded = decode(raw)
        judgement = self.station.judge(decoded)
        if not judgement.entry.data and raw.data:
            judgement.entry.data = raw.data[:64].decode("latin-1")
        self._journal(judgement)

    def _journal(self, judgement: Judgement) -> None:
        entry = judgement.entry
        change = None
        if judgement.line is not None and entry.order_id and entry.line_number:
            on = add_serial if entry.mode == ScanMode.ADD else remove_serial
            change = on(entry.order_id, entry.line_number, entry.serial)
        try:
            future = self.db.submit(append(entry, change))
        except RuntimeError as exc:
            log.error("station database unavailable: %s", exc)
            self.station.revert(judgement)
            return
        future.add_done_callback(lambda f: self._committed(judgement, f))

    def _committed(self, judgement: Judgement, future: asyncio.Future[None]) -> None:
        entry = judgement.entry
        error = future.exception()
        if error is not None:
            # Nothing the operator did not hear as bad is lost: answer bad, undo.
            self.station.revert(judgement)
            entry.accepted = False
            entry.reason = "journal_failed"
            entry.message = f"not saved, scan again when fixed: {error}"
        latency = time.perf_counter_ns() - judgement.received_ns
        self.events.publish(DecisionMade(entry, latency))
        driver = self.scanners.get(entry.scanner)
        if driver is not None:
            self._spawn(driver.feedback(entry.accepted))
        if entry.accepted:
            self.uplink.send(entry)

    def _on_verdicts(self, verdicts: list[StoreVerdict]) -> None:
        by_id = {v.id: v for v in verdicts}

        def settled(f: asyncio.Future[list[str]]) -> None:
            if f.exception() is not None:
                log.error("could not record the store's verdicts: %s", f.exception())
                return
            for entry_id in f.result():
                v = by_id[entry_id]
                if not v.accepted:
                    log.warning("store refused registration %s: %s", entry_id, v.message)
                self.events.publish(StoreAnswered(entry_id, v.accepted, v.reason, v.message))

        self.db.submit(settle(verdicts)).add_done_callback(settled)

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[call-overload]
        self._background.add(task)
        task.add_done_callback(self._background.discard)

