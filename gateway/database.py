"""The station's SQLite file, written by one thread with group commit.

Every decision is committed (WAL, synchronous=FULL) before the operator hears
it. Writes are queued to a single writer thread that commits everything queued
at that moment in one transaction, so a docked handheld's burst of thousands
of scans costs a few fsyncs instead of one per scan, while a lone scan is
committed at once. The event loop never waits on the disk.

A job wrapped in ``Relaxed`` (the store's verdicts) does not need the fsync: a
batch made only of such jobs commits with ``synchronous=NORMAL`` (the WAL is
synced by the next FULL commit or checkpoint). Losing one in a power cut only
means the registration is sent again and the store repeats its first verdict.
New files use 1 KiB pages: a scan dirties a few rows in a few pages, and each
page dirtied is written whole to the WAL.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]

_Result = tuple["asyncio.Future[Any]", Any, BaseException | None]
_MAX_BATCH = 2000
_STOP = object()
PAGE_SIZE = 1024
"""Bytes per page of a new station file (SQLite's default is 4096)."""


class Relaxed(Generic[T]):
    """A job whose commit may skip the fsync: losing it in a crash is harmless."""

    __slots__ = ("job",)

    def __init__(self, job: Callable[[sqlite3.Connection], T]) -> None:
        self.job = job

    def __call__(self, conn: sqlite3.Connection) -> T:
        return self.job(conn)

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    ts REAL NOT NULL,
    scanner TEXT NOT NULL,
    data TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    order_id TEXT,
    line_number INTEGER,
    item_id TEXT,
    mode TEXT,
    serial TEXT,
    state TEXT NOT NULL,
    store_reason TEXT,
    store_message TEXT,
    useq INTEGER UNIQUE
);
CREATE INDEX IF NOT EXISTS journal_outbox ON journal(seq, order_id) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT OR IGNORE INTO meta VALUES ('epoch', lower(hex(randomblob(16))));
CREATE TABLE IF NOT EXISTS cached_lines (
    order_id TEXT NOT NULL,
    line_number INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    gtins TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (order_id, line_number)
);
CREATE TABLE IF NOT EXISTS station_state (
    scope TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    order_id TEXT,
    line_number INTEGER
);
CREATE TABLE IF NOT EXISTS cached_serials (
    order_id TEXT NOT NULL,
    line_number INTEGER NOT NULL,
    position INTEGER NOT NULL,
    serial TEXT,
    PRIMARY KEY (order_id, line_number, position)
) WITHOUT ROWID;
"""
# journal_outbox carries order_id in files made since issue 9: merging a store update
# reads an order's pending registrations from the index alone (1 KiB pages made the
# table scan behind it slow: 10 ms per update with 100,000 pending).
# cached_serials is WITHOUT ROWID in files made since issue 9: one B-tree instead of a
# table and its key's index, so a scan dirties one page there instead of two. Files
# made before keep their table; every query reads both the same.


class DatabaseClosed(RuntimeError):
    pass


class DatabaseUnavailable(OSError):
    """The station database cannot be opened where the config says it is."""


class StationDatabase:
    """One SQLite file, one writer thread; ``submit`` runs a job in the next commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._full = True
        """The connection's synchronous setting: FULL (True) or NORMAL."""

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = self._loop.create_future()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="station-db", daemon=True
        )
        self._thread.start()
        await ready

    async def close(self) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)
        self._thread = None

    def submit(self, job: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queue ``job(conn)`` for the writer; the future resolves once committed."""
        if self._thread is None or self._loop is None:
            raise DatabaseClosed(f"station database {self.path} is not open")
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put((job, future))
        return future

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        return await self.submit(job)

    # -- writer thread -------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # only a new, empty file takes it
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        return conn

    def _run(self, ready: asyncio.Future[None]) -> None:
        assert self._loop is not None
        try:
            conn = self._connect()
        except (sqlite3.Error, OSError) as exc:
            error = DatabaseUnavailable(
                f"cannot open the station database {self.path}: {exc} "
                "(check station.database in the config and the directory's permissions)"
            )
            self._loop.call_soon_threadsafe(ready.set_exception, error)
            return
        self._loop.call_soon_threadsafe(ready.set_result, None)
        self._full = True
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                jobs = [first]
                stop = False
                while len(jobs) < _MAX_BATCH:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stop = True
                        break
                    jobs.append(more)
                self._commit_batch(conn, jobs)
                if stop:
                    return
        finally:
            conn.close()

    def _commit_batch(self, conn: sqlite3.Connection, jobs: list[Any]) -> None:
        full = not all(isinstance(job, Relaxed) for job, _future in jobs)
        if full != self._full:  # between transactions: applies to the next COMMIT
            conn.execute(f"PRAGMA synchronous={'FULL' if full else 'NORMAL'}")
            self._full = full
        try:
            results = self._in_transaction(conn, jobs)
        except Exception:
            results = []
            for job in jobs:
                try:
                    results.extend(self._in_transaction(conn, [job]))
                except Exception as exc:
                    log.error("station database %s: write failed: %s", self.path, exc)
                    results.append((job[1], None, exc))
        assert self._loop is not None
        self._loop.call_soon_threadsafe(_resolve, results)

    @staticmethod
    def _in_transaction(
        conn: sqlite3.Connection, jobs: list[Any]
    ) -> list[_Result]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            results: list[_Result] = [(future, job(conn), None) for job, future in jobs]
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return results


def _resolve(results: list[_Result]) -> None:
    for future, value, error in results:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
