"""``scangw store export``: registrations and posted documents as CSV or JSON.

Rows are streamed from the database a chunk at a time (a server-side cursor on
PostgreSQL), so an export of millions of registrations needs little memory;
a rich progress bar per file shows how far it is. One file per kind; the
columns are the record fields (``scangw.sales.records``), so ``scangw store
import`` and ``scangw orders import`` read the master data the same way.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from orderstore.backends import Backend
from orderstore.records_db import field_names, table_name
from scangw.sales.records import Invoice, InvoiceLine, PackingSlip, PackingSlipLine, Registration

_POSTED_SLIPS = "status IN ('posted', 'cancelled', 'corrected')"
_STATION_COLUMNS = ("id", "site", "station", "epoch", "seq", "scanner", "order_id",
                    "line_number", "item_id", "mode", "serial", "scanned_at", "received_at",
                    "document_id", "status", "reason", "message")


@dataclass(frozen=True)
class ExportKind:
    """One output file: its name, columns and the rows that go in it."""

    name: str
    columns: tuple[str, ...]
    table: str
    where: str = ""
    order: str = ""

    def sql(self, what: str) -> str:
        cols = ", ".join(f"t.{c}" for c in self.columns) if what == "rows" else "COUNT(*)"
        sql = f"SELECT {cols} FROM {self.table} t"
        if self.where:
            sql += f" WHERE {self.where}"
        if what == "rows" and self.order:
            sql += f" ORDER BY {self.order}"
        return sql


def _slip_child(child: str) -> str:
    return (f"t.{child} IN (SELECT id FROM {table_name(PackingSlip)} WHERE {_POSTED_SLIPS})")


EXPORTS: tuple[ExportKind, ...] = (
    ExportKind("registrations", field_names(Registration), table_name(Registration),
               order="t.document_id, t.line_number, t.id"),
    ExportKind("station_registrations", _STATION_COLUMNS, "station_registrations",
               order="t.site, t.station, t.epoch, t.seq"),
    ExportKind("packing_slips", field_names(PackingSlip), table_name(PackingSlip),
               where=_POSTED_SLIPS.replace("status", "t.status"), order="t.id"),
    ExportKind("packing_slip_lines", field_names(PackingSlipLine), table_name(PackingSlipLine),
               where=_slip_child("slip_id"), order="t.slip_id, t.line_number"),
    ExportKind("invoices", field_names(Invoice), table_name(Invoice),
               where="t.status = 'posted'", order="t.id"),
    ExportKind("invoice_lines", field_names(InvoiceLine), table_name(InvoiceLine),
               where=f"t.invoice_id IN (SELECT id FROM {table_name(Invoice)}"
               " WHERE status = 'posted')", order="t.invoice_id, t.line_number"),
)

Writer = Callable[[TextIO, tuple[str, ...], Iterator[tuple[Any, ...]]], None]


def _write_csv(out: TextIO, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> None:
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])


def _write_json(out: TextIO, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> None:
    out.write("[")
    for n, row in enumerate(rows):
        out.write(",\n " if n else "\n ")
        out.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False))
    out.write("\n]\n")


WRITERS: dict[str, Writer] = {"csv": _write_csv, "json": _write_json}


def export(db: Backend, out_dir: Path, fmt: str, *, progress: Progress | None = None,
           ) -> dict[str, int]:
    """Write every export file into ``out_dir``; returns rows written per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for kind in EXPORTS:
        count_row = db.one(kind.sql("count"))
        total = int(count_row[0]) if count_row else 0
        task = progress.add_task(kind.name, total=total) if progress is not None else None
        counted = 0

        def rows(kind: ExportKind = kind, task: Any = task) -> Iterator[tuple[Any, ...]]:
            nonlocal counted
            for row in db.stream(kind.sql("rows")):
                counted += 1
                if progress is not None and counted % 500 == 0:
                    progress.update(task, completed=counted)
                yield row

        path = out_dir / f"{kind.name}.{fmt}"
        with path.open("w", encoding="utf-8", newline="") as out:
            WRITERS[fmt](out, kind.columns, rows())
        if progress is not None and task is not None:
            progress.update(task, completed=counted, total=max(total, counted))
        written[kind.name] = counted
    return written


def progress_bar(console: Console | None = None) -> Progress:
    return Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)
