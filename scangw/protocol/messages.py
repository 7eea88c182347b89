"""Payloads of protocol v1 (docs/protocol.md; JSON schemas in docs/schemas/).

Every payload is a JSON object with ``"v": 1``; unknown fields are refused so
a later version announces itself by its ``v``. Every registration has a unique
id the store deduplicates on, so the transport may deliver twice (QoS 1,
resends after a reconnect) while each registration takes effect once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from scangw.protocol.topics import ID_PATTERN
from scangw.sales.registration import ScanMode

SCHEMA_VERSION = 1
MAX_PAYLOAD_BYTES = 1_048_576
"""Larger messages are dropped unread by both services (and by the shipped broker config)."""
MAX_BATCH = 500
"""Most registrations, acknowledgements or lines in one message."""

TopicId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""Site, station and store ids: topic levels, so no '/', '+', '#' or spaces."""
Text = Annotated[str, StringConstraints(max_length=200)]
OrderId = Annotated[str, StringConstraints(pattern=r"^[^/#+\s]{1,64}$")]
"""Order ids become a topic level of order updates: no '/', '+', '#' or spaces."""
Serial = Annotated[str, StringConstraints(min_length=1, max_length=80)]
Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Registration(Message):
    """One accepted scan: a serial (or a not-readable blank) added or removed."""

    id: Hex32 = Field(description="Unique registration id (UUID4 hex); the store dedupes on it.")
    seq: int = Field(ge=1, description="Uplink sequence: 1, 2, 3... per station journal epoch.")
    scanner: Text
    order_id: OrderId
    line_number: int = Field(ge=1)
    item_id: Text
    mode: ScanMode
    serial: Serial | None = Field(
        description="The serial number; null for a not-readable blank (R7)."
    )
    scanned_at: datetime = Field(description="When the terminator arrived (ISO 8601, UTC).")


class RegistrationBatch(Message):
    """Station -> store on ``scangw/v1/{site}/{station}/registrations``."""

    v: Literal[1] = 1
    station: TopicId
    epoch: Hex32 = Field(description="Id of the station's journal; new when it is recreated.")
    registrations: list[Registration] = Field(min_length=1, max_length=MAX_BATCH)


class Ack(Message):
    """The store's verdict on one registration, sent again on every redelivery."""

    id: Hex32
    status: Literal["accepted", "refused"]
    reason: Text = Field(description="Stable reason code, e.g. added, duplicate_serial.")
    message: Text = Field(description="What the packer reads.")


class AckBatch(Message):
    """Store -> station on ``scangw/v1/{site}/{station}/acks``."""

    v: Literal[1] = 1
    store: TopicId
    acks: list[Ack] = Field(min_length=1, max_length=MAX_BATCH)


class StationPresence(Message):
    """Retained on ``.../{station}/presence``: birth on connect, Will when gone."""

    v: Literal[1] = 1
    station: TopicId
    status: Literal["online", "offline"]
    version: Text | None = None
    config_hash: Annotated[str, StringConstraints(max_length=64)] | None = None
    epoch: Hex32 | None = None
    last_seq: int | None = Field(None, ge=0, description="Highest uplink sequence journaled.")


class StorePresence(Message):
    """Retained on ``scangw/v1/_stores/{store}/presence``."""

    v: Literal[1] = 1
    store: TopicId
    status: Literal["online", "offline"]
    version: Text | None = None
    sites: list[TopicId] = Field(default_factory=list, max_length=MAX_BATCH)


class OrderRequest(Message):
    """Station -> store on ``.../{station}/requests`` with MQTT v5 response topic and
    correlation data; the store answers on the response topic."""

    v: Literal[1] = 1
    kind: Literal["order"] = "order"
    station: TopicId
    order_id: OrderId


class PostRequest(Message):
    """Station -> store on ``.../{station}/requests`` (like OrderRequest): post the
    order's draft packing slip (the POST command barcode)."""

    v: Literal[1] = 1
    kind: Literal["post"] = "post"
    station: TopicId
    order_id: OrderId


class PostResponse(Message):
    """Store -> station: the slip was posted, or why not (R2-R4)."""

    v: Literal[1] = 1
    store: TopicId
    order_id: OrderId
    posted: bool
    document_id: Text | None = None
    reason: Text
    message: Text


StationRequest = Annotated[OrderRequest | PostRequest, Field(discriminator="kind")]


class LineState(Message):
    """One order line as the store knows it: what is registered on its draft."""

    line_number: int = Field(ge=1)
    item_id: Text
    quantity: int = Field(ge=1)
    serials: list[Serial | None] = Field(default_factory=list, max_length=100_000)
    gtins: list[Annotated[str, StringConstraints(pattern=r"^[0-9]{14}$")]] = Field(
        default_factory=list, max_length=20,
        description="GTIN-14s of the line's item (a GS1 scan selects the line by them).")


class OrderResponse(Message):
    """Store -> station: the order's lines, or ``found: false`` with a reason."""

    v: Literal[1] = 1
    store: TopicId
    order_id: OrderId
    found: bool
    document_id: Text | None = Field(
        None, description="The draft packing slip the station registers on.")
    message: Text = ""
    lines: list[LineState] = Field(default_factory=list, max_length=MAX_BATCH)


class OrderUpdate(Message):
    """Store -> every station on ``scangw/v1/{site}/_orders/{order_id}``: the
    lines of an order that changed (another station, the office)."""

    v: Literal[1] = 1
    store: TopicId
    order_id: OrderId
    document_id: Text | None = None
    lines: list[LineState] = Field(default_factory=list, max_length=MAX_BATCH)


class ResendRequest(Message):
    """Store -> station on ``.../{station}/control``: send again from ``from_seq``."""

    v: Literal[1] = 1
    store: TopicId
    epoch: Hex32
    from_seq: int = Field(ge=1)
