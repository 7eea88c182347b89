"""MQTT topics of protocol v1 (docs/protocol.md, "Topics").

Station topics are ``scangw/v1/{site}/{station}/{kind}``. Ids never contain
'/', '+' or '#', and never start with '_', so ``_orders`` and ``_stores`` can
share the site level without colliding with a station.
"""

from __future__ import annotations

import re

ROOT = "scangw/v1"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

REGISTRATIONS = "registrations"
ACKS = "acks"
PRESENCE = "presence"
REQUESTS = "requests"
RESPONSES = "responses"
CONTROL = "control"

STATION_KINDS = (REGISTRATIONS, ACKS, PRESENCE, REQUESTS, RESPONSES, CONTROL)


def is_id(value: str) -> bool:
    return re.fullmatch(ID_PATTERN, value) is not None


def station_topic(site: str, station: str, kind: str) -> str:
    return f"{ROOT}/{site}/{station}/{kind}"


def registrations_topic(site: str, station: str) -> str:
    return station_topic(site, station, REGISTRATIONS)


def acks_topic(site: str, station: str) -> str:
    return station_topic(site, station, ACKS)


def order_topic(site: str, order_id: str) -> str:
    """Where the store announces changes to one order to every station holding it."""
    return f"{ROOT}/{site}/_orders/{order_id}"


def store_presence_topic(store_id: str) -> str:
    return f"{ROOT}/_stores/{store_id}/presence"


def parse_station_topic(topic: str) -> tuple[str, str, str] | None:
    """``(site, station, kind)`` of a station topic, or None if it is not one."""
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != ROOT or parts[4] not in STATION_KINDS:
        return None
    if not (is_id(parts[2]) and is_id(parts[3])):
        return None
    return parts[2], parts[3], parts[4]


def station_from_topic(topic: str) -> tuple[str, str] | None:
    """``(site, station)`` of a station topic, or None if it is not one."""
    parsed = parse_station_topic(topic)
    return None if parsed is None else (parsed[0], parsed[1])


def order_from_topic(topic: str) -> tuple[str, str] | None:
    """``(site, order_id)`` of an order-update topic, or None."""
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != ROOT or parts[3] != "_orders":
        return None
    return parts[2], parts[4]
