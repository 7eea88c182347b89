"""The station gateway service: scanners in, decisions out.

device -> framing (drivers) -> decoding -> station rules -> journal commit ->
feedback (scanner beep, event stream) and uplink (order store).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from drivers import make_driver
from drivers.base import RawScan, ScannerDriver
from gateway.commands import Command, command_text
from gateway.config import StationConfig
from gateway.database import StationDatabase
from gateway.events import DecisionMade, EventBus, StoreAnswered
from gateway.journal import (
    EntryState,
    JournalEntry,
    StoreVerdict,
    append,
    epoch,
    last_seq,
    last_useq,
    settle,
)
from gateway.order_cache import (
    CachedLine,
    add_serial,
    load_all,
    load_contexts,
    merge_store_truth,
    put_order,
    remove_serial,
    save_context,
    undo_entry,
)
from gateway.retention import keep_pruning
from gateway.station import Context, Judgement, Station
from gateway.uplink import Uplink
from gateway.workflow import OrderUnavailable, Pending, ScanWorkflow
from scangw import protocol
from scangw.logs import escape_scan
from scangw.sales.registration import ScanMode

if TYPE_CHECKING:
    from gateway.display.server import DisplayServer
    from gateway.monitor import Monitor

_VERDICT_RETRY_S = 0.5

LIVE_KEYS = ("scan_rules", "serial_patterns", "debounce", "commands", "decoder", "retention")
"""Station config keys a SIGHUP applies at once."""
RESTART_KEYS = ("station", "broker", "uplink", "scanners", "state_scope", "monitor",
                "display")
"""Station config keys that need a restart (they shape connections and devices)."""

log = logging.getLogger(__name__)


class StationService:
    def __init__(self, config: StationConfig) -> None:
        self.config = config
        self.events = EventBus()
        self.db = StationDatabase(config.station.database)
        self.station = Station(config.station.id)
        self._last_useq = 0
        self.uplink: Uplink | None = None
        self.scanners: dict[str, ScannerDriver] = {
            name: make_driver(name, cfg) for name, cfg in config.scanners.items()
        }
        self.workflow = ScanWorkflow(config, self.station, self.fetch_order, self.post_order)
        self._held: deque[RawScan] | None = None
        """Scans that arrived while an order was being opened; None when not busy."""
        self._saved: dict[str, tuple[ScanMode, tuple[str, int] | None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.monitor: Monitor | None = None
        self.display: DisplayServer | None = None
        self._background: set[asyncio.Future[object]] = set()

    async def start(self) -> None:
        await self.db.open()
        self.station = Station(self.config.station.id, await self.db.run(last_seq) + 1,
                               per_scanner=self.config.state_scope == "scanner")
        cached = await self.db.run(load_all)
        self.station.load(cached)
        self.station.restore([Context(scope, mode, current)
                              for scope, mode, current in await self.db.run(load_contexts)])
        self._saved = {c.scope: (c.mode, c.current) for c in self.station.contexts()}
        self.workflow = ScanWorkflow(self.config, self.station, self.fetch_order,
                                     self.post_order)
        self._last_useq = await self.db.run(last_useq)
        self.uplink = Uplink(
            self.config, self.db, epoch=await self.db.run(epoch),
            last_seq=lambda: self._last_useq, on_verdicts=self._on_verdicts,
            on_order_update=self._on_order_update,
        )
        for order_id in {line.order_id for line in cached}:
            self.uplink.follow_order(order_id)
        await self.uplink.start()
        self._tasks.append(asyncio.create_task(self.uplink.run(), name="uplink"))
        for name, driver in self.scanners.items():
            self._tasks.append(asyncio.create_task(driver.run(self.on_scan), name=name))
        self._tasks.append(asyncio.create_task(
            keep_pruning(self.db, self.config.retention), name="retention"))
        if self.config.monitor.enabled:
            from gateway.monitor import Monitor  # aiohttp and prometheus only when wanted

            monitor = Monitor(self, self.config.monitor)
            try:
                await monitor.start()
            except OSError as exc:  # monitoring trouble must not stop the scanning
                await monitor.stop()
                log.error("status and metrics unavailable: cannot listen on %s:%d: %s "
                          "(set monitor.port, or monitor.enabled: false)",
                          self.config.monitor.host, self.config.monitor.port, exc.strerror)
            else:
                self.monitor = monitor
        if self.config.display.enabled:
            from gateway.display.server import DisplayServer  # aiohttp only when used

            self.display = DisplayServer(self, self.config.display)
            await self.display.start()
        log.info("station %s/%s ready with %d scanner(s)", self.config.station.site,
                 self.config.station.id, len(self.scanners))

    async def stop(self) -> None:
        if self.display is not None:
            await self.display.stop()
            self.display = None
        if self.monitor is not None:
            await self.monitor.stop()
            self.monitor = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self.uplink is not None:
            await self.uplink.stop()
        await self.db.close()

    # -- reloading (SIGHUP) ------------------------------------------------------------

    def reload(self, new: StationConfig) -> list[str]:
        """Apply what can change live (scan rules, serial patterns, bounce window,
        command barcodes, decoding, retention); return the changed keys that only
        take effect after a restart."""
        restart = [key for key in RESTART_KEYS
                   if getattr(new, key) != getattr(self.config, key)]
        live = {key: getattr(new, key) for key in LIVE_KEYS
                if getattr(new, key) != getattr(self.config, key)}
        if live:
            self.config = self.config.model_copy(update=live)
            self.workflow = ScanWorkflow(self.config, self.station, self.fetch_order,
                                         self.post_order)
            log.info("reloaded %s", ", ".join(sorted(live)))
        if restart:
            log.warning("changed but not applied until the station restarts: %s "
                        "(systemctl restart scangw-station)", ", ".join(restart))
        return restart

    # -- orders ---------------------------------------------------------------------

    async def cache_order(self, lines: list[CachedLine]) -> None:
        """Keep a copy of an order's lines (and their registrations) at the station."""
        await self.db.run(put_order(lines))
        self.station.load([CachedLine(ln.order_id, ln.line_number, ln.item_id, ln.quantity,
                                      list(ln.serials)) for ln in lines])
        if self.uplink is not None:
            for order_id in {line.order_id for line in lines}:
                self.uplink.follow_order(order_id)

    async def fetch_order(self, order_id: str) -> list[CachedLine]:
        """Get the order from the store and cache it; offline, use the cached copy.

        Raises OrderUnavailable when the store does not know the order, or when the
        store cannot be reached and the order was never cached here.
        """
        assert self.uplink is not None
        try:
            response = await self.uplink.request_order(
                order_id, self.config.uplink.order_timeout_s)
        except TimeoutError:
            cached = [ln for ln in self.station.lines() if ln.order_id == order_id]
            if not cached:
                raise OrderUnavailable(
                    f"{order_id} is not cached here and the order store does not answer"
                ) from None
            log.warning("order store unreachable: working on the cached copy of %s", order_id)
            return cached
        if not response.found:
            raise OrderUnavailable(response.message or f"{order_id} is not known to the store")
        lines = [CachedLine(order_id, ln.line_number, ln.item_id, ln.quantity,
                            list(ln.serials), tuple(ln.gtins)) for ln in response.lines]
        merged = await self.db.run(merge_store_truth(order_id, lines))
        self.station.replace_order(order_id, merged)
        self.uplink.follow_order(order_id)
        if not merged:
            raise OrderUnavailable(response.message or f"{order_id} has nothing left to ship")
        return merged

    async def post_order(self, order_id: str) -> protocol.PostResponse:
        """Ask the store to post the order's draft packing slip; TimeoutError offline."""
        assert self.uplink is not None
        return await self.uplink.request(
            protocol.PostRequest(station=self.config.station.id, order_id=order_id),
            protocol.PostResponse, self.config.uplink.order_timeout_s)

    async def open_order(self, order_id: str, line_number: int = 1) -> CachedLine:
        """Fetch (or fall back to the cache) and make the order the current document."""
        await self.fetch_order(order_id)
        return self.station.open_document(order_id, line_number)

    def open_document(self, order_id: str, line_number: int = 1) -> CachedLine:
        return self.station.open_document(order_id, line_number)

    def set_mode(self, mode: ScanMode) -> None:
        self.station.mode = mode

    # -- the scan path (hot) --------------------------------------------------------

    def on_scan(self, raw: RawScan) -> None:
        """Called by a driver on the event loop for each framed scan."""
        if self._held is not None:
            self._held.append(raw)
            return
        try:
            outcome = self.workflow.handle(raw)
        except Exception as exc:  # a bug must cost one bad beep, never the reader
            log.exception("could not handle a scan from %s", raw.scanner)
            outcome = self.station.refuse(raw.scanner, raw.received_ns,
                                          raw.data[:64].decode("latin-1"), "internal_error",
                                          f"station error, scan again: {exc}")
        if isinstance(outcome, Pending):
            self._held = deque()
            self._spawn(self._finish(outcome))
        elif outcome is not None:
            self._journal(outcome)

    async def command(self, scanner: str, command: Command) -> None:
        """A command from a touch button or the CLI: the same path as its barcode."""
        received = time.perf_counter_ns()
        outcome = self.workflow.command(scanner, command, received, command_text(
            command.name, command.argument, self.config.commands.prefix))
        if isinstance(outcome, Pending):
            outcome = await outcome.work
        self._journal(outcome)

    async def _finish(self, pending: Pending) -> None:
        try:
            judgement = await pending.work
        except Exception as exc:  # the held scans must still be answered
            log.exception("could not carry out %s", escape_scan(pending.data))
            judgement = self.station.refuse(pending.scanner, pending.received_ns, pending.data,
                                            "internal_error", f"station error, scan again: {exc}")
        finally:
            held, self._held = self._held or deque(), None
        self._journal(judgement)
        while held and self._held is None:
            self.on_scan(held.popleft())
        if held and self._held is not None:
            self._held.extendleft(reversed(held))

    def _journal(self, judgement: Judgement) -> None:
        entry = judgement.entry
        changes = []
        if judgement.line is not None and entry.order_id and entry.line_number:
            on = add_serial if entry.mode == ScanMode.ADD else remove_serial
            changes.append(on(entry.order_id, entry.line_number, entry.serial))
        ctx = self.station.context(entry.scanner)
        if self._saved.get(ctx.scope) != (ctx.mode, ctx.current):
            self._saved[ctx.scope] = (ctx.mode, ctx.current)
            changes.append(save_context(ctx.scope, ctx.mode, ctx.current))
        try:
            future = self.db.submit(append(entry, _all(changes)))
        except RuntimeError as exc:
            log.error("station database unavailable: %s", exc)
            self.station.revert(judgement)
            return
        future.add_done_callback(lambda f: self._committed(judgement, f))

    def _committed(self, judgement: Judgement, future: asyncio.Future[int | None]) -> None:
        entry = judgement.entry
        error = future.exception()
        if error is None:
            entry.useq = future.result()
            if entry.useq is not None:
                self._last_useq = entry.useq
        else:
            # Nothing the operator did not hear as bad is lost: answer bad, undo.
            self.station.revert(judgement)
            entry.accepted = False
            entry.reason = "journal_failed"
            entry.message = _not_saved(error, self.db.path)
        latency = time.perf_counter_ns() - judgement.received_ns
        self.events.publish(DecisionMade(entry, latency))
        driver = self.scanners.get(entry.scanner)
        if driver is not None:
            self._spawn(driver.feedback(entry.accepted))
        if entry.accepted and entry.state is EntryState.PENDING and self.uplink is not None:
            self.uplink.send(entry)

    # -- what the store says ----------------------------------------------------------

    def _on_verdicts(self, verdicts: list[StoreVerdict]) -> None:
        try:
            future = self.db.submit(settle(verdicts, undo_entry))
        except RuntimeError:
            return  # stopping: the entries stay pending and are sent again next time
        future.add_done_callback(lambda f: self._settled(f, verdicts))

    def _settled(self, future: asyncio.Future[list[JournalEntry]],
                 verdicts: list[StoreVerdict]) -> None:
        if future.exception() is not None:
            # The store has them; we only failed to write that down (disk full):
            # keep trying, or they would wait for the next reconnect.
            log.error("could not record %d verdict(s) of the store: %s; retrying",
                      len(verdicts), future.exception())
            asyncio.get_running_loop().call_later(_VERDICT_RETRY_S, self._on_verdicts,
                                                  verdicts)
            return
        for entry in future.result():
            accepted = entry.state is EntryState.CONFIRMED
            if not accepted:
                # A late refusal: the operator heard good; tell them, and let the
                # line follow the store's truth.
                self.station.undo(entry)
                log.warning("order store refused %s on %s line %s after the station accepted"
                            " it: %s", escape_scan(entry.serial or "a not-readable entry"),
                            entry.order_id, entry.line_number, entry.store_message)
                driver = self.scanners.get(entry.scanner)
                if driver is not None:
                    self._spawn(driver.feedback(False))
            self.events.publish(StoreAnswered(entry.id, accepted, entry.store_reason or "",
                                              entry.store_message or ""))

    def _on_order_update(self, update: protocol.OrderUpdate) -> None:
        lines = [CachedLine(update.order_id, ln.line_number, ln.item_id, ln.quantity,
                            list(ln.serials), tuple(ln.gtins)) for ln in update.lines]

        def merged(f: asyncio.Future[list[CachedLine]]) -> None:
            if f.exception() is None:
                self.station.replace_order(update.order_id, f.result())

        self.db.submit(merge_store_truth(update.order_id, lines)).add_done_callback(merged)

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[call-overload]
        self._background.add(task)
        task.add_done_callback(self._background.discard)



def _all(changes: list[Callable[[sqlite3.Connection], None]],
         ) -> Callable[[sqlite3.Connection], None] | None:
    if not changes:
        return None

    def change(conn: sqlite3.Connection) -> None:
        for one in changes:
            one(conn)

    return change


def _not_saved(error: BaseException, path: object) -> str:
    """What the packer and IT read when a decision could not be committed."""
    text = str(error)
    if isinstance(error, sqlite3.OperationalError | OSError) and (
            "full" in text or "I/O" in text or "File too large" in text):
        return (f"not saved: the station's disk is full or failing ({path}: {text}); "
                "scan again when space is back")
    return f"not saved, scan again when fixed: {text}"
