"""SD-card care: journal rows the store has settled are deleted after a while, so
the station's database stops growing; freed pages are reused by new scans.

Only settled rows go (confirmed, refused at the store, or local decisions) and
never the newest row, which carries the sequence numbers the station continues
from. Registrations still waiting for the store are never deleted.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from gateway.database import StationDatabase

log = logging.getLogger(__name__)

_BATCH = 5000


class RetentionConfig(BaseModel):
    """``retention:`` in the station config."""

    model_config = ConfigDict(extra="forbid")

    keep_days: float = Field(30, gt=0, description="Keep settled journal rows this long.",
                             examples=[30])
    every_s: float = Field(3600, gt=0, description="How often old rows are deleted.")


def delete_settled(before_ts: float, limit: int = _BATCH,
                   ) -> Callable[[sqlite3.Connection], int]:
    """Job: delete up to ``limit`` settled rows older than ``before_ts``; returns how many."""

    def job(conn: sqlite3.Connection) -> int:
        cur = conn.execute(
            "DELETE FROM journal WHERE seq IN (SELECT seq FROM journal"
            " WHERE ts < ? AND state != 'pending'"
            " AND seq < (SELECT MAX(seq) FROM journal) ORDER BY seq LIMIT ?)",
            (before_ts, limit))
        return int(cur.rowcount)

    return job


async def prune(db: StationDatabase, keep_days: float, now: float | None = None) -> int:
    """Delete every settled row older than ``keep_days``, in small transactions."""
    cutoff = (time.time() if now is None else now) - keep_days * 86400
    total = 0
    while True:
        deleted = await db.run(delete_settled(cutoff))
        total += deleted
        if deleted < _BATCH:
            break
    if total:
        log.info("retention: deleted %d settled journal row(s) older than %g day(s)",
                 total, keep_days)
    return total


async def keep_pruning(db: StationDatabase, config: RetentionConfig) -> None:
    """Forever: prune, then sleep ``every_s``."""
    while True:
        try:
            await prune(db, config.keep_days)
        except (sqlite3.Error, OSError) as exc:
            log.warning("retention: could not delete old journal rows: %s", exc)
        await asyncio.sleep(config.every_s)
