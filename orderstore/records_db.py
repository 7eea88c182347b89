"""Store the sales ledger's records: one table per record type, one column per field.

The mapping is derived from the dataclasses in ``scangw.sales.records``, so a
field added there becomes a column here (``migrate`` adds missing columns).
R17 is also enforced by the database itself: a partial unique index allows one
live sale registration per item and serial.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import types
import typing
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Any

from scangw.sales.records import RECORD_TYPES, Record

TABLE_PREFIX = "sales_"
_KEYS: dict[type[Any], tuple[str, ...]] = {}


def table_name(kind: type[Any]) -> str:
    return TABLE_PREFIX + "".join(f"_{c.lower()}" if c.isupper() else c
                                  for c in kind.__name__).lstrip("_")


def _fields(kind: type[Any]) -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(kind))


def _hints(kind: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _key_columns(kind: type[Any]) -> tuple[str, ...]:
    if kind not in _KEYS:
        names = [f.name for f in _fields(kind)]
        _KEYS[kind] = ("id",) if "id" in names else tuple(names[:2])
    return _KEYS[kind]


def _base(annotation: Any) -> Any:
    """``X | None`` -> X."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0]
    return annotation


def _sql_type(annotation: Any) -> str:
    base = _base(annotation)
    if base in (int, bool):
        return "INTEGER"
    return "TEXT"


def create_tables(conn: sqlite3.Connection) -> None:
    """Create the record tables (and columns added since) if they are missing."""
    for kind in RECORD_TYPES:
        table = table_name(kind)
        hints = _hints(kind)
        columns = ", ".join(f"{f.name} {_sql_type(hints[f.name])}" for f in _fields(kind))
        key = ", ".join(_key_columns(kind))
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns}, PRIMARY KEY ({key}))")
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for f in _fields(kind):
            if f.name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {f.name} {_sql_type(hints[f.name])}")
    registrations = table_name(RECORD_TYPES[-1])
    conn.execute(
        f"CREATE UNIQUE INDEX IF NOT EXISTS {registrations}_live_sale ON {registrations}"
        "(item_id, serial) WHERE status = 'live' AND document_kind = 'packing_slip'"
        " AND serial IS NOT NULL")
    conn.execute(f"CREATE INDEX IF NOT EXISTS {registrations}_serial ON {registrations}(serial)")


def _to_column(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return json.dumps(list(value))
    if isinstance(value, bool):
        return int(value)
    return value


def _from_column(annotation: Any, value: Any) -> Any:
    if value is None:
        return None
    base = _base(annotation)
    if base is bool:
        return bool(value)
    if base is date:
        return date.fromisoformat(value)
    if isinstance(base, type) and issubclass(base, StrEnum):
        return base(value)
    if typing.get_origin(base) is tuple:
        return tuple(json.loads(value))
    return value


def upsert(conn: sqlite3.Connection, records: Iterable[Record]) -> int:
    """Write records (later rows win); returns how many were written."""
    count = 0
    for record in records:
        kind = type(record)
        names = [f.name for f in _fields(kind)]
        values = [_to_column(getattr(record, n)) for n in names]
        conn.execute(
            f"INSERT OR REPLACE INTO {table_name(kind)} ({', '.join(names)})"
            f" VALUES ({', '.join('?' * len(names))})", values)
        count += 1
    return count


def load_all(conn: sqlite3.Connection) -> list[Record]:
    """Every stored record, in an order that keeps references valid."""
    records: list[Record] = []
    for kind in RECORD_TYPES:
        hints = _hints(kind)
        names = [f.name for f in _fields(kind)]
        for row in conn.execute(f"SELECT {', '.join(names)} FROM {table_name(kind)}"):
            records.append(kind(**{n: _from_column(hints[n], v)
                                   for n, v in zip(names, row, strict=True)}))
    return records
