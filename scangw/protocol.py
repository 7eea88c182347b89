"""The wire protocol between stations and the order store (docs/protocol.md).

Both services import this module and nothing else about each other. Every
payload is JSON with a schema version ``v``; every registration has a unique id
the store deduplicates on, so the transport may deliver twice (QoS 1, resends
after a reconnect) while each registration takes effect once.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from scangw.sales.registration import ScanMode

SCHEMA_VERSION = 1
TOPIC_ROOT = "scangw/v1"
MAX_PAYLOAD_BYTES = 1_048_576
"""Larger messages are dropped unread by both services."""
MAX_BATCH = 500
"""Most registrations (or acks) in one message."""

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
TopicId = Annotated[str, StringConstraints(pattern=_ID_PATTERN)]
"""Site and station ids: they are topic levels, so no '/', '+', '#' or spaces."""
Text = Annotated[str, StringConstraints(max_length=200)]


def is_topic_id(value: str) -> bool:
    return re.fullmatch(_ID_PATTERN, value) is not None


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Registration(_Message):
    """One accepted scan: a serial (or a not-readable blank) added or removed."""

    id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] = Field(
        description="Unique registration id (UUID4 hex); the store deduplicates on it."
    )
    seq: int = Field(ge=1, description="The station's journal sequence number.")
    scanner: Text
    order_id: Text
    line_number: int = Field(ge=1)
    item_id: Text
    mode: ScanMode
    serial: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = Field(
        description="The serial number; null for a not-readable blank (R7)."
    )
    scanned_at: datetime = Field(description="When the terminator arrived (UTC, ISO 8601).")


class RegistrationBatch(_Message):
    """Station -> store on ``scangw/v1/{site}/{station}/registrations``."""

    v: Literal[1] = 1
    station: TopicId
    registrations: list[Registration] = Field(min_length=1, max_length=MAX_BATCH)


class Ack(_Message):
    """The store's verdict on one registration, sent again on every redelivery."""

    id: str
    status: Literal["accepted", "refused"]
    reason: Text = Field(description="Stable reason code, e.g. added, duplicate_serial.")
    message: Text = Field(description="What the packer reads.")


class AckBatch(_Message):
    """Store -> station on ``scangw/v1/{site}/{station}/acks``."""

    v: Literal[1] = 1
    store: TopicId
    acks: list[Ack] = Field(min_length=1, max_length=MAX_BATCH)


def registrations_topic(site: str, station: str) -> str:
    return f"{TOPIC_ROOT}/{site}/{station}/registrations"


def acks_topic(site: str, station: str) -> str:
    return f"{TOPIC_ROOT}/{site}/{station}/acks"


def station_from_topic(topic: str) -> tuple[str, str] | None:
    """``(site, station)`` of a station topic, or None if it is not one."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != TOPIC_ROOT:
        return None
    return parts[2], parts[3]
