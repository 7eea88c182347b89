"""Framer: every terminator, any split of the stream, overlong and endless input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.framing import (
    TERMINATOR_BYTES,
    Frame,
    Framer,
    Terminator,
    parse_terminator,
    strip_affixes,
)


def feed_in_pieces(framer: Framer, stream: bytes, cuts: list[int]) -> list[Frame]:
    frames: list[Frame] = []
    start = 0
    for cut in [*sorted({c % (len(stream) + 1) for c in cuts}), len(stream)]:
        frames += framer.feed(stream[start:cut])
        start = cut
    return frames


@pytest.mark.parametrize(
    ("terminator", "stream", "expected"),
    [
        (Terminator.CR, b"A1\rB2\r", [b"A1", b"B2"]),
        (Terminator.LF, b"A1\nB2\n", [b"A1", b"B2"]),
        (Terminator.CRLF, b"A1\r\nB2\r\n", [b"A1", b"B2"]),
        (Terminator.CRLF, b"A\r1\r\n", [b"A\r1"]),
        (Terminator.TAB, b"A1\tB2\t", [b"A1", b"B2"]),
        (Terminator.ANY_NEWLINE, b"A1\r\nB2\nC3\r", [b"A1", b"B2", b"C3"]),
    ],
)
def test_each_terminator(terminator: Terminator, stream: bytes, expected: list[bytes]) -> None:
    framer = Framer.for_terminator(terminator)
    assert [f.data for f in framer.feed(stream)] == expected
    assert framer.pending == 0


def test_custom_terminator_and_parse_errors() -> None:
    assert parse_terminator("hex:03") == (b"\x03",)
    assert parse_terminator("CRLF") == (b"\r\n",)
    with pytest.raises(ValueError, match=r"unknown terminator 'etx'.*hex:03"):
        parse_terminator("etx")
    with pytest.raises(ValueError, match="non-empty"):
        Framer(())


scan = st.binary(min_size=0, max_size=20).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@settings(max_examples=150, deadline=None)
@given(
    terminator=st.sampled_from(list(Terminator)),
    scans=st.lists(scan, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_any_split_gives_the_same_frames(
    terminator: Terminator, scans: list[bytes], cuts: list[int]
) -> None:
    term = TERMINATOR_BYTES[terminator][0]
    scans = [s.replace(b"\t", b"") for s in scans]
    stream = b"".join(s + term for s in scans)
    whole = Framer.for_terminator(terminator, max_length=12).feed(stream)
    pieces = feed_in_pieces(Framer.for_terminator(terminator, max_length=12), stream, cuts)
    assert pieces == whole
    assert [f.data for f in whole] == [s[:12] for s in scans if s]
    assert [f.overlong for f in whole] == [len(s) > 12 for s in scans if s]


@settings(max_examples=100, deadline=None)
@given(
    data=st.binary(max_size=300),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=20),
)
def test_arbitrary_bytes_any_split_same_frames_bounded_buffer(
    data: bytes, cuts: list[int]
) -> None:
    whole = Framer((b"\r\n", b"\n"), max_length=16)
    split = Framer((b"\r\n", b"\n"), max_length=16)
    assert feed_in_pieces(split, data, cuts) == whole.feed(data)
    assert split.pending <= 17


def test_overlong_scan_is_reported_once_and_next_scan_is_clean() -> None:
    framer = Framer((b"\r",), max_length=5)
    frames = framer.feed(b"0123456789\rOK\r")
    assert frames == [Frame(b"01234", overlong=True), Frame(b"OK")]


def test_endless_input_without_terminator_keeps_memory_bounded() -> None:
    framer = Framer((b"\r\n",), max_length=64)
    reported: list[Frame] = []
    for _ in range(10_000):
        reported += framer.feed(b"x" * 97)
        assert framer.pending <= 65
    assert reported == [Frame(b"x" * 64, overlong=True)]
    assert framer.feed(b"\r\nNEXT\r\n") == [Frame(b"NEXT")]


def test_terminator_split_across_reads_while_discarding() -> None:
    framer = Framer((b"\r\n",), max_length=4)
    assert framer.feed(b"abcdefgh\r") == [Frame(b"abcd", overlong=True)]
    assert framer.feed(b"\nZ\r\n") == [Frame(b"Z")]


def test_idle_only_framer_needs_flush_and_stays_bounded() -> None:
    framer = Framer.without_terminator(max_length=8)
    assert framer.feed(b"AB\rCD\n") == []
    assert framer.flush() == [Frame(b"AB\rCD\n")]
    assert framer.feed(b"y" * 100) == [Frame(b"y" * 8, overlong=True)]
    assert framer.pending <= 8
    assert framer.flush() == []
    assert framer.feed(b"NEW") == []
    assert framer.flush() == [Frame(b"NEW")]


def test_reset_drops_partial_scan() -> None:
    framer = Framer((b"\r",))
    framer.feed(b"HALF")
    framer.reset()
    assert framer.feed(b"WHOLE\r") == [Frame(b"WHOLE")]


@pytest.mark.parametrize(
    ("data", "prefix", "suffix", "expected"),
    [
        (b"\x02SN\x03", b"\x02", b"\x03", b"SN"),
        (b"SN", b"\x02", b"\x03", b"SN"),
        (b"]C1SN", b"]C1", b"", b"SN"),
        (b"\x02\x03", b"\x02", b"\x03", b""),
        (b"SN\x03", b"", b"\x03", b"SN"),
    ],
)
def test_strip_affixes(data: bytes, prefix: bytes, suffix: bytes, expected: bytes) -> None:
    assert strip_affixes(data, prefix, suffix) == expected
