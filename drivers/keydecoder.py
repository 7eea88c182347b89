"""Key events to scans: the pure core of the keyboard-wedge driver.

A function of ``(type, code, value)`` events only, so recorded sequences test
it without a device. It tracks Shift, CapsLock, Ctrl, Alt and AltGr itself,
maps positions through the configured layout, turns Ctrl+] into GS (0x1D) and
Alt + keypad decimal codes (Alt 0029) into the character, and ends a scan on
the configured terminator keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from drivers.keymaps import (
    EV_KEY,
    KEY_CAPSLOCK,
    KEY_ENTER,
    KEY_KPENTER,
    KEY_LEFTALT,
    KEY_LEFTCTRL,
    KEY_LEFTSHIFT,
    KEY_RIGHTALT,
    KEY_RIGHTCTRL,
    KEY_RIGHTSHIFT,
    KEY_TAB,
    KEYPAD,
    KEYPAD_DIGITS,
    LAYOUTS,
    KeyChars,
)

TerminatorKey = Literal["enter", "kpenter", "tab"]
TERMINATOR_KEYS: dict[str, int] = {"enter": KEY_ENTER, "kpenter": KEY_KPENTER, "tab": KEY_TAB}

_SHIFT = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})
_CTRL = frozenset({KEY_LEFTCTRL, KEY_RIGHTCTRL})
_CONTROL_PUNCT = {"@": 0x00, "[": 0x1B, "\\": 0x1C, "]": 0x1D, "^": 0x1E, "_": 0x1F}
_DOWN, _REPEAT = 1, 2


@dataclass(frozen=True, slots=True)
class KeyScan:
    """One scan typed by the scanner, up to its terminator key."""

    text: str
    overlong: bool = False


def control_char(char: str) -> str | None:
    """The control character Ctrl+``char`` stands for (Ctrl+] is GS), or None."""
    if len(char) == 1 and "a" <= char.lower() <= "z":
        return chr(ord(char.lower()) - 0x60)
    code = _CONTROL_PUNCT.get(char)
    return chr(code) if code is not None else None


def alt_code_char(digits: str) -> str:
    """The character of an Alt+keypad code: ``0nnn`` is Windows-1252, ``nnn`` is CP437."""
    value = int(digits) % 256
    if digits.startswith("0"):
        try:
            return bytes([value]).decode("cp1252")
        except UnicodeDecodeError:
            return bytes([value]).decode("latin-1")
    return bytes([value]).decode("cp437")


_MAX_ALT_DIGITS = 4
"""Alt+0nnn is the longest code a keyboard can type."""


class KeyDecoder:
    """Feed every input event; get a ``KeyScan`` when a terminator key goes down.

    Key repeats (value 2) are ignored: a scanner never holds a key, a repeat
    would only double a character. Enter/KP-Enter that are not terminators type
    nothing; Tab that is not a terminator types a tab.
    """

    def __init__(
        self,
        layout: str = "us",
        terminators: Iterable[str] = ("enter", "kpenter"),
        max_length: int = 256,
    ) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown keyboard layout {layout!r} (use one of {sorted(LAYOUTS)})")
        self._table = LAYOUTS[layout]
        self._us = LAYOUTS["us"]
        self._terminators = frozenset(TERMINATOR_KEYS[t] for t in terminators)
        self._max_length = max_length
        self._held: set[int] = set()
        self._capslock = False
        self._text: list[str] = []
        self._overlong = False
        self._alt_digits = ""

    @property
    def pending(self) -> int:
        """Characters of an unfinished scan."""
        return len(self._text)

    def reset(self) -> None:
        """Forget a partial scan and held keys (device gone; its keys are up)."""
        self._held.clear()
        self._text.clear()
        self._overlong = False
        self._alt_digits = ""

    def feed(self, ev_type: int, code: int, value: int) -> KeyScan | None:
        if ev_type != EV_KEY or value == _REPEAT:
            return None
        if value != _DOWN:
            self._held.discard(code)
            if code == KEY_LEFTALT and self._alt_digits:
                digits, self._alt_digits = self._alt_digits, ""
                self._type(alt_code_char(digits))
            return None
        self._held.add(code)
        if code == KEY_CAPSLOCK:
            self._capslock = not self._capslock
            return None
        if code in self._terminators:
            return self._finish()
        self._press(code)
        return None

    def flush(self) -> KeyScan | None:
        """End the current scan without a terminator key (idle gap)."""
        return self._finish()

    def _press(self, code: int) -> None:
        ctrl = bool(self._held & _CTRL)
        alt = KEY_LEFTALT in self._held
        if alt and not ctrl and code in KEYPAD_DIGITS:
            if len(self._alt_digits) < _MAX_ALT_DIGITS:
                self._alt_digits += str(KEYPAD_DIGITS[code])
            else:
                self._overlong = True  # no Alt code is that long: garbage, a bad read
            return
        if code in KEYPAD:
            self._type(KEYPAD[code])
            return
        if code == KEY_TAB:
            self._type("\t")
            return
        if ctrl and not alt:
            char = self._control(code)
        else:
            # Ctrl+Alt is how some hosts spell AltGr (Windows); scanners copy it.
            altgr = KEY_RIGHTALT in self._held or (ctrl and alt)
            char = self._char(self._table.get(code), altgr)
        if char:
            self._type(char)

    def _char(self, chars: KeyChars | None, altgr: bool) -> str:
        if chars is None:
            return ""
        plain, shifted, with_altgr = chars
        if altgr:
            return with_altgr
        shift = bool(self._held & _SHIFT)
        if self._capslock and plain.isalpha() and shifted == plain.upper():
            shift = not shift
        return shifted if shift else plain

    def _control(self, code: int) -> str:
        for table in (self._table, self._us):
            char = control_char(self._char(table.get(code), altgr=False))
            if char is not None:
                return char
        return ""

    def _type(self, char: str) -> None:
        if len(self._text) >= self._max_length:
            self._overlong = True
            return
        self._text.append(char)

    def _finish(self) -> KeyScan | None:
        text, overlong = "".join(self._text), self._overlong
        self._text.clear()
        self._overlong = False
        self._alt_digits = ""
        if not text and not overlong:
            return None
        return KeyScan(text, overlong)


def decode_events(
    events: Iterable[tuple[int, int, int]],
    layout: str = "us",
    terminators: Iterable[str] = ("enter", "kpenter"),
) -> list[KeyScan]:
    """All scans in a recorded event sequence (for tests and diagnostics)."""
    decoder = KeyDecoder(layout, terminators)
    return [scan for ev in events if (scan := decoder.feed(*ev)) is not None]
