"""A throwaway PostgreSQL database per benchmark run, dropped afterwards even
on failure. Its name is also listed in the scenario's temp dir (``LEDGER``)
before it is created, so that when the runner kills an overrunning scenario,
``sweep`` drops what the scenario could not.

The server is the one the store tests use: 127.0.0.1:5432, user postgres,
trust auth; ``SCANGW_BENCH_PG`` overrides the connection string (no dbname).
Connecting is bounded (``connect_timeout``), so an unreachable server makes the
figure null with the reason instead of hanging the run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

ADMIN_DSN = os.environ.get("SCANGW_BENCH_PG", "host=127.0.0.1 port=5432 user=postgres")
CONNECT_TIMEOUT_S = 5
LEDGER = "postgres-databases.txt"


class PostgresUnavailable(RuntimeError):
    """The benchmark cannot create its database; the message says where and why."""


def admin_connect(dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(f"{ADMIN_DSN} dbname={dbname}", autocommit=True,
                           connect_timeout=CONNECT_TIMEOUT_S)


@contextlib.contextmanager
def fresh_database(prefix: str = "scangw_bench") -> Iterator[str]:
    """Create a database of a unique name; yield its connection string; drop it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    ledger = Path(tempfile.gettempdir()) / LEDGER
    with ledger.open("a") as listed:
        listed.write(name + "\n")
    try:
        with admin_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        _forget(ledger, name)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PostgresUnavailable(
            f"PostgreSQL at {ADMIN_DSN!r} is not usable: {first} (start it, or set"
            " SCANGW_BENCH_PG)") from exc
    try:
        yield f"{ADMIN_DSN} dbname={name}"
    finally:
        if drop(name):
            _forget(ledger, name)


def drop(name: str) -> bool:
    """Drop a database, even with connections left; False (and why on stderr) if not."""
    try:
        with admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error as exc:
        print(f"bench: could not drop database {name}: {exc}; drop it by hand",
              file=sys.stderr)
        return False
    return True


def _forget(ledger: Path, name: str) -> None:
    left = [n for n in ledger.read_text().split() if n != name]
    if left:
        ledger.write_text("".join(n + "\n" for n in left))
    else:
        ledger.unlink()


def sweep(workdir: Path) -> None:
    """Drop every database a (killed) scenario in ``workdir`` listed."""
    ledger = workdir / LEDGER
    if ledger.exists():
        for name in sorted(set(ledger.read_text().split())):
            drop(name)
