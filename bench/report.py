"""Budgets, and the two ways to show a run: a table for people, JSON for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

from bench.results import Figure


@dataclass(frozen=True)
class Budget:
    key: str
    label: str
    limit: float | None
    at_most: bool
    """True: the figure must be <= limit; False: >= limit."""

    def verdict(self, value: Figure) -> str:
        if self.limit is None:
            return "-"
        if value is None:
            return "n/a"
        ok = value <= self.limit if self.at_most else value >= self.limit
        return "ok" if ok else "MISS"

    def shown(self) -> str:
        if self.limit is None:
            return "-"
        return f"{'<=' if self.at_most else '>='} {self.limit:g}"


BUDGETS: tuple[Budget, ...] = (
    Budget("decision_p50_ms", "decision p50 (ms)", 0.5, True),
    Budget("decision_p99_ms", "decision p99 (ms)", 2, True),
    Budget("confirm_p50_ms", "confirm p50 (ms)", 3, True),
    Budget("confirm_p99_ms", "confirm p99 (ms)", 10, True),
    Budget("burst_scans_per_s", "burst (scans/s)", 2000, False),
    Budget("burst_lost", "burst lost", 0, True),
    Budget("burst_misframed", "burst misframed", 0, True),
    Budget("drain_per_s", "outbox drain (/s)", 5000, False),
    Budget("store_ingest_per_s", "store ingest, SQLite (/s)", 10000, False),
    Budget("store_ingest_pg_scaling", "store ingest, PostgreSQL 2 stores / 1", 1.6, False),
    Budget("idle_rss_mb", "idle RSS (MB)", 45, True),
    Budget("startup_s", "startup (s)", 1.0, True),
    Budget("disk_bytes_per_scan", "disk bytes per scan", 8192, True),
    Budget("baseline_ratio", "burst / naive baseline", None, False),
)

KEYS = tuple(b.key for b in BUDGETS)


def print_json(figures: dict[str, Figure], why: dict[str, str]) -> None:
    """Exactly the budget keys on stdout; reasons for nulls on stderr."""
    print(json.dumps({k: figures.get(k) for k in KEYS}))
    for key, reason in why.items():
        print(f"{key}: null because {reason}", file=sys.stderr)


def print_table(figures: dict[str, Figure], why: dict[str, str], notes: list[str]) -> None:
    rows = [(b.label, _fmt(figures.get(b.key)), b.shown(), b.verdict(figures.get(b.key)),
             why.get(b.key, "")) for b in BUDGETS]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        _plain(rows, notes)
        return
    table = Table(title="scangw benchmark")
    for column in ("figure", "measured", "budget", "", "why null"):
        table.add_column(column, overflow="fold")
    for label, value, budget, verdict, reason in rows:
        style = "red" if verdict == "MISS" else None
        table.add_row(label, value, budget, verdict, reason, style=style)
    console = Console()
    console.print(table)
    for note in notes:
        console.print(f"- {note}", highlight=False)


def _plain(rows: list[tuple[str, str, str, str, str]], notes: list[str]) -> None:
    emit: Callable[[str], None] = print
    emit(f"{'figure':<34} {'measured':>10} {'budget':>9}  {'':4} why null")
    for label, value, budget, verdict, reason in rows:
        emit(f"{label:<34} {value:>10} {budget:>9}  {verdict:<4} {reason}")
    for note in notes:
        emit(f"- {note}")


def _fmt(value: Figure) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"
