"""Building blocks for tests that run a real store and station on the test broker."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from gateway.config import StationConfig
from gateway.events import Event
from gateway.service import StationService
from orderstore.config import StoreConfig
from orderstore.service import StoreService
from scangw.mqtt import BrokerConfig
from tests import store_backends

TIMEOUT = 10.0
E = TypeVar("E")


def new_site() -> str:
    """A site id of its own, so tests sharing the session broker never cross-talk."""
    return f"t{uuid.uuid4().hex[:10]}"


def make_store(tmp_path: Path, broker: BrokerConfig, site: str,
               orders: dict[str, list[tuple[int, str, int]]] | None = None,
               name: str = "store.db") -> StoreService:
    store = StoreService(StoreConfig.model_validate({
        "store": {"id": "store-t", "sites": [site], **store_section(tmp_path / name)},
        "broker": broker.model_dump(),
    }))
    for order_id, lines in (orders or {"SO-1": [(1, "PHONE", 2)]}).items():
        store.db.put_order(order_id, "C-1", lines)
    return store


def store_section(path: Path) -> dict[str, Any]:
    """The ``store`` config keys for a store database at ``path`` on the test's
    backend (``store_backend`` fixture; SQLite when a test does not use it)."""
    return store_backends.current().section(path)


def register_elsewhere(store: StoreService, order_id: str, serial: str) -> None:
    """Register ``serial`` on line 1 of another order, as another station would have."""
    with store.db.write() as ledger:
        slip = ledger.open_packing_slip(order_id)
        assert ledger.register(slip.id, 1, serial).accepted


def started(store: StoreService) -> StoreService:
    store.start()
    assert store.subscribed.wait(TIMEOUT), "the store did not subscribe"
    return store


def station_config(tmp_path: Path, broker: BrokerConfig, site: str, device: str,
                   station: str = "pack-01", **extra: Any) -> StationConfig:
    return StationConfig.model_validate({
        "station": {"site": site, "id": station, "database": tmp_path / f"{station}.db"},
        "broker": broker.model_dump(),
        "uplink": {"resend_after_s": 0.5, "order_timeout_s": 1.0},
        "monitor": {"port": 0},
        "scanners": {"gun": {"kind": "serial", "port": device, "terminator": "cr", **extra}},
    })


@asynccontextmanager
async def running_station(config: StationConfig, order: str | None = "SO-1",
                          ) -> AsyncIterator[tuple[StationService, asyncio.Queue[Event]]]:
    """A started station, connected, scanner online, with ``order`` opened."""
    service = StationService(config)
    events = service.events.subscribe()
    await service.start()
    try:
        await asyncio.wait_for(scanners_online(service), TIMEOUT)
        assert service.uplink is not None
        await asyncio.wait_for(service.uplink.connected.wait(), TIMEOUT)
        if order is not None:
            await service.open_order(order, 1)
        yield service, events
    finally:
        await service.stop()


async def scanners_online(service: StationService) -> None:
    while not all(d.online for d in service.scanners.values()):
        await asyncio.sleep(0.01)


async def next_event(events: asyncio.Queue[Event], kind: type[E]) -> E:
    async def find() -> E:
        while True:
            event = await events.get()
            if isinstance(event, kind):
                return event
    return await asyncio.wait_for(find(), TIMEOUT)


def rows(path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Rows from a station's SQLite file, or from the store database configured
    for ``path`` (``store_section``) wherever the test's backend keeps it."""
    pg = store_backends.current().stores.get(path)
    if pg is not None:
        return _pg_rows(pg, sql, args)
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _pg_rows(pg: dict[str, Any], sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
    import psycopg

    # ORDER BY rowid (SQLite's insertion order) is ctid on PostgreSQL: the same
    # for the append-only tables the tests read in order (station_registrations)
    sql = sql.replace("?", "%s").replace("rowid", "ctid")
    with psycopg.connect(pg["dsn"], autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{pg["schema_name"]}"')
        return list(conn.execute(sql, args).fetchall())
