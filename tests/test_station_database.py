"""The station's SQLite file: group commit, durability, a failing job isolated."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.database import PAGE_SIZE, DatabaseClosed, Relaxed, StationDatabase
from gateway.journal import EntryState, JournalEntry, StoreVerdict, append, outbox, settle
from gateway.order_cache import (
    CachedLine,
    add_serial,
    load_all,
    merge_store_truth,
    put_order,
    remove_serial,
)


def _entry(seq: int, state: EntryState = EntryState.PENDING) -> JournalEntry:
    return JournalEntry(seq, f"{seq:032x}", 1.0, "s1", f"SER{seq}", True, "added", "ok", state,
                        "SO-1", 1, "ITEM", "add", f"SER{seq}")


def test_a_burst_is_committed_in_few_transactions_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "station.db"

    async def burst() -> None:
        db = StationDatabase(path)
        await db.open()
        await asyncio.gather(*(db.submit(append(_entry(i))) for i in range(1, 3001)))
        await db.close()

    asyncio.run(burst())
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*), MIN(seq), MAX(seq) FROM journal").fetchone() == (
        3000, 1, 3000)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_failing_job_does_not_fail_the_others_in_its_batch(tmp_path: Path) -> None:
    async def run() -> list[object]:
        db = StationDatabase(tmp_path / "s.db")
        await db.open()
        futures = [db.submit(append(_entry(1))), db.submit(append(_entry(1))),  # same seq
                   db.submit(append(_entry(2)))]
        results = await asyncio.gather(*futures, return_exceptions=True)
        pending = await db.run(outbox(10))
        await db.close()
        return [*results, [e.seq for e in pending]]

    first, duplicate, third, pending = asyncio.run(run())
    assert (first, third) == (1, 2)  # uplink sequence numbers: no gap for the failed one
    assert isinstance(duplicate, sqlite3.IntegrityError)
    assert pending == [1, 2]


def test_settle_records_verdicts_once(tmp_path: Path) -> None:
    async def run() -> tuple[list[str], list[str], list[int]]:
        db = StationDatabase(tmp_path / "s.db")
        await db.open()
        for i in (1, 2, 3):
            await db.run(append(_entry(i)))
        verdicts = [StoreVerdict(f"{1:032x}", True, "added", "ok"),
                    StoreVerdict(f"{2:032x}", False, "duplicate_serial", "taken")]
        first = await db.run(settle(verdicts))
        again = await db.run(settle(verdicts))
        left = [e.seq for e in await db.run(outbox(10))]
        await db.close()
        return first, again, left

    first, again, left = asyncio.run(run())
    assert len(first) == 2
    assert again == []
    assert left == [3]


@pytest.mark.parametrize("made_before_issue_9", [False, True])
def test_order_cache_follows_adds_and_removes(tmp_path: Path, made_before_issue_9: bool,
                                              ) -> None:
    if made_before_issue_9:  # cached_serials as a rowid table, 4 KiB pages
        conn = sqlite3.connect(tmp_path / "s.db")
        conn.execute("CREATE TABLE cached_serials (order_id TEXT NOT NULL, line_number"
                     " INTEGER NOT NULL, position INTEGER NOT NULL, serial TEXT,"
                     " PRIMARY KEY (order_id, line_number, position))")
        conn.close()

    async def run() -> list[CachedLine]:
        db = StationDatabase(tmp_path / "s.db")
        await db.open()
        await db.run(put_order([CachedLine("SO-1", 1, "ITEM", 3, ["A"])]))
        await db.run(add_serial("SO-1", 1, "B"))
        await db.run(add_serial("SO-1", 1, None))
        await db.run(remove_serial("SO-1", 1, "A"))
        lines = await db.run(load_all)
        await db.close()
        return lines

    assert asyncio.run(run()) == [CachedLine("SO-1", 1, "ITEM", 3, ["B", None])]


def test_submit_on_a_closed_database_raises() -> None:
    db = StationDatabase(Path("/nonexistent/never-opened.db"))
    with pytest.raises(DatabaseClosed, match="not open"):
        db.submit(outbox(1))


def test_an_unwritable_location_fails_at_open(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    async def run() -> None:
        await StationDatabase(blocker / "station.db").open()

    with pytest.raises(OSError, match=r"cannot open the station database .* station\.database"):
        asyncio.run(run())


def test_a_new_file_has_small_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA page_size=4096")
    conn.execute("CREATE TABLE t (x)")
    conn.close()

    async def run(path: Path) -> int:
        db = StationDatabase(path)
        await db.open()
        await db.run(append(_entry(1)))
        size = await db.run(lambda c: int(c.execute("PRAGMA page_size").fetchone()[0]))
        await db.close()
        return size

    assert asyncio.run(run(tmp_path / "new.db")) == PAGE_SIZE == 1024
    assert asyncio.run(run(old)) == 4096


def _synchronous(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA synchronous").fetchone()[0])


def test_verdicts_alone_commit_without_fsync_anything_else_with_it(tmp_path: Path) -> None:
    """synchronous is 2 (FULL) for a batch with any decision in it, 1 (NORMAL) for a
    batch of verdicts only, and back to FULL for the next decision."""

    async def run() -> list[object]:
        db = StationDatabase(tmp_path / "s.db")
        await db.open()
        gate = threading.Event()
        blocker = db.submit(lambda _c: gate.wait(5))
        await asyncio.sleep(0.05)  # the writer is now inside the blocker's batch
        relaxed_only = [db.submit(Relaxed(_synchronous)), db.submit(Relaxed(_synchronous))]
        gate.set()
        await blocker
        relaxed = await asyncio.gather(*relaxed_only)
        full_again = await db.run(_synchronous)
        gate.clear()
        blocker = db.submit(lambda _c: gate.wait(5))
        await asyncio.sleep(0.05)
        mixed = [db.submit(Relaxed(_synchronous)), db.submit(append(_entry(1))),
                 db.submit(_synchronous)]
        gate.set()
        await blocker
        in_mixed = await asyncio.gather(*mixed)
        settle_kind = settle([])
        await db.close()
        return [relaxed, full_again, in_mixed[0], in_mixed[2], isinstance(settle_kind, Relaxed)]

    relaxed, full_again, mixed_relaxed, mixed_full, settle_is_relaxed = asyncio.run(run())
    assert relaxed == [1, 1]
    assert full_again == 2
    assert (mixed_relaxed, mixed_full) == (2, 2)
    assert settle_is_relaxed


def test_caching_the_same_order_again_writes_only_what_differs(tmp_path: Path) -> None:
    """The store sends the whole order after each batch it books: a line already
    cached is not rewritten, a changed tail is, and the result reads back equal."""

    def changes(lines: list[CachedLine]) -> Callable[[sqlite3.Connection], int]:
        def job(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            put_order(lines)(conn)
            return conn.total_changes - before
        return job

    async def run() -> tuple[list[int], list[CachedLine]]:
        db = StationDatabase(tmp_path / "s.db")
        await db.open()
        first = [CachedLine("SO-1", 1, "ITEM", 900, [f"S{i}" for i in range(500)]),
                 CachedLine("SO-1", 2, "OTHER", 2, ["X"]), CachedLine("SO-1", 3, "GONE", 1)]
        counts = [await db.run(changes(first))]
        counts.append(await db.run(changes(first)))  # the same again: nothing written
        await db.run(remove_serial("SO-1", 1, "S3"))  # leaves a gap in the positions
        tail = [*[s for s in first[0].serials if s != "S3"][:-2], "NEW", None]
        counts.append(await db.run(changes([
            CachedLine("SO-1", 1, "ITEM", 900, tail), CachedLine("SO-1", 2, "OTHER", 3, ["X"]),
        ])))
        lines = await db.run(load_all)
        await db.close()
        return counts, lines

    counts, lines = asyncio.run(run())
    assert counts[0] == 3 + 501
    assert counts[1] == 0
    assert counts[2] == 2 + 2 + 1 + 1  # 2 deleted, 2 inserted, line 2 updated, line 3 gone
    assert lines == [
        CachedLine("SO-1", 1, "ITEM", 900,
                   [f"S{i}" for i in range(498) if i != 3] + ["NEW", None]),
        CachedLine("SO-1", 2, "OTHER", 3, ["X"]),
    ]


def _old_merge(store: list[str | None], pending: list[tuple[str, str | None]],
               ) -> list[str | None]:
    """merge_store_truth's replay as it was (list membership), the reference."""
    serials = list(store)
    for mode, serial in pending:
        if mode == "add" and (serial is None or serial not in serials):
            serials.append(serial)
        elif mode == "remove" and serial in serials:
            serials.remove(serial)
    return serials


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["A", "B", "C", None]), max_size=6),
       st.lists(st.tuples(st.sampled_from(["add", "remove"]),
                          st.sampled_from(["A", "B", "C", None])), max_size=12))
def test_merging_the_store_truth_replays_pending_like_before(
    store: list[str | None], pending: list[tuple[str, str | None]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async def run() -> list[CachedLine]:
            db = StationDatabase(Path(tmp) / "s.db")
            await db.open()
            for seq, (mode, serial) in enumerate(pending, 1):
                await db.run(append(JournalEntry(
                    seq, f"{seq:032x}", 1.0, "s1", serial or "NR", True, "added", "ok",
                    EntryState.PENDING, "SO-1", 1, "ITEM", mode, serial)))
            merged = await db.run(merge_store_truth("SO-1", [
                CachedLine("SO-1", 1, "ITEM", 99, list(store))]))
            assert merged == await db.run(load_all)
            await db.close()
            return merged

        merged = asyncio.run(run())
    assert merged[0].serials == _old_merge(store, pending)


def test_an_orders_pending_registrations_are_found_from_the_outbox_index(
    tmp_path: Path,
) -> None:
    async def run() -> list[str]:
        db = StationDatabase(tmp_path / "s.db")
        await db.open()
        columns = await db.run(lambda c: [row[2] for row in c.execute(
            "PRAGMA index_info(journal_outbox)")])
        await db.close()
        return columns

    assert asyncio.run(run()) == ["seq", "order_id"]
