"""Framing: every terminator, any split of the stream, overlong and endless input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.framing import Frame, Framer, Terminator, parse_terminator


@pytest.mark.parametrize(
    ("terminator", "stream"),
    [
        (Terminator.CR, b"A1\rB2\r"),
        (Terminator.LF, b"A1\nB2\n"),
        (Terminator.CRLF, b"A1\r\nB2\r\n"),
        (Terminator.TAB, b"A1\tB2\t"),
        (Terminator.ANY_NEWLINE, b"A1\r\nB2\n"),
    ],
)
def test_each_terminator_ends_a_scan(terminator: Terminator, stream: bytes) -> None:
    framer = Framer.for_terminator(terminator)
    assert framer.feed(stream) == [Frame(b"A1"), Frame(b"B2")]
    assert framer.pending == 0


def test_custom_terminator_bytes() -> None:
    framer = Framer(parse_terminator("hex:03"))
    assert framer.feed(b"\x02ABC\x03\x02DEF\x03") == [Frame(b"\x02ABC"), Frame(b"\x02DEF")]


def test_crlf_split_between_cr_and_lf() -> None:
    framer = Framer.for_terminator(Terminator.CRLF)
    assert framer.feed(b"SER1\r") == []
    assert framer.feed(b"\nSER2") == [Frame(b"SER1")]
    assert framer.feed(b"\r\n") == [Frame(b"SER2")]


def test_partial_scan_waits_for_its_terminator() -> None:
    framer = Framer.for_terminator(Terminator.CR)
    assert framer.feed(b"ABC") == []
    assert framer.pending == 3
    assert framer.feed(b"DEF\r") == [Frame(b"ABCDEF")]


def test_overlong_scan_is_reported_once_and_the_next_scan_is_clean() -> None:
    framer = Framer.for_terminator(Terminator.CR, max_length=8)
    frames = framer.feed(b"X" * 20)
    assert frames == [Frame(b"X" * 8, overlong=True)]
    assert framer.feed(b"X" * 50) == []
    assert framer.feed(b"XX\rGOOD\r") == [Frame(b"GOOD")]


def test_overlong_scan_with_terminator_in_the_same_read() -> None:
    framer = Framer.for_terminator(Terminator.LF, max_length=4)
    assert framer.feed(b"123456\nOK\n") == [Frame(b"1234", overlong=True), Frame(b"OK")]


def test_endless_input_without_terminator_keeps_memory_bounded() -> None:
    framer = Framer.for_terminator(Terminator.CRLF, max_length=64)
    reported = []
    for _ in range(2_000):
        reported += framer.feed(b"Z" * 1000)
        assert framer.pending <= 64 + 1
    assert reported == [Frame(b"Z" * 64, overlong=True)]


def test_flush_ends_an_unterminated_scan() -> None:
    framer = Framer.for_terminator(Terminator.CR)
    framer.feed(b"IDLE-GAP")
    assert framer.flush() == [Frame(b"IDLE-GAP")]
    assert framer.flush() == []


def test_reset_drops_a_partial_scan() -> None:
    framer = Framer.for_terminator(Terminator.CR)
    framer.feed(b"HALF")
    framer.reset()
    assert framer.feed(b"NEW\r") == [Frame(b"NEW")]


@pytest.mark.parametrize("bad", ["", "semicolon", "hex:", "hex:zz"])
def test_unknown_terminator_names_the_accepted_forms(bad: str) -> None:
    with pytest.raises(ValueError, match="use one of cr, lf, crlf, tab"):
        parse_terminator(bad)


def test_bad_framer_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="max_length"):
        Framer((b"\r",), max_length=0)
    with pytest.raises(ValueError, match="non-empty"):
        Framer((b"",))


scans = st.lists(
    st.binary(min_size=1, max_size=30).filter(lambda b: b"\r" not in b and b"\n" not in b),
    max_size=20,
)


@given(scans=scans, cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=30),
       terminator=st.sampled_from([Terminator.CR, Terminator.LF, Terminator.CRLF]))
def test_any_split_of_the_stream_gives_the_same_frames(
    scans: list[bytes], cuts: list[int], terminator: Terminator
) -> None:
    term = {Terminator.CR: b"\r", Terminator.LF: b"\n", Terminator.CRLF: b"\r\n"}[terminator]
    stream = b"".join(s + term for s in scans)
    framer = Framer.for_terminator(terminator, max_length=64)
    frames: list[Frame] = []
    last = 0
    for cut in sorted(c for c in cuts if c <= len(stream)):
        frames += framer.feed(stream[last:cut])
        last = cut
    frames += framer.feed(stream[last:])
    assert frames == [Frame(s) for s in scans]


@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=100))
def test_no_input_makes_the_framer_raise_or_grow(data: bytes, max_length: int) -> None:
    framer = Framer.for_terminator(Terminator.CRLF, max_length=max_length)
    for frame in framer.feed(data):
        assert len(frame.data) <= max_length
    assert framer.pending <= max_length + 1
