"""Which database the store tests run on: SQLite and PostgreSQL, both by default.

Each PostgreSQL test session creates its own database on the server at
127.0.0.1:5432 (user postgres, trust auth; ``SCANGW_TEST_PG`` overrides the
connection string) and drops it at the end; each store in a test gets a schema
of its own in it. No server means a loud error, never a skip: scripts/setup
test installs and starts one.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

BACKENDS = ("sqlite", "postgres")
ADMIN_DSN = os.environ.get("SCANGW_TEST_PG", "host=127.0.0.1 port=5432 user=postgres")


@dataclass
class SessionPostgres:
    """One throwaway database for the session."""

    dbname: str = field(default_factory=lambda: f"scangw_test_{uuid.uuid4().hex[:12]}")

    @property
    def dsn(self) -> str:
        return f"{ADMIN_DSN} dbname={self.dbname}"

    def create(self) -> None:
        try:
            with psycopg.connect(f"{ADMIN_DSN} dbname=postgres", autocommit=True,
                                 connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{self.dbname}"')
        except psycopg.Error as exc:
            raise RuntimeError(
                f"the store tests need PostgreSQL at {ADMIN_DSN!r} and could not use it: {exc}"
                "\nRun scripts/setup test (installs and starts it), set SCANGW_TEST_PG, or"
                " run only SQLite with --store-backend=sqlite") from exc

    def drop(self) -> None:
        with psycopg.connect(f"{ADMIN_DSN} dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')


@dataclass
class StoreBackend:
    """The backend one test runs on; turns a store file name into its config."""

    name: str
    postgres: SessionPostgres | None = None
    stores: dict[Path, dict[str, Any]] = field(default_factory=dict)

    def section(self, path: Path) -> dict[str, Any]:
        """The ``store`` keys that put a store's database at ``path`` (SQLite) or
        in a schema of its own named after ``path`` (PostgreSQL)."""
        if self.postgres is None:
            return {"database": str(path)}
        schema = "s_" + hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:20]
        pg = {"dsn": self.postgres.dsn, "schema_name": schema}
        self.stores[path] = pg
        return {"postgres": pg}


CURRENT: list[StoreBackend] = [StoreBackend("sqlite")]
"""The backend of the running test (set by the ``store_backend`` fixture)."""


def current() -> StoreBackend:
    return CURRENT[-1]
