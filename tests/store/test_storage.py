"""The storage layer on SQLite and PostgreSQL: migrations, the R17 index, and
several store instances sharing one database."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

import pytest

from orderstore.backends import PostgresBackend, open_backend
from orderstore.config import StoreSection
from orderstore.database import LiveSaleConflict, StoreDatabase
from orderstore.migrations import MIGRATIONS, migrate, schema_version
from orderstore.registrations import apply_batches
from scangw import protocol
from scangw.sales.reasons import SalesRuleError
from scangw.sales.records import SalesOrder
from scangw.sales.registration import ScanMode
from tests.store.conftest import OpenStore

pytestmark = pytest.mark.usefixtures("store_backend")
EPOCH = "ab" * 16


def registration_id(station: str, seq: int) -> str:
    """The same id on every resend, as a station's journal keeps it."""
    return hashlib.md5(f"{station}/{EPOCH}/{seq}".encode(), usedforsecurity=False).hexdigest()


def batch(station: str, seqs: list[int], serials: list[str], order: str = "SO-1",
          ) -> protocol.RegistrationBatch:
    now = datetime.now(UTC)
    return protocol.RegistrationBatch(station=station, epoch=EPOCH, registrations=[
        protocol.Registration(id=registration_id(station, seq), seq=seq, scanner="gun",
                              order_id=order, line_number=1, item_id="PHONE", serial=serial,
                              mode=ScanMode.ADD, scanned_at=now)
        for seq, serial in zip(seqs, serials, strict=True)])


def test_migrations_run_once_and_record_each_version(section: StoreSection) -> None:
    db = open_backend(section)
    try:
        assert schema_version(db) == 0
        assert [m.version for m in migrate(db)] == [m.version for m in MIGRATIONS]
        assert migrate(db) == []
        assert schema_version(db) == MIGRATIONS[-1].version
        assert db.columns("sales_registration") >= {"id", "serial", "status", "revision"}
    finally:
        db.close()


def test_a_database_newer_than_this_scangw_is_refused(section: StoreSection) -> None:
    db = open_backend(section)
    try:
        migrate(db)
        db.execute("INSERT INTO schema_migrations VALUES (99, 'future', 'x')")
        with pytest.raises(RuntimeError, match="schema version 99, newer than"):
            migrate(db)
    finally:
        db.close()


def test_the_database_itself_refuses_a_second_live_sale_of_a_serial(
        open_store: OpenStore) -> None:
    store = open_store()
    row = "INSERT INTO sales_registration (id, item_id, serial, document_kind, document_id," \
          " line_number, status) VALUES (?, 'PHONE', 'SN-1', 'packing_slip', ?, 1, ?)"
    store.query("BEGIN")
    store.query(row, ("R-1", "PS-1", "live"))
    store.query(row, ("R-2", "PS-2", "reversed"))  # history does not count
    with pytest.raises(Exception, match=r"(?i)unique") as failure:
        store.query(row, ("R-3", "PS-3", "live"))
    assert store.db.is_live_sale_violation(failure.value)
    store.query("ROLLBACK")


def test_an_instance_sees_what_another_committed(open_store: OpenStore) -> None:
    a, b = open_store(), open_store()
    a.put_order("SO-1", "C-1", [(1, "PHONE", 2)])
    b.put_order("SO-2", "C-1", [(1, "PHONE", 1)])  # b catches up on a's customer and item
    assert apply_batches(a, "dc-1", [batch("p1", [1], ["SN-1"])]).acks[0][0].status == \
        "accepted"
    refused = apply_batches(b, "dc-1", [batch("p2", [1], ["SN-1"], "SO-2")]).acks[0][0]
    assert (refused.status, refused.reason) == ("refused", "duplicate_serial")
    assert {o.id for o in a.read().records() if isinstance(o, SalesOrder)} == {
        "SO-1", "SO-2"}


def test_a_conflict_found_at_commit_becomes_a_refusal(open_store: OpenStore) -> None:
    """A live sale written behind the ledger's back (no revision bump) is only
    caught by the unique index: the batch is decided again and refused."""
    a = open_store()
    a.put_order("SO-1", "C-1", [(1, "PHONE", 2)])
    a.put_order("SO-2", "C-1", [(1, "PHONE", 1)])
    a.query("INSERT INTO sales_registration (id, item_id, serial, document_kind, document_id,"
            " line_number, order_id, status, revision) VALUES"
            " ('REG-900', 'PHONE', 'SN-7', 'packing_slip', 'PS-900', 1, 'SO-2', 'live', 0)")
    ack = apply_batches(a, "dc-1", [batch("p1", [1, 2], ["SN-7", "SN-8"])]).acks[0]
    assert [(x.status, x.reason) for x in ack] == [
        ("refused", "duplicate_serial"), ("accepted", "added")]
    assert a.registration_count("accepted") == 1


def test_a_conflict_that_stays_raises_clearly(open_store: OpenStore) -> None:
    a = open_store()
    a.put_order("SO-1", "C-1", [(1, "PHONE", 2)])
    a.query("INSERT INTO sales_registration (id, item_id, serial, document_kind, document_id,"
            " line_number, status, revision) VALUES"
            " ('REG-900', 'PHONE', 'SN-7', 'packing_slip', 'PS-900', 1, 'live', 0)")

    def sell_again() -> None:
        with a.write() as ledger:  # the ledger never saw REG-900: only the index knows
            ledger.register(ledger.open_packing_slip("SO-1").id, 1, "SN-7")

    with pytest.raises(LiveSaleConflict, match="registered one of these serials first"):
        sell_again()


def test_a_failed_write_leaves_memory_as_the_database(open_store: OpenStore) -> None:
    a = open_store()
    a.put_order("SO-1", "C-1", [(1, "PHONE", 2)])

    def open_then_fail() -> None:
        with a.write() as ledger:
            ledger.open_packing_slip("SO-1")
            ledger.order("SO-404")

    with pytest.raises(SalesRuleError):
        open_then_fail()
    assert a.ledger.packing_slips_of_order("SO-1") == []
    assert open_store().ledger.packing_slips_of_order("SO-1") == []


def test_a_redelivered_message_gets_the_same_verdict_from_any_instance(
        open_store: OpenStore) -> None:
    a, b = open_store(), open_store()
    a.put_order("SO-1", "C-1", [(1, "PHONE", 3)])
    first = apply_batches(a, "dc-1", [batch("p1", [1, 2], ["SN-1", "SN-1"])]).acks[0]
    again = apply_batches(b, "dc-1", [batch("p1", [1, 2], ["SN-1", "SN-1"])]).acks[0]
    assert first == again
    assert [x.reason for x in first] == ["added", "duplicate_serial"]
    assert b.registration_count() == 2


@pytest.mark.parametrize("store_backend", ["postgres"], indirect=True)
def test_a_lost_connection_is_reopened_and_nothing_is_missed(open_store: OpenStore) -> None:
    """Only PostgreSQL has a connection to lose (a server restart, the network)."""
    a, b = open_store(), open_store()
    a.put_order("SO-1", "C-1", [(1, "PHONE", 2)])
    assert isinstance(a.db, PostgresBackend)
    b.query("SELECT pg_terminate_backend(?)", (a.db.conn.info.backend_pid,))
    b.put_order("SO-2", "C-1", [(1, "PHONE", 1)])
    got = apply_batches(a, "dc-1", [batch("p1", [1], ["SN-1"], "SO-2")]).acks[0][0]
    assert (got.status, got.reason) == ("accepted", "added")


def test_instances_starting_together_migrate_once(section: StoreSection) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def start_one() -> None:
        start.wait()
        try:
            StoreDatabase(section).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    db = open_backend(section)
    try:
        assert db.execute("SELECT version FROM schema_migrations ORDER BY version") == [
            (m.version,) for m in MIGRATIONS]
    finally:
        db.close()
