"""Outbox drain: registrations journaled while the broker was down, sent after.

The outbox is written straight into a fresh station.db with the station's own
journal jobs (``append`` + ``add_serial``, through ``StationDatabase``), as a
station cut off from the broker would have left it. Then the broker and the
store start, then the station; the clock runs from ``StationService.start`` to
the last StoreAnswered event (journal settled). The registrations are spread
over orders of ORDER_SIZE units, like a real day's outbox, so the figure is
not the store's per-line cost (the burst scenario measures that).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path

from bench.harness import ITEM, SCANNER, ScenarioFailed, open_pty, station_config
from bench.results import Outcome
from bench.services import store_process
from gateway.database import StationDatabase
from gateway.events import Event, StoreAnswered
from gateway.journal import EntryState, JournalEntry, append
from gateway.order_cache import CachedLine, add_serial, put_order
from gateway.service import StationService
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig

ORDER_SIZE = 100
STALL_S = 15.0


def run(workdir: Path, quick: bool) -> Outcome:
    count = 10_000 if quick else 100_000
    orders = {f"SO-D{n:05d}": ORDER_SIZE for n in range(count // ORDER_SIZE)}
    asyncio.run(_journal_outbox(workdir / "station.db", orders))
    with LocalBroker(workdir / "broker") as broker:
        config = BrokerConfig(host=broker.host, port=broker.port)
        with store_process(workdir, config, orders, timeout_s=30):
            return asyncio.run(_drain(workdir, config, count))


async def _journal_outbox(path: Path, orders: dict[str, int]) -> None:
    db = StationDatabase(path)
    await db.open()
    try:
        await db.run(put_order([CachedLine(o, 1, ITEM, q) for o, q in orders.items()]))
        seq = 0
        for order_id, quantity in orders.items():
            jobs = []
            for unit in range(quantity):
                seq += 1
                serial = f"SN-{order_id}-{unit:04d}"
                entry = JournalEntry(
                    seq=seq, id=uuid.uuid4().hex, ts=time.time(), scanner=SCANNER,
                    data=serial, accepted=True, reason="added",
                    message=f"{serial} added to {order_id} line 1", state=EntryState.PENDING,
                    order_id=order_id, line_number=1, item_id=ITEM, mode="add", serial=serial)
                jobs.append(db.submit(append(entry, add_serial(order_id, 1, serial))))
            await asyncio.gather(*jobs)
    finally:
        await db.close()


class _Resends(logging.Handler):
    """Counts the uplink's 'resending %d unacknowledged' log records and their N."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.times = 0
        self.registrations = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "resending" in record.msg and isinstance(record.args, tuple) and record.args:
            self.times += 1
            self.registrations += int(str(record.args[0]))


async def _drain(workdir: Path, broker: BrokerConfig, count: int) -> Outcome:
    resends = _Resends()
    uplink_log = logging.getLogger("gateway.uplink")
    uplink_log.addHandler(resends)
    uplink_log.setLevel(logging.INFO)
    with open_pty() as pty:
        service = StationService(station_config(workdir, broker, pty.path))
        events = service.events.subscribe(maxsize=2 * count)
        start = time.perf_counter_ns()
        await service.start()
        try:
            confirmed, last = await _count_answers(events, count)
        finally:
            await service.stop()
    if confirmed < count:
        raise ScenarioFailed(f"only {confirmed} of {count} acknowledged; stalled {STALL_S}s")
    elapsed_s = (last - start) / 1e9
    return Outcome(
        figures={"drain_per_s": round(count / elapsed_s, 1)},
        notes=[f"{count} pending registrations on {count // ORDER_SIZE} orders of "
               f"{ORDER_SIZE} drained in {elapsed_s:.2f}s",
               f"the uplink's resend timer fired {resends.times} time(s) and sent "
               f"{resends.registrations} registrations again while the drain was "
               "still being acknowledged"],
    )


async def _count_answers(events: asyncio.Queue[Event], count: int) -> tuple[int, int]:
    confirmed, last = 0, 0
    while confirmed < count:
        try:
            event = await asyncio.wait_for(events.get(), STALL_S)
        except TimeoutError:
            break
        if isinstance(event, StoreAnswered):
            if not event.accepted:
                raise ScenarioFailed(f"the store refused {event.entry_id}: {event.message}")
            confirmed += 1
            last = time.perf_counter_ns()
    return confirmed, last
