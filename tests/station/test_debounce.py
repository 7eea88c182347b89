"""Bounce protection: the same data from the same scanner within the window is one scan."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gateway.debounce import DebounceConfig, Debouncer

MS = 1_000_000


def test_repeat_within_window_is_a_bounce() -> None:
    debouncer = Debouncer(window_ms=500)
    assert not debouncer.is_bounce("s1", "SN1", 0)
    assert debouncer.is_bounce("s1", "SN1", 499 * MS)
    assert debouncer.is_bounce("s1", "SN1", 999 * MS)  # window slides from the last read


def test_repeat_after_window_is_a_new_scan() -> None:
    debouncer = Debouncer(window_ms=500)
    assert not debouncer.is_bounce("s1", "SN1", 0)
    assert debouncer.is_bounce("s1", "SN1", 500 * MS)  # the edge still counts
    assert not debouncer.is_bounce("s1", "SN1", 1001 * MS)


def test_other_data_or_other_scanner_is_never_a_bounce() -> None:
    debouncer = Debouncer(window_ms=500)
    assert not debouncer.is_bounce("s1", "SN1", 0)
    assert not debouncer.is_bounce("s2", "SN1", 1 * MS)
    assert not debouncer.is_bounce("s1", "SN2", 2 * MS)
    assert not debouncer.is_bounce("s1", "SN1", 3 * MS)  # SN2 came in between


def test_zero_window_turns_it_off() -> None:
    debouncer = Debouncer(window_ms=0)
    assert not debouncer.is_bounce("s1", "SN1", 0)
    assert not debouncer.is_bounce("s1", "SN1", 0)


def test_time_going_backwards_is_not_a_bounce() -> None:
    debouncer = Debouncer(window_ms=500)
    assert not debouncer.is_bounce("s1", "SN1", 10 * MS)
    assert not debouncer.is_bounce("s1", "SN1", 5 * MS)


def test_forget_after_a_mode_change() -> None:
    debouncer = Debouncer(window_ms=500)
    debouncer.is_bounce("s1", "SN1", 0)
    debouncer.is_bounce("s2", "SN9", 0)
    debouncer.forget("s1")
    assert not debouncer.is_bounce("s1", "SN1", 1 * MS)
    assert debouncer.is_bounce("s2", "SN9", 1 * MS)
    debouncer.forget()
    assert not debouncer.is_bounce("s2", "SN9", 2 * MS)


def test_config() -> None:
    assert Debouncer.from_config(DebounceConfig(window_ms=250)).window_ns == 250 * MS
    with pytest.raises(ValidationError, match="window_ms"):
        DebounceConfig(window_ms=-1)
    with pytest.raises(ValueError, match="-5"):
        Debouncer(window_ms=-5)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2000), st.lists(st.tuples(st.sampled_from(["s1", "s2"]),
                                                  st.sampled_from(["A", "B"]),
                                                  st.integers(0, 3000)), max_size=30))
def test_matches_the_definition(window_ms: int, reads: list[tuple[str, str, int]]) -> None:
    """A read is a bounce iff the scanner's previous read had the same data and is at most
    window_ms older; checked against that definition on random read sequences."""
    debouncer = Debouncer(window_ms)
    now = 0
    previous: dict[str, tuple[str, int]] = {}
    for scanner, data, gap_ms in reads:
        now += gap_ms * MS
        last = previous.get(scanner)
        expected = (last is not None and last[0] == data and window_ms > 0
                    and now - last[1] <= window_ms * MS)
        assert debouncer.is_bounce(scanner, data, now) == expected
        previous[scanner] = (data, now)
