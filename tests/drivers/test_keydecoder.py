"""Keyboard-wedge decoding: recorded key-event sequences per layout."""

from __future__ import annotations

import evdev
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import keymaps as k
from drivers.keydecoder import KeyDecoder, KeyScan, alt_code_char, decode_events

Event = tuple[int, int, int]
EV_SYN, EV_MSC = 0, 4


def tap(code: int, *mods: int) -> list[Event]:
    """What a scanner sends for one key: modifiers down, key down/up, modifiers up.

    Each key event comes with its MSC_SCAN and SYN_REPORT, like a real recording.
    """
    events: list[Event] = []
    for value, codes in ((1, [*mods, code]), (0, [code, *reversed(mods)])):
        for c in codes:
            events += [(EV_MSC, 4, 0x70000 + c), (k.EV_KEY, c, value), (EV_SYN, 0, 0)]
    return events


def keys(*taps: list[Event]) -> list[Event]:
    return [ev for t in taps for ev in t]


SHIFT, ALTGR, CTRL, ALT = k.KEY_LEFTSHIFT, k.KEY_RIGHTALT, k.KEY_LEFTCTRL, k.KEY_LEFTALT
ENTER = tap(k.KEY_ENTER)
A, D, E, H, Q, S, W, Y, Z = 30, 32, 18, 35, 16, 31, 17, 21, 44
N1, N2, N3, N4 = 2, 3, 4, 5


def texts(events: list[Event], layout: str = "us", **kw: object) -> list[str]:
    return [s.text for s in decode_events(events, layout, **kw)]  # type: ignore[arg-type]


def test_keymap_codes_are_the_kernels() -> None:
    for name in ("KEY_A", "KEY_Q", "KEY_Z", "KEY_M", "KEY_1", "KEY_0", "KEY_ENTER",
                 "KEY_KPENTER", "KEY_TAB", "KEY_102ND", "KEY_RIGHTALT", "KEY_KP0", "KEY_KP7",
                 "KEY_KPDOT", "KEY_CAPSLOCK", "KEY_GRAVE", "KEY_RIGHTBRACE", "KEY_SLASH",
                 "KEY_LEFTCTRL", "KEY_RIGHTSHIFT", "KEY_KPSLASH", "KEY_KPASTERISK"):
        assert getattr(k, name) == evdev.ecodes.ecodes[name], name
    assert evdev.ecodes.EV_KEY == k.EV_KEY


def test_us_shifted_symbols_and_letters() -> None:
    events = keys(tap(A, SHIFT), tap(A), tap(N4, SHIFT), tap(N2, SHIFT),
                  tap(k.KEY_APOSTROPHE, SHIFT), tap(N1), tap(k.KEY_MINUS), ENTER)
    assert texts(events) == ['Aa$@"1-']


def test_uk_at_and_quote_swap_places() -> None:
    events = keys(tap(N2, SHIFT), tap(k.KEY_APOSTROPHE, SHIFT), tap(N3, SHIFT),
                  tap(N4, SHIFT), ENTER)
    assert texts(events, "uk") == ['"@£$']
    assert texts(events, "us") == ['@"#$']


def test_de_qwertz_umlauts_and_altgr_at() -> None:
    events = keys(tap(Y), tap(Z), tap(Q, ALTGR), tap(N4, SHIFT), tap(N2, SHIFT),
                  tap(k.KEY_APOSTROPHE), tap(k.KEY_SEMICOLON), tap(k.KEY_LEFTBRACE),
                  tap(k.KEY_LEFTBRACE, SHIFT), tap(k.KEY_MINUS), tap(k.KEY_SLASH), ENTER)
    assert texts(events, "de") == ['zy@$"äöüÜß-']


def test_de_ctrl_alt_is_altgr() -> None:
    assert texts(keys(tap(Q, CTRL, ALT), ENTER), "de") == ["@"]


def test_fr_azerty_digits_need_shift() -> None:
    typed = keys(tap(H, SHIFT), tap(Q, SHIFT), tap(N1, SHIFT), tap(N1, SHIFT), tap(N2, SHIFT),
                 ENTER)
    assert texts(typed, "fr") == ["HA112"]
    assert texts(typed, "us") == ["HQ!!@"]
    unshifted = keys(tap(H, SHIFT), tap(Q, SHIFT), tap(N1), tap(N1), tap(N2), ENTER)
    assert texts(unshifted, "fr") == ["HA&&é"]
    assert texts(keys(tap(k.KEY_0, ALTGR), tap(k.KEY_RIGHTBRACE), tap(k.KEY_M), ENTER),
                 "fr") == ["@$,"]


def test_keypad_digits_and_kpenter() -> None:
    events = keys(tap(k.KEY_KP4), tap(k.KEY_KP0), tap(k.KEY_KP0), tap(k.KEY_KPDOT),
                  tap(k.KEY_KP9), tap(k.KEY_KPENTER))
    assert texts(events) == ["400.9"]


def test_gs_from_ctrl_right_bracket_on_every_layout() -> None:
    events = keys(tap(k.KEY_0), tap(k.KEY_RIGHTBRACE, CTRL), tap(N1), ENTER)
    assert texts(events, "us") == ["0\x1d1"]
    assert texts(events, "de") == ["0\x1d1"]


def test_gs_from_alt_keypad_0029() -> None:
    alt_0029 = [(k.EV_KEY, ALT, 1), *tap(k.KEY_KP0), *tap(k.KEY_KP0), *tap(k.KEY_KP2),
                *tap(k.KEY_KP9), (k.EV_KEY, ALT, 0)]
    events = keys(tap(N1), alt_0029, tap(N2), ENTER)
    assert texts(events) == ["1\x1d2"]
    assert alt_code_char("0029") == "\x1d"
    assert alt_code_char("0228") == "ä"      # Windows-1252
    assert alt_code_char("132") == "ä"       # CP437


def test_capslock_inverts_shift_for_letters_only() -> None:
    events = keys(tap(k.KEY_CAPSLOCK), tap(A), tap(A, SHIFT), tap(N1), tap(k.KEY_APOSTROPHE),
                  tap(k.KEY_CAPSLOCK), tap(A), ENTER)
    assert texts(events, "de") == ["Aa1Äa"]


def test_tab_as_terminator_and_enter_ignored() -> None:
    events = keys(tap(A), tap(k.KEY_TAB), tap(D), ENTER, tap(E), tap(k.KEY_TAB))
    assert texts(events, terminators=("tab",)) == ["a", "de"]
    assert texts(keys(tap(A), tap(k.KEY_TAB), tap(D), ENTER)) == ["a\td"]


def test_repeats_releases_and_other_event_types_type_nothing() -> None:
    events = [(k.EV_KEY, A, 1), (k.EV_KEY, A, 2), (k.EV_KEY, A, 2), (k.EV_KEY, A, 0),
              (EV_MSC, 4, 30), (2, 0, 5), *ENTER, *ENTER]
    assert texts(events) == ["a"]


def test_overlong_scan_is_marked_and_bounded() -> None:
    decoder = KeyDecoder("us", max_length=5)
    for ev in keys(*[tap(A)] * 50):
        assert decoder.feed(*ev) is None
        assert decoder.pending <= 5
    assert [decoder.feed(*ev) for ev in ENTER][1] == KeyScan("aaaaa", overlong=True)


def test_reset_drops_partial_scan_and_held_modifiers() -> None:
    decoder = KeyDecoder("us")
    for ev in [(k.EV_KEY, SHIFT, 1), *tap(A)]:
        decoder.feed(*ev)
    decoder.reset()
    scans = [s for ev in keys(tap(S), ENTER) if (s := decoder.feed(*ev))]
    assert scans == [KeyScan("s")]


def test_unknown_layout_is_explained() -> None:
    with pytest.raises(ValueError, match=r"unknown keyboard layout 'dvorak'.*'de'"):
        KeyDecoder("dvorak")


def encoder(layout: str) -> dict[str, list[Event]]:
    """Inverse of a layout table: how a scanner set to that layout types each char."""
    table: dict[str, list[Event]] = {}
    for code, (plain, shifted, altgr) in sorted(k.LAYOUTS[layout].items()):
        for char, mods in ((altgr, (ALTGR,)), (shifted, (SHIFT,)), (plain, ())):
            if char:
                table[char] = tap(code, *mods)
    return table


@pytest.mark.parametrize("layout", sorted(k.LAYOUTS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_typable_text_round_trips(layout: str, data: st.DataObject) -> None:
    enc = encoder(layout)
    text = data.draw(st.text(alphabet=sorted(enc), min_size=1, max_size=30))
    events = [ev for ch in text for ev in enc[ch]] + ENTER
    assert texts(events, layout) == [text]


def test_flush_ends_a_scan_without_terminator() -> None:
    decoder = KeyDecoder("fr")
    for ev in keys(tap(Q), tap(N1, SHIFT)):
        decoder.feed(*ev)
    assert decoder.flush() == KeyScan("a1")
    assert decoder.flush() is None
