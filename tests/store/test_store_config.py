"""Choosing the database in the store config, and ``scangw store migrate``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from orderstore.admin import add_store_tools
from orderstore.backends import PostgresBackend, SqliteBackend, StoreUnavailable, open_backend
from orderstore.config import PostgresSection, StoreSection
from orderstore.migrations import MIGRATIONS
from tests import store_backends
from tests.store_backends import SessionPostgres, StoreBackend

SECRET = "s3cret-never-shown"  # noqa: S105 - a test value that must never show up


def test_sqlite_is_the_default_and_postgres_is_chosen_by_its_section(tmp_path: Path) -> None:
    default = StoreSection.model_validate({"sites": ["a"], "database": tmp_path / "x.db"})
    db = open_backend(default)
    assert isinstance(db, SqliteBackend)
    db.close()
    assert StoreSection.model_validate({"sites": ["a"]}).postgres is None


@pytest.mark.parametrize(("pg", "message"), [
    ({"dsn": "host=a", "host": "a"}, "dsn or store.postgres.host, not both"),
    ({}, "needs dsn or host"),
    ({"host": "a", "password_file": "/x", "password_env": "X"}, "not both"),
    ({"host": "a", "schema_name": "Bad Name"}, "should match pattern"),
])
def test_a_contradictory_postgres_section_says_what_to_fix(pg: dict[str, str],
                                                          message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StoreSection.model_validate({"sites": ["a"], "postgres": pg})


def test_a_missing_password_variable_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCANGW_NO_SUCH_PW", raising=False)
    section = PostgresSection(host="127.0.0.1", password_env="SCANGW_NO_SUCH_PW")  # noqa: S106
    with pytest.raises(StoreUnavailable, match="SCANGW_NO_SUCH_PW, which is not set"):
        PostgresBackend(section)


def test_a_refused_login_never_shows_the_password(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                  ) -> None:
    secret = tmp_path / "pw"
    secret.write_text(SECRET + "\n")
    section = PostgresSection(host="127.0.0.1", dbname="scangw_no_such_db",
                              user="scangw_no_such_user", password_file=secret)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StoreUnavailable, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1"
                       r":5432/scangw_no_such_db") as failure:
        PostgresBackend(section)
    assert SECRET not in str(failure.value)
    assert SECRET not in repr(section)
    assert SECRET not in caplog.text


def _parser() -> argparse.ArgumentParser:
    """As ``scangw.cli`` wires it: the tools sit under ``scangw store``."""
    parser = argparse.ArgumentParser(prog="scangw")
    sub = parser.add_subparsers(dest="command", required=True)
    store = sub.add_parser("store")
    store.add_argument("--config", type=Path)
    add_store_tools(store)
    return parser


@pytest.mark.usefixtures("store_backend")
def test_store_migrate_brings_the_schema_up_to_date_once(
        tmp_path: Path, store_backend: StoreBackend, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "store.yaml"
    config.write_text(yaml.safe_dump({"store": {
        "sites": ["dc-1"], **store_backend.section(tmp_path / "store.db")}}))
    args = _parser().parse_args(["store", "migrate", "--config", str(config)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert [f"applied migration {m.version}: {m.name}" for m in MIGRATIONS] == \
        out.splitlines()[:len(MIGRATIONS)]
    assert args.func(args) == 0
    assert capsys.readouterr().out == (
        f"store database up to date at schema version {MIGRATIONS[-1].version}"
        f" (latest {MIGRATIONS[-1].version})\n")


def test_store_migrate_with_a_bad_config_fails_clearly(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "store.yaml"
    config.write_text("store: {sites: [dc-1], postgres: {dsn: x, host: y}}\n")
    args = _parser().parse_args(["store", "migrate", "--config", str(config)])
    assert args.func(args) == 1
    assert "not both" in capsys.readouterr().err


def test_no_postgresql_for_the_tests_is_a_loud_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never a silent skip: the session fixture fails and says how to get one."""
    monkeypatch.setattr(store_backends, "ADMIN_DSN", "host=127.0.0.1 port=1 user=postgres")
    with pytest.raises(RuntimeError, match=r"(?s)need PostgreSQL .*Run scripts/setup test"):
        SessionPostgres().create()
