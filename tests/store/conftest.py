"""Store databases on each backend (``store_backend``) for the storage tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orderstore.config import StoreSection
from orderstore.database import StoreDatabase
from tests.store_backends import StoreBackend

OpenStore = Callable[[], StoreDatabase]


@pytest.fixture
def section(tmp_path: Path, store_backend: StoreBackend) -> StoreSection:
    """The store config section of one shared database on the test's backend."""
    return StoreSection.model_validate(
        {"sites": ["dc-1"], **store_backend.section(tmp_path / "store.db")})


@pytest.fixture
def open_store(section: StoreSection) -> Iterator[OpenStore]:
    """Open another store instance (own connection, own ledger) on the database."""
    opened: list[StoreDatabase] = []

    def open_one() -> StoreDatabase:
        db = StoreDatabase(section)
        opened.append(db)
        return db

    yield open_one
    for db in opened:
        db.close()
