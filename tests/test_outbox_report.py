"""``scangw outbox`` on a real station database, written by the station's own code."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import uuid
from pathlib import Path

import pytest

from gateway.database import StationDatabase
from gateway.journal import EntryState, JournalEntry, StoreVerdict, append, settle
from gateway.outbox_report import (
    STUCK_AFTER_S,
    OutboxUnavailable,
    outbox_report,
    render,
    render_plain,
    run,
)

T0 = 1_795_000_000.0


def _entry(seq: int, state: EntryState, serial: str = "") -> JournalEntry:
    accepted = state is not EntryState.LOCAL
    return JournalEntry(
        seq=seq, id=uuid.uuid4().hex, ts=T0 + seq, scanner="gun", data=serial or "??",
        accepted=accepted, reason="added" if accepted else "unreadable",
        message="", state=state, order_id="SO-1" if accepted else None,
        line_number=1 if accepted else None, item_id="PHONE" if accepted else None,
        mode="add" if accepted else None, serial=serial or None)


async def _journal(path: Path) -> tuple[StationDatabase, list[JournalEntry]]:
    """Six decisions: five sent to the store (one confirmed, one refused late, three
    pending) and a bad read; the database is left open, as in a running station."""
    db = StationDatabase(path)
    await db.open()
    entries = [_entry(1, EntryState.PENDING, "SN-1"), _entry(2, EntryState.PENDING, "SN-2"),
               _entry(3, EntryState.LOCAL), _entry(4, EntryState.PENDING, "SN-4"),
               _entry(5, EntryState.PENDING, "SN-5"), _entry(6, EntryState.PENDING, "SN-6")]
    for e in entries:
        await db.run(append(e))
    await db.run(settle([
        StoreVerdict(entries[0].id, True, "added", "SN-1 added"),
        StoreVerdict(entries[1].id, False, "duplicate_serial",
                     "SN-2 is already registered on SO-7 line 2 (station pack-02)"),
    ]))
    return db, entries


def test_the_report_reads_a_running_stations_outbox(tmp_path: Path) -> None:
    path = tmp_path / "station.db"

    async def scenario() -> None:
        db, entries = await _journal(path)
        try:
            report = outbox_report(path, now=T0 + 4 + 600)
            assert report.depth == 3
            assert report.states == {"confirmed": 1, "local": 1, "pending": 3, "refused": 1}
            assert report.last_useq == 5
            assert report.oldest is not None
            assert (report.oldest.seq, report.oldest.useq, report.oldest.serial,
                    report.oldest.order_id, report.oldest.line_number) == (4, 3, "SN-4",
                                                                           "SO-1", 1)
            assert report.oldest.id == entries[3].id
            assert report.oldest.age_s == pytest.approx(600)
            assert [(r.seq, r.serial, r.store_reason) for r in report.refusals] == [
                (2, "SN-2", "duplicate_serial")]
            assert "station pack-02" in (report.refusals[0].store_message or "")
            assert report.stuck
            assert "10 min" in report.hint
            assert "scangw/v1/_stores/+/presence" in report.hint
            # the reader holds no lock: the station keeps committing
            await db.run(append(_entry(7, EntryState.PENDING, "SN-7")))
            assert outbox_report(path, now=T0 + 4 + 600).depth == 4
        finally:
            await db.close()

    asyncio.run(scenario())
    assert outbox_report(path).depth == 4  # and with the station stopped


def test_a_young_outbox_is_not_stuck_and_an_empty_one_says_so(tmp_path: Path) -> None:
    path = tmp_path / "station.db"

    async def scenario() -> None:
        db, entries = await _journal(path)
        try:
            young = outbox_report(path, now=T0 + 4 + STUCK_AFTER_S / 2)
            assert (young.stuck, young.depth) == (False, 3)
            assert "normal while the store answers" in young.hint
            await db.run(settle([StoreVerdict(e.id, True, "added", "") for e in entries]))
            empty = outbox_report(path)
            assert (empty.stuck, empty.depth, empty.oldest) == (False, 0, None)
            assert "Nothing waits" in empty.hint
        finally:
            await db.close()

    asyncio.run(scenario())


def test_the_report_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "station.db"

    async def scenario() -> None:
        db, _ = await _journal(path)
        await db.close()

    asyncio.run(scenario())
    before = path.read_bytes()
    outbox_report(path)
    assert path.read_bytes() == before


def test_renderings_carry_the_same_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         ) -> None:
    path = tmp_path / "station.db"

    async def scenario() -> None:
        db, _ = await _journal(path)
        await db.close()

    asyncio.run(scenario())
    report = outbox_report(path, now=T0 + 4 + 3600)
    as_json = json.loads(render(report, as_json=True))
    assert as_json["depth"] == 3
    assert as_json["oldest"]["serial"] == "SN-4"
    assert as_json["refusals"][0]["store_reason"] == "duplicate_serial"
    assert as_json["stuck"] is True
    tables = render(report, as_json=False)
    monkeypatch.setitem(sys.modules, "rich.console", None)  # as if rich were missing
    plain = render(report, as_json=False)
    assert plain == render_plain(report)
    assert tables != plain
    for text in (tables, plain):
        assert "SN-4" in text
        assert "duplicate_serial" in text
        assert "STUCK" in text
        assert "60 min" in text


def test_a_missing_or_foreign_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutboxUnavailable, match=r"does not exist \(check station.database"):
        outbox_report(tmp_path / "nope.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(OutboxUnavailable, match="is it a station's database"):
        outbox_report(other)
    text = tmp_path / "notes.txt"
    text.write_text("hello " * 100)
    with pytest.raises(OutboxUnavailable, match="cannot read the station database"):
        outbox_report(text)


def test_the_command_reports_and_exits_2_when_stuck(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "station.db"

    async def scenario() -> None:
        db, _ = await _journal(path)
        await db.close()

    asyncio.run(scenario())
    config = tmp_path / "station.yaml"
    config.write_text(f"station: {{site: s1, id: pack-01, database: {path}}}\n"
                      "scanners: {gun: {kind: serial, port: /dev/null}}\n")
    assert run(config, as_json=True) == 2  # the entries are from T0, long ago
    assert json.loads(capsys.readouterr().out)["depth"] == 3
    config.write_text(f"station: {{site: s1, id: pack-01, database: {tmp_path / 'x.db'}}}\n"
                      "scanners: {gun: {kind: serial, port: /dev/null}}\n")
    assert run(config, as_json=False) == 1
    assert "x.db does not exist" in capsys.readouterr().err
