"""Fixtures of the fault tests: a broker of their own, which they may stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scangw.broker import LocalBroker


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A broker this test may stop and start again on the same port."""
    broker = LocalBroker(tmp_path / "broker")
    broker.start()
    yield broker
    broker.stop()
