"""Log lines people and machines can read, and scanned data that cannot hurt a terminal.

Under systemd, stderr is a stream into journald (``JOURNAL_STREAM`` names it):
lines then carry no timestamp (the journal adds one) and start with ``<N>``, the
syslog priority, so ``journalctl -p warning`` works. Elsewhere lines go to stderr
with a timestamp. Each line is ``key=value`` pairs (logfmt) or one JSON object.

A scanner is an input device anyone can point at a crafted barcode: its payload
may hold ESC sequences that retitle, clear or reprogram a terminal reading the
log. Everything scanned goes through :func:`escape_scan` before it is logged.
"""

from __future__ import annotations

import json as jsonlib
import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

__all__ = ["JsonFormatter", "KeyValueFormatter", "escape_scan", "running_under_journald",
           "setup_logging", "syslog_priority"]

_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_scan(data: bytes | str, limit: int | None = None) -> str:
    """Printable ASCII only: ``\\``, control, DEL, C1 and non-ASCII become escapes.

    Bytes become ``\\xNN``; text characters beyond ASCII become ``\\xNN``,
    ``\\uNNNN`` or ``\\UNNNNNNNN``; ``\\n \\r \\t \\\\`` keep their short forms.
    Distinct inputs give distinct outputs (Python's escape decoders invert it).
    ``limit`` cuts the input after that many bytes/characters and says how many
    more there were.
    """
    more = 0
    if limit is not None and len(data) > limit:
        more = len(data) - limit
        data = data[:limit]
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    out = "".join(_escape_char(ch) for ch in text)
    if more:
        unit = "byte(s)" if isinstance(data, bytes) else "character(s)"
        out += f"...({more} more {unit})"
    return out


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if 0x20 <= code < 0x7F:
        return "\\\\" if ch == "\\" else ch
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def syslog_priority(levelno: int) -> int:
    """The syslog priority journald expects in a ``<N>`` prefix."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


def running_under_journald(
    stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> bool:
    """True when ``stream`` (default stderr) is the journal stream systemd gave us.

    ``JOURNAL_STREAM`` is ``device:inode`` of that stream; comparing it with the
    actual file keeps a child process whose stderr was redirected from lying.
    """
    env = os.environ if environ is None else environ
    value = env.get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    target = sys.stderr if stream is None else stream
    try:
        st = os.fstat(target.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (int(device), int(inode))


# LogRecord attributes that are not extra fields (logging's own bookkeeping).
_RECORD_KEYS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_KEYS and k[0] != "_"}


class _StructuredFormatter(logging.Formatter):
    def __init__(self, journald: bool) -> None:
        super().__init__()
        self.journald = journald

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if not self.journald:
            local = time.localtime(record.created)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", local)
            fields["time"] = f"{stamp}.{int(record.msecs):03d}{time.strftime('%z', local)}"
        fields["level"] = record.levelname.lower()
        fields["logger"] = record.name
        fields["msg"] = record.getMessage()
        for key, value in _extras(record).items():
            fields.setdefault(key, value)  # an extra named like a core field loses
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        return fields

    def prefix(self, record: logging.LogRecord) -> str:
        return f"<{syslog_priority(record.levelno)}>" if self.journald else ""


class KeyValueFormatter(_StructuredFormatter):
    """``level=info logger=gateway msg="station ready" scanners=2``: one line, always."""

    def format(self, record: logging.LogRecord) -> str:
        pairs = (f"{key}={_logfmt_value(value)}" for key, value in self.fields(record).items())
        return self.prefix(record) + " ".join(pairs)


class JsonFormatter(_StructuredFormatter):
    """One JSON object per line; non-JSON values are written with ``str``."""

    def format(self, record: logging.LogRecord) -> str:
        body = jsonlib.dumps(self.fields(record), default=str, ensure_ascii=True)
        return self.prefix(record) + body


def _logfmt_value(value: Any) -> str:
    """Bare when safe, else quoted; control and invisible characters always escaped.

    Printable non-ASCII text (names, umlauts) stays readable; what could end the
    line, drive a terminal or hide text (C0/C1 controls, DEL, bidi overrides,
    line separators) is escaped the way :func:`escape_scan` does it.
    """
    text = value if isinstance(value, str) else str(value)
    escaped = "".join(
        ch if ch.isprintable() and ch != "\\" else _escape_char(ch) for ch in text
    )
    if escaped and escaped == text and not any(c in text for c in ' "='):
        return text
    return '"' + escaped.replace('"', '\\"') + '"'


def setup_logging(
    verbose: bool = False,
    json: bool = False,
    *,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> logging.Handler:
    """Configure the root logger once for a ``scangw`` command; returns the handler.

    ``verbose`` logs debug lines, otherwise info and above. Replaces handlers
    that an earlier call (or ``basicConfig``) installed.
    """
    target = sys.stderr if stream is None else stream
    journald = running_under_journald(target, environ)
    handler = logging.StreamHandler(target)
    formatter = JsonFormatter(journald) if json else KeyValueFormatter(journald)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return handler
