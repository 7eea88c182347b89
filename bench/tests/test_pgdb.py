"""The throwaway PostgreSQL database: created, dropped even when the run fails,
and an unreachable server is a prompt, explained error (the bench never hangs)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from bench import pgdb


@pytest.fixture(autouse=True)
def scenario_tmpdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The scenario's own TMPDIR, where the databases it creates are listed."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _exists(name: str) -> bool:
    with pgdb.admin_connect() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


def _fail_inside(names: list[str], left_open: list[psycopg.Connection[tuple[object, ...]]],
                 ) -> None:
    with pgdb.fresh_database() as dsn:
        names.append(dsn.rsplit("dbname=", 1)[1])
        left_open.append(psycopg.connect(dsn, autocommit=True))  # a store still connected
        left_open[0].execute("CREATE TABLE t (x int)")
        assert _exists(names[0])
        raise RuntimeError("the run failed")


def test_the_database_is_dropped_even_when_the_run_fails(scenario_tmpdir: Path) -> None:
    names: list[str] = []
    left_open: list[psycopg.Connection[tuple[object, ...]]] = []
    with pytest.raises(RuntimeError, match="the run failed"):
        _fail_inside(names, left_open)
    try:
        assert not _exists(names[0])
        assert not (scenario_tmpdir / pgdb.LEDGER).exists()  # nothing left to sweep
    finally:
        left_open[0].close()


def test_an_unreachable_server_is_reported_promptly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgdb, "ADMIN_DSN", "host=127.0.0.1 port=1 user=postgres")
    started = time.monotonic()
    with pytest.raises(pgdb.PostgresUnavailable, match="port=1"), pgdb.fresh_database():
        pytest.fail("no database without a server")
    assert time.monotonic() - started < pgdb.CONNECT_TIMEOUT_S + 2


def test_sweep_drops_what_a_killed_scenario_left(scenario_tmpdir: Path) -> None:
    killed = pgdb.fresh_database()
    name = killed.__enter__().rsplit("dbname=", 1)[1]  # never exited: as if SIGKILLed
    assert _exists(name)
    pgdb.sweep(scenario_tmpdir)
    assert not _exists(name)
