"""Shared fixtures: a real Mosquitto per test session, ptys as serial scanners."""

from __future__ import annotations

import contextlib
import os
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig
from tests import store_backends
from tests.store_backends import BACKENDS, SessionPostgres, StoreBackend


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--store-backend", choices=[*BACKENDS, "both"], default="both",
                     help="database the order store tests run on (default: both)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    fixed = any("store_backend" in str(m.args[0])
                for m in metafunc.definition.iter_markers("parametrize"))
    if "store_backend" in metafunc.fixturenames and not fixed:
        chosen = metafunc.config.getoption("--store-backend")
        metafunc.parametrize("store_backend", BACKENDS if chosen == "both" else [chosen],
                             indirect=True)


@pytest.fixture(scope="session")
def test_postgres() -> Iterator[SessionPostgres]:
    """A database of this session's own on the test PostgreSQL, dropped after."""
    pg = SessionPostgres()
    pg.create()
    yield pg
    pg.drop()


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> Iterator[StoreBackend]:
    """The store database of this test: SQLite, or PostgreSQL (a schema per store)."""
    name = request.param
    pg = request.getfixturevalue("test_postgres") if name == "postgres" else None
    backend = StoreBackend(name, pg)
    store_backends.CURRENT.append(backend)
    yield backend
    store_backends.CURRENT.remove(backend)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A real mosquitto on a free port for the whole session. Never skipped: a
    missing binary is an error (the test command installs it)."""
    broker = LocalBroker(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def broker_config(mosquitto: LocalBroker) -> BrokerConfig:
    return BrokerConfig(host=mosquitto.host, port=mosquitto.port)


class Pty:
    """A pseudo-terminal: tests write to ``master``; the driver opens ``path``."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def pty_pair() -> Iterator[Pty]:
    p = Pty()
    yield p
    p.close()


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
