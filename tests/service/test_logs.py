"""Log lines (journald and terminal, logfmt and JSON) and escaping of scanned data."""

from __future__ import annotations

import codecs
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scangw.logs import escape_scan, running_under_journald, setup_logging, syslog_priority

PRINTABLE_ASCII = {chr(c) for c in range(0x20, 0x7F)}


@given(st.binary(max_size=64))
@settings(max_examples=300)
def test_escaped_bytes_are_printable_ascii_and_decode_back(data: bytes) -> None:
    out = escape_scan(data)
    assert set(out) <= PRINTABLE_ASCII
    assert codecs.escape_decode(out.encode("ascii"))[0] == data


@given(st.text(max_size=64))
@settings(max_examples=300)
def test_escaped_text_is_printable_ascii_and_decodes_back(data: str) -> None:
    out = escape_scan(data)
    assert set(out) <= PRINTABLE_ASCII
    assert out.encode("ascii").decode("unicode_escape") == data


@pytest.mark.parametrize(
    ("scan", "expected"),
    [
        (b"\x1b[2J\x1b[H", r"\x1b[2J\x1b[H"),  # CSI: clear screen, home
        (b"\x1b]0;owned\x07", r"\x1b]0;owned\x07"),  # OSC: set title, BEL
        (b"\x9b31m", r"\x9b31m"),  # C1 CSI as one byte
        ("\x9b31m", r"\x9b31m"),  # ... and as a character
        (b"A\x7fB", r"A\x7fB"),  # DEL
        (b"SN-1\r\n\t", r"SN-1\r\n\t"),
        (b"a\\x41", r"a\\x41"),  # a literal backslash cannot pose as an escape
        ("caf\u00e9 \u202e\U0001f600", r"caf\xe9 \u202e\U0001f600"),  # bidi override, emoji
        (b"]010104012345678901", "]010104012345678901"),  # plain GS1 data is untouched
    ],
)
def test_escape_scan_examples(scan: bytes | str, expected: str) -> None:
    assert escape_scan(scan) == expected


def test_escape_scan_limit_says_how_much_was_cut() -> None:
    assert escape_scan(b"\x00" * 10, limit=2) == r"\x00\x00...(8 more byte(s))"
    assert escape_scan("abcdef", limit=3) == "abc...(3 more character(s))"
    assert escape_scan(b"abc", limit=3) == "abc"


@pytest.mark.parametrize(
    ("level", "priority"),
    [(logging.DEBUG, 7), (logging.INFO, 6), (logging.WARNING, 4), (logging.ERROR, 3),
     (logging.CRITICAL, 2)],
)
def test_syslog_priorities(level: int, priority: int) -> None:
    assert syslog_priority(level) == priority


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _journal_env(stream: TextIO) -> dict[str, str]:
    st_ = os.fstat(stream.fileno())
    return {"JOURNAL_STREAM": f"{st_.st_dev}:{st_.st_ino}"}


def _log_some(path: Path, verbose: bool, as_json: bool, journald: bool) -> list[str]:
    with path.open("w", encoding="utf-8") as stream:
        env = _journal_env(stream) if journald else {}
        setup_logging(verbose, as_json, stream=stream, environ=env)
        log = logging.getLogger("scangw.test")
        log.debug("debug detail")
        log.info("station ready", extra={"scanners": 2})
        log.warning("bad read\nsecond line", extra={"scan": escape_scan(b"\x1b[2J")})
    return path.read_text(encoding="utf-8").splitlines()


@pytest.mark.usefixtures("restore_root_logger")
def test_journald_lines_have_priority_prefix_and_no_timestamp(tmp_path: Path) -> None:
    lines = _log_some(tmp_path / "log", verbose=False, as_json=False, journald=True)
    assert lines == [
        '<6>level=info logger=scangw.test msg="station ready" scanners=2',
        r'<4>level=warning logger=scangw.test msg="bad read\nsecond line" scan="\\x1b[2J"',
    ]


@pytest.mark.usefixtures("restore_root_logger")
def test_terminal_lines_have_a_timestamp_and_no_prefix(tmp_path: Path) -> None:
    lines = _log_some(tmp_path / "log", verbose=True, as_json=False, journald=False)
    assert len(lines) == 3  # verbose: debug too; the newline did not split a line
    for line in lines:
        assert re.match(r"time=20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4} ", line)
        assert not line.startswith("<")
    assert lines[0].endswith('level=debug logger=scangw.test msg="debug detail"')


@pytest.mark.usefixtures("restore_root_logger")
def test_json_lines(tmp_path: Path) -> None:
    lines = _log_some(tmp_path / "log", verbose=False, as_json=True, journald=True)
    assert lines[0].startswith("<6>{")
    first = json.loads(lines[0][3:])
    second = json.loads(lines[1][3:])
    assert first == {"level": "info", "logger": "scangw.test", "msg": "station ready",
                     "scanners": 2}
    assert second["msg"] == "bad read\nsecond line"
    assert second["scan"] == r"\x1b[2J"


def _commit() -> None:
    raise OSError("disk full")


@pytest.mark.usefixtures("restore_root_logger")
def test_exceptions_stay_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "log"
    with path.open("w", encoding="utf-8") as stream:
        setup_logging(stream=stream, environ=_journal_env(stream))
        try:
            _commit()
        except OSError:
            logging.getLogger("x").exception("commit failed")
    [line] = path.read_text(encoding="utf-8").splitlines()
    assert line.startswith('<3>level=error logger=x msg="commit failed" exc="Traceback')
    assert r"\n" in line  # the traceback's lines, escaped
    assert line.endswith(r'OSError: disk full"')


@pytest.mark.usefixtures("restore_root_logger")
def test_terminal_control_in_a_message_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "log"
    with path.open("w", encoding="utf-8") as stream:
        setup_logging(stream=stream, environ={})
        logging.getLogger("x").warning("scan %s", "\x1b]0;owned\x07\x9b2J")
    text = path.read_text(encoding="utf-8")
    assert not {"\x1b", "\x07", "\x9b"} & set(text)
    assert r'msg="scan \x1b]0;owned\x07\x9b2J"' in text


@pytest.mark.usefixtures("restore_root_logger")
def test_setup_replaces_earlier_handlers(tmp_path: Path) -> None:
    with (tmp_path / "a").open("w") as a, (tmp_path / "b").open("w") as b:
        setup_logging(stream=a, environ={})
        handler = setup_logging(stream=b, environ={})
        assert logging.getLogger().handlers == [handler]


def test_journal_stream_must_be_our_stderr(tmp_path: Path) -> None:
    with (tmp_path / "a").open("w") as a, (tmp_path / "b").open("w") as b:
        assert running_under_journald(a, _journal_env(a))
        assert not running_under_journald(a, _journal_env(b))  # inherited, redirected
        assert not running_under_journald(a, {})
        assert not running_under_journald(a, {"JOURNAL_STREAM": "garbage"})
