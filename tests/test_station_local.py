"""The station's local decision on its cached lines (mode, document, R4/R6/R7/R17)."""

from __future__ import annotations

from drivers.base import RawScan
from gateway.decoding import BadRead, DecodedScan, decode
from gateway.order_cache import CachedLine
from gateway.station import Station
from scangw.sales.registration import ScanMode


def _station() -> Station:
    station = Station("pack-01")
    station.load([
        CachedLine("SO-1", 1, "PHONE", 2),
        CachedLine("SO-1", 2, "DRILL", 1),
        CachedLine("SO-2", 1, "PHONE", 5, ["TAKEN-ON-SO-2"]),
    ])
    station.open_document("SO-1", 1)
    return station


def _scan(text: str) -> DecodedScan:
    return DecodedScan("s1", text, 0)


def test_adds_until_the_line_is_full_then_refuses() -> None:
    station = _station()
    assert station.judge(_scan("A")).entry.reason == "added"
    assert station.judge(_scan("B")).entry.reason == "added"
    refused = station.judge(_scan("C")).entry
    assert (refused.accepted, refused.reason) == (False, "over_quantity")
    assert refused.message == "SO-1 line 1 already has 2 of 2 serials"


def test_duplicate_on_the_same_line_and_on_another_order() -> None:
    station = _station()
    station.judge(_scan("A"))
    assert station.judge(_scan("A")).entry.reason == "duplicate_serial"
    elsewhere = station.judge(_scan("TAKEN-ON-SO-2")).entry
    assert (elsewhere.reason, elsewhere.message) == (
        "duplicate_serial", "TAKEN-ON-SO-2 is already registered on another document")


def test_the_same_serial_of_another_item_is_not_a_duplicate() -> None:
    station = _station()
    station.open_document("SO-1", 2)
    assert station.judge(_scan("TAKEN-ON-SO-2")).entry.accepted


def test_remove_mode_removes_a_listed_serial_and_refuses_an_unlisted_one() -> None:
    station = _station()
    station.judge(_scan("A"))
    station.mode = ScanMode.REMOVE
    assert station.judge(_scan("B")).entry.reason == "not_on_list"
    removed = station.judge(_scan("A")).entry
    assert (removed.accepted, removed.reason, removed.mode) == (True, "removed", "remove")
    assert station.line("SO-1", 1).serials == []  # type: ignore[union-attr]


def test_not_readable_counts_toward_the_quantity() -> None:
    station = _station()
    assert station.register("s1", None, 0).entry.accepted
    assert station.register("s1", None, 0).entry.accepted
    assert station.register("s1", None, 0).entry.reason == "over_quantity"


def test_no_document_open_is_refused_with_a_hint() -> None:
    station = Station("pack-01")
    entry = station.judge(_scan("A")).entry
    assert (entry.accepted, entry.reason) == (False, "no_document")
    assert "scan an order" in entry.message


def test_bad_read_is_refused_and_touches_no_line() -> None:
    station = _station()
    bad = decode(RawScan("s1", b"\x00\x01garbage"))
    assert isinstance(bad, BadRead)
    judgement = station.judge(bad)
    assert (judgement.entry.accepted, judgement.entry.reason, judgement.line) == (
        False, "unreadable", None)


def test_revert_undoes_an_accepted_add_and_remove() -> None:
    station = _station()
    added = station.judge(_scan("A"))
    station.revert(added)
    assert station.line("SO-1", 1).serials == []  # type: ignore[union-attr]
    assert station.judge(_scan("A")).entry.accepted  # not a duplicate any more
    station.mode = ScanMode.REMOVE
    removed = station.judge(_scan("A"))
    station.revert(removed)
    assert station.line("SO-1", 1).serials == ["A"]  # type: ignore[union-attr]


def test_sequence_numbers_increase_from_the_journal() -> None:
    station = Station("p", next_seq=41)
    assert [station.judge(_scan("x")).entry.seq for _ in range(3)] == [41, 42, 43]


def test_decoding_rejects_garbage_overlong_and_empty() -> None:
    assert isinstance(decode(RawScan("s", b"\xff\xfe")), BadRead)
    assert decode(RawScan("s", b"ESC\x1b[31m")).reason == "unreadable"  # type: ignore[union-attr]
    assert decode(RawScan("s", b"X" * 10, overlong=True)).reason == "overlong"  # type: ignore[union-attr]
    assert decode(RawScan("s", b"   ")).reason == "empty"  # type: ignore[union-attr]
    gs1 = decode(RawScan("s", b"0109521101530001\x1d21ABC"))
    assert isinstance(gs1, DecodedScan)
