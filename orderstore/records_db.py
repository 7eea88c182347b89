"""Store the sales ledger's records: one table per record type, one column per field.

The mapping is derived from the dataclasses in ``scangw.sales.records``, so a
field added there becomes a column here (``sync_record_tables`` adds missing
columns). Every row also carries the store ``revision`` it was written at, so
another store instance can fetch just what changed (``load_since``).
R17 is also enforced by the database itself: a partial unique index allows one
live sale registration per item and serial, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Any

from orderstore.backends import LIVE_SALE_INDEX, LIVE_SALE_TABLE, Backend
from scangw.sales.records import RECORD_TYPES, Record

TABLE_PREFIX = "sales_"
_KEYS: dict[type[Any], tuple[str, ...]] = {}


def table_name(kind: type[Any]) -> str:
    return TABLE_PREFIX + "".join(f"_{c.lower()}" if c.isupper() else c
                                  for c in kind.__name__).lstrip("_")


def _fields(kind: type[Any]) -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(kind))


def field_names(kind: type[Any]) -> tuple[str, ...]:
    """The columns of a record type's table, in field order."""
    return tuple(f.name for f in _fields(kind))


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


def _columns(kind: type[Any]) -> str:
    hints = _hints(kind)
    return ", ".join(f"{f.name} {_sql_type(hints[f.name])}" for f in _fields(kind))


RECORD_TABLES: tuple[str, ...] = tuple(table_name(kind) for kind in RECORD_TYPES)
assert table_name(RECORD_TYPES[-1]) == LIVE_SALE_TABLE


def create_record_tables(db: Backend) -> None:
    """The record tables and their indexes, as of schema version 1."""
    for kind in RECORD_TYPES:
        key = ", ".join(_key_columns(kind))
        db.execute(f"CREATE TABLE IF NOT EXISTS {table_name(kind)} ({_columns(kind)},"
                   f" PRIMARY KEY ({key}))")
    sync_record_tables(db)
    registrations = table_name(RECORD_TYPES[-1])
    db.execute(
        f"CREATE UNIQUE INDEX IF NOT EXISTS {LIVE_SALE_INDEX} ON {registrations}"
        "(item_id, serial) WHERE status = 'live' AND document_kind = 'packing_slip'"
        " AND serial IS NOT NULL")
    db.execute(f"CREATE INDEX IF NOT EXISTS {registrations}_serial ON {registrations}(serial)")
    db.execute(f"CREATE INDEX IF NOT EXISTS {registrations}_order ON {registrations}(order_id)")


def sync_record_tables(db: Backend) -> None:
    """Add the columns records gained since their table was made."""
    for kind in RECORD_TYPES:
        table = table_name(kind)
        hints = _hints(kind)
        have = db.columns(table)
        for f in _fields(kind):
            if f.name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {f.name} {_sql_type(hints[f.name])}")


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


def upsert(db: Backend, records: Iterable[Record], revision: int) -> int:
    """Write records (later rows win) at ``revision``; returns how many were written."""
    latest: dict[tuple[type[Any], Any], Record] = {}
    for record in records:
        latest[(type(record), record.key)] = record
    # Rows that stop being live first, so a serial moving between registrations
    # in one transaction never trips the unique index halfway (statements are
    # checked one at a time).
    for record in sorted(latest.values(), key=lambda r: getattr(r, "live", False)):
        kind = type(record)
        names = [f.name for f in _fields(kind)]
        values = [_to_column(getattr(record, n)) for n in names]
        db.execute(db.upsert_sql(table_name(kind), [*names, "revision"], _key_columns(kind)),
                   [*values, revision])
    return len(latest)


def load_all(db: Backend) -> list[Record]:
    """Every stored record, in an order that keeps references valid."""
    return load_since(db, None)


def load_since(db: Backend, revision: int | None) -> list[Record]:
    """Records written after ``revision`` (every record for None), in an order
    that keeps references valid."""
    records: list[Record] = []
    for kind in RECORD_TYPES:
        hints = _hints(kind)
        names = [f.name for f in _fields(kind)]
        sql = f"SELECT {', '.join(names)} FROM {table_name(kind)}"
        args: tuple[int, ...] = ()
        if revision is not None:
            sql, args = sql + " WHERE revision > ?", (revision,)
        for row in db.execute(sql, args):
            records.append(kind(**{n: _from_column(hints[n], v)
                                   for n, v in zip(names, row, strict=True)}))
    return records
