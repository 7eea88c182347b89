"""``scangw outbox``: what a station still owes the order store, and why.

Reads the station's SQLite file read-only (``mode=ro``), so it is safe while
the station runs: the journal is in WAL mode and this reader neither blocks
the writer nor changes the file. It sees what is committed, nothing more; the
broker and the store are not asked (their state is in the hint's checklist).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

STUCK_AFTER_S = 120.0
"""An entry unacknowledged for longer than this is not just in flight."""
LAST_REFUSALS = 5


class OutboxUnavailable(RuntimeError):
    """The station database cannot be read."""


@dataclass(frozen=True, slots=True)
class PendingEntry:
    seq: int
    useq: int | None
    id: str
    scanner: str
    serial: str | None
    order_id: str | None
    line_number: int | None
    mode: str | None
    scanned_at: float
    age_s: float


@dataclass(frozen=True, slots=True)
class Refusal:
    seq: int
    id: str
    serial: str | None
    order_id: str | None
    line_number: int | None
    scanned_at: float
    store_reason: str | None
    store_message: str | None


@dataclass(frozen=True, slots=True)
class OutboxReport:
    database: str
    epoch: str | None
    depth: int
    oldest: PendingEntry | None
    states: dict[str, int]
    last_useq: int
    refusals: list[Refusal] = field(default_factory=list)
    hint: str = ""
    stuck: bool = False


def _connect(db_path: Path) -> sqlite3.Connection:
    if not db_path.is_file():
        raise OutboxUnavailable(f"station database {db_path} does not exist"
                                " (check station.database in the station config)")
    uri = f"file:{urllib.parse.quote(str(db_path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        conn.execute("PRAGMA busy_timeout=2000")
        conn.execute("SELECT seq FROM journal LIMIT 1")
    except sqlite3.Error as exc:
        raise OutboxUnavailable(f"cannot read the station database {db_path}: {exc}"
                                " (is it a station's database, and readable by you?)") from exc
    return conn


def outbox_report(db_path: Path, now: float | None = None) -> OutboxReport:
    """Read the outbox of the station database at ``db_path``; never writes."""
    now = time.time() if now is None else now
    conn = _connect(db_path)
    try:
        with conn:  # one read transaction: a consistent snapshot
            states = dict(conn.execute(
                "SELECT state, COUNT(*) FROM journal GROUP BY state ORDER BY state").fetchall())
            row = conn.execute(
                "SELECT seq, useq, id, scanner, serial, order_id, line_number, mode, ts"
                " FROM journal WHERE state = 'pending' ORDER BY seq LIMIT 1").fetchone()
            refused = conn.execute(
                "SELECT seq, id, serial, order_id, line_number, ts, store_reason, store_message"
                " FROM journal WHERE state = 'refused' ORDER BY seq DESC LIMIT ?",
                (LAST_REFUSALS,)).fetchall()
            last_useq = int(conn.execute(
                "SELECT COALESCE(MAX(useq), 0) FROM journal").fetchone()[0])
            epoch_row = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
    except sqlite3.Error as exc:
        raise OutboxUnavailable(f"cannot read the outbox of {db_path}: {exc}") from exc
    finally:
        conn.close()
    oldest = None if row is None else PendingEntry(
        seq=row[0], useq=row[1], id=row[2], scanner=row[3], serial=row[4], order_id=row[5],
        line_number=row[6], mode=row[7], scanned_at=row[8], age_s=max(0.0, now - row[8]))
    depth = int(states.get("pending", 0))
    hint, stuck = why_stuck(depth, oldest)
    return OutboxReport(
        database=str(db_path), epoch=None if epoch_row is None else str(epoch_row[0]),
        depth=depth, oldest=oldest, states={str(k): int(v) for k, v in states.items()},
        last_useq=last_useq, refusals=[Refusal(*r) for r in refused], hint=hint, stuck=stuck,
    )


def why_stuck(depth: int, oldest: PendingEntry | None) -> tuple[str, bool]:
    """A plain-language reading of the outbox: (hint, whether it looks stuck)."""
    if depth == 0 or oldest is None:
        return "Nothing waits for the store: every registration is acknowledged.", False
    age = _age(oldest.age_s)
    if oldest.age_s < STUCK_AFTER_S:
        return (f"{depth} registration(s) wait for the store's acknowledgement; the oldest"
                f" is {age} old, which is normal while the store answers."), False
    return (
        f"{depth} registration(s) wait; the oldest (#{oldest.seq}, uplink #{oldest.useq},"
        f" serial {oldest.serial}) has had no acknowledgement for {age}. Check, in this"
        " order: the station's log says 'uplink: connected' (else: broker host, port, TLS"
        " files, user name and password; 'refused a subscription' means the broker's ACL);"
        " the order store runs and its log says 'listening for sites' with this site;"
        " the store's retained presence on scangw/v1/_stores/+/presence is online; the"
        " store's log has no 'dropped a message' for this station. This report reads the"
        " station's file only, so it cannot see the broker or the store."
    ), True


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def render(report: OutboxReport, as_json: bool) -> str:
    """JSON for scripts, or tables for a person (rich when installed, else plain)."""
    if as_json:
        return json.dumps(asdict(report), indent=2)
    try:
        return render_rich(report)
    except ImportError:
        return render_plain(report)


def render_rich(report: OutboxReport) -> str:
    """Tables for a terminal; raises ImportError without rich."""
    from rich.console import Console
    from rich.table import Table

    summary = Table(title=f"Outbox of {report.database}", show_header=False)
    summary.add_row("outbox depth", str(report.depth))
    summary.add_row("journal epoch", report.epoch or "-")
    summary.add_row("last uplink #", str(report.last_useq))
    if report.oldest is not None:
        o = report.oldest
        summary.add_row("oldest pending", f"#{o.seq} (uplink #{o.useq}) {o.serial} on"
                        f" {o.order_id} line {o.line_number}, {o.mode}")
        summary.add_row("  scanned", f"{_when(o.scanned_at)} ({_age(o.age_s)} ago)")
        summary.add_row("  id", o.id)
    for state, count in report.states.items():
        summary.add_row(f"state {state}", str(count))
    console = Console(width=110, record=True, force_terminal=False)
    with console.capture() as captured:
        console.print(summary)
        if report.refusals:
            refusals = Table(title="Late refusals (newest first)")
            for column in ("#", "serial", "order", "line", "store reason", "store message"):
                refusals.add_column(column)
            for r in report.refusals:
                refusals.add_row(str(r.seq), r.serial or "(not readable)", r.order_id or "-",
                                 str(r.line_number), r.store_reason or "-",
                                 r.store_message or "-")
            console.print(refusals)
        console.print(("STUCK: " if report.stuck else "") + report.hint, markup=False)
    return captured.get().rstrip()


def render_plain(report: OutboxReport) -> str:
    lines = [f"station database  {report.database}",
             f"journal epoch     {report.epoch or '-'}  (last uplink #{report.last_useq})",
             f"outbox depth      {report.depth}"]
    if report.oldest is not None:
        o = report.oldest
        lines.append(f"oldest pending    #{o.seq} (uplink #{o.useq}) {o.serial} on {o.order_id}"
                     f" line {o.line_number}, scanned {_when(o.scanned_at)},"
                     f" {_age(o.age_s)} ago")
    lines.append("journal states    " + (", ".join(f"{k} {v}" for k, v in
                                                   report.states.items()) or "empty"))
    if report.refusals:
        lines.append("late refusals (newest first):")
        lines += [f"  #{r.seq} {r.serial} on {r.order_id} line {r.line_number}:"
                  f" {r.store_reason}: {r.store_message}" for r in report.refusals]
    lines.append(("STUCK: " if report.stuck else "") + report.hint)
    return "\n".join(lines)


def run(config_path: Path, as_json: bool) -> int:
    """``scangw outbox --config FILE [--json]``: 0 when the outbox is moving, 2 when it
    looks stuck (for monitoring), 1 when the config or the database cannot be read."""
    from gateway.config import StationConfig
    from scangw.configfile import ConfigError, load

    try:
        config = load(StationConfig, config_path)
        report = outbox_report(config.station.database)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    except OutboxUnavailable as exc:
        print(f"scangw outbox: {exc}", file=sys.stderr)
        return 1
    print(render(report, as_json))
    return 2 if report.stuck else 0
