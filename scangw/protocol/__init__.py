"""The wire protocol between stations and the order store (docs/protocol.md).

Both services import this package and nothing else about each other.
"""

from scangw.protocol.messages import (
    MAX_BATCH,
    MAX_PAYLOAD_BYTES,
    SCHEMA_VERSION,
    Ack,
    AckBatch,
    LineState,
    Message,
    OrderRequest,
    OrderResponse,
    OrderUpdate,
    PostRequest,
    PostResponse,
    Registration,
    RegistrationBatch,
    ResendRequest,
    StationPresence,
    StationRequest,
    StorePresence,
    TopicId,
)
from scangw.protocol.topics import (
    ROOT as TOPIC_ROOT,
)
from scangw.protocol.topics import (
    acks_topic,
    is_id,
    order_from_topic,
    order_topic,
    parse_station_topic,
    registrations_topic,
    station_from_topic,
    station_topic,
    store_presence_topic,
)

__all__ = [
    "MAX_BATCH",
    "MAX_PAYLOAD_BYTES",
    "SCHEMA_VERSION",
    "TOPIC_ROOT",
    "Ack",
    "AckBatch",
    "LineState",
    "Message",
    "OrderRequest",
    "OrderResponse",
    "OrderUpdate",
    "PostRequest",
    "PostResponse",
    "Registration",
    "RegistrationBatch",
    "ResendRequest",
    "StationPresence",
    "StationRequest",
    "StorePresence",
    "TopicId",
    "acks_topic",
    "is_id",
    "order_from_topic",
    "order_topic",
    "parse_station_topic",
    "registrations_topic",
    "station_from_topic",
    "station_topic",
    "store_presence_topic",
]
