"""The station's event stream: decisions, store verdicts, scanner status.

Feedback, the console, status, metrics and a display subscribe here. A slow
subscriber never blocks the scan path: its queue is bounded and, when full,
the oldest event is dropped with a warning.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Literal

from gateway.journal import JournalEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DecisionMade:
    """The station answered a scan (after the journal commit)."""

    entry: JournalEntry
    latency_ns: int
    """From the scan's terminator to the committed decision."""
    kind: Literal["decision"] = "decision"


@dataclass(frozen=True, slots=True)
class StoreAnswered:
    """The order store acknowledged a registration: accepted, or a late refusal."""

    entry_id: str
    accepted: bool
    reason: str
    message: str
    kind: Literal["store"] = "store"


Event = DecisionMade | StoreAnswered


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[asyncio.Queue[Event]] = []

    def subscribe(self, maxsize: int = 10_000) -> asyncio.Queue[Event]:
        q: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self._subscribers.append(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[Event]) -> None:
        if q in self._subscribers:
            self._subscribers.remove(q)

    def publish(self, event: Event) -> None:
        for q in self._subscribers:
            if q.full():
                q.get_nowait()
                log.warning("event subscriber too slow: dropped its oldest event")
            q.put_nowait(event)
