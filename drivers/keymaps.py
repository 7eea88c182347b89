"""Keyboard layouts: key position (Linux key code) to character.

evdev reports which key was pressed, not which character it stands for. A
scanner in "German keyboard" mode sends KEY_Y for ``z`` and AltGr+Q for ``@``;
the same events read with a US table give wrong data. Each layout maps a key
code to (plain, with Shift, with AltGr). Pure data, no evdev import: the codes
are the stable numbers of ``linux/input-event-codes.h``.
"""

from __future__ import annotations

from typing import Literal

EV_KEY = 1

KEY_ESC, KEY_1, KEY_0, KEY_MINUS, KEY_EQUAL, KEY_BACKSPACE, KEY_TAB = 1, 2, 11, 12, 13, 14, 15
KEY_Q, KEY_P, KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_ENTER, KEY_LEFTCTRL = 16, 25, 26, 27, 28, 29
KEY_A, KEY_L, KEY_SEMICOLON, KEY_APOSTROPHE, KEY_GRAVE, KEY_LEFTSHIFT = 30, 38, 39, 40, 41, 42
KEY_BACKSLASH, KEY_Z, KEY_M, KEY_COMMA, KEY_DOT, KEY_SLASH = 43, 44, 50, 51, 52, 53
KEY_RIGHTSHIFT = 54
KEY_KPASTERISK, KEY_LEFTALT, KEY_SPACE, KEY_CAPSLOCK = 55, 56, 57, 58
KEY_KP7, KEY_KP8, KEY_KP9, KEY_KPMINUS, KEY_KP4, KEY_KP5, KEY_KP6 = 71, 72, 73, 74, 75, 76, 77
KEY_KPPLUS, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP0, KEY_KPDOT, KEY_102ND = 78, 79, 80, 81, 82, 83, 86
KEY_KPENTER, KEY_RIGHTCTRL, KEY_KPSLASH, KEY_RIGHTALT = 96, 97, 98, 100

# Rows of the main block, by key code, in the order the keys sit.
_DIGIT_ROW = list(range(KEY_1, KEY_EQUAL + 1))            # 1 2 ... 0 - =
_TOP_ROW = list(range(KEY_Q, KEY_RIGHTBRACE + 1))         # q w e ... p [ ]
_HOME_ROW = list(range(KEY_A, KEY_GRAVE + 1))             # a s d ... l ; ' `
_BOTTOM_ROW = list(range(KEY_Z, KEY_SLASH + 1))           # z x c ... m , . /

KEYPAD: dict[int, str] = {
    KEY_KP0: "0", KEY_KP1: "1", KEY_KP2: "2", KEY_KP3: "3", KEY_KP4: "4",
    KEY_KP5: "5", KEY_KP6: "6", KEY_KP7: "7", KEY_KP8: "8", KEY_KP9: "9",
    KEY_KPDOT: ".", KEY_KPSLASH: "/", KEY_KPASTERISK: "*", KEY_KPMINUS: "-", KEY_KPPLUS: "+",
}
KEYPAD_DIGITS: dict[int, int] = {code: int(ch) for code, ch in KEYPAD.items() if ch.isdigit()}

Layout = Literal["us", "uk", "de", "fr"]
KeyChars = tuple[str, str, str]
"""(plain, with Shift, with AltGr); an empty string means the key types nothing."""


def _rows(plain: list[str], shifted: list[str], codes: list[int]) -> dict[int, KeyChars]:
    if not (len(plain) == len(shifted) == len(codes)):
        raise ValueError("layout row lengths differ")
    return {code: (p, s, "") for code, p, s in zip(codes, plain, shifted, strict=True)}


def _layout(rows: list[tuple[str, str, list[int]]], extra: dict[int, KeyChars],
            altgr: dict[int, str]) -> dict[int, KeyChars]:
    table: dict[int, KeyChars] = {KEY_SPACE: (" ", " ", "")}
    for plain, shifted, codes in rows:
        table.update(_rows(list(plain), list(shifted), codes))
    table.update(extra)
    for code, char in altgr.items():
        plain, shifted, _ = table.get(code, ("", "", ""))
        table[code] = (plain, shifted, char)
    return table


LAYOUTS: dict[str, dict[int, KeyChars]] = {
    "us": _layout(
        [("1234567890-=", "!@#$%^&*()_+", _DIGIT_ROW),
         ("qwertyuiop[]", "QWERTYUIOP{}", _TOP_ROW),
         ("asdfghjkl;'`", 'ASDFGHJKL:"~', _HOME_ROW),
         ("zxcvbnm,./", "ZXCVBNM<>?", _BOTTOM_ROW)],
        {KEY_BACKSLASH: ("\\", "|", ""), KEY_102ND: ("\\", "|", "")},
        {},
    ),
    "uk": _layout(
        [("1234567890-=", '!"£$%^&*()_+', _DIGIT_ROW),
         ("qwertyuiop[]", "QWERTYUIOP{}", _TOP_ROW),
         ("asdfghjkl;'`", "ASDFGHJKL:@¬", _HOME_ROW),
         ("zxcvbnm,./", "ZXCVBNM<>?", _BOTTOM_ROW)],
        {KEY_BACKSLASH: ("#", "~", ""), KEY_102ND: ("\\", "|", "")},
        {KEY_1 + 3: "€"},
    ),
    "de": _layout(
        [("1234567890ß´", '!"§$%&/()=?`', _DIGIT_ROW),  # noqa: RUF001 - the dead acute key
         ("qwertzuiopü+", "QWERTZUIOPÜ*", _TOP_ROW),
         ("asdfghjklöä^", "ASDFGHJKLÖÄ°", _HOME_ROW),
         ("yxcvbnm,.-", "YXCVBNM;:_", _BOTTOM_ROW)],
        {KEY_BACKSLASH: ("#", "'", ""), KEY_102ND: ("<", ">", "|")},
        {KEY_Q: "@", KEY_1 + 1: "²", KEY_1 + 2: "³", KEY_1 + 6: "{", KEY_1 + 7: "[",
         KEY_1 + 8: "]", KEY_0: "}", KEY_MINUS: "\\", KEY_RIGHTBRACE: "~", KEY_Q + 2: "€",
         KEY_M: "µ"},
    ),
    "fr": _layout(
        [("&é\"'(-è_çà)=", "1234567890°+", _DIGIT_ROW),
         ("azertyuiop^$", "AZERTYUIOP¨£", _TOP_ROW),
         ("qsdfghjklmù", "QSDFGHJKLM%", _HOME_ROW[:11]),
         ("wxcvbn,;:!", "WXCVBN?./§", _BOTTOM_ROW)],
        {KEY_GRAVE: ("²", "", ""), KEY_BACKSLASH: ("*", "µ", ""), KEY_102ND: ("<", ">", "")},
        {KEY_1 + 1: "~", KEY_1 + 2: "#", KEY_1 + 3: "{", KEY_1 + 4: "[", KEY_1 + 5: "|",
         KEY_1 + 6: "`", KEY_1 + 7: "\\", KEY_1 + 8: "^", KEY_0: "@", KEY_MINUS: "]",
         KEY_EQUAL: "}", KEY_Q + 2: "€", KEY_RIGHTBRACE: "¤"},
    ),
}
"""Character tables per layout name, as set in a scanner's config (``layout: de``)."""
