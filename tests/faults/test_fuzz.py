"""Hostile input at every parser the outside world reaches: no exception escapes,
and memory stays bounded for endless input without a terminator.

Extends tests/drivers/test_framing.py (fixed terminators), test_keydecoder.py
(typable text) and tests/station/test_decoding_properties.py (bytes, near-GS1
text) with what they leave out: custom multi-byte terminators and idle-only
framing, arbitrary key-event streams and endless Alt+keypad codes, decoder
settings, the wire models on arbitrary JSON, and the store's inbound check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.client import MQTTMessage
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import BaseModel, ValidationError

import drivers.keymaps as keys
from drivers.base import RawScan
from drivers.framing import Framer
from drivers.keyboard_wedge import KeyboardWedgeConfig, KeyboardWedgeScanner
from drivers.keydecoder import KeyDecoder
from gateway.decoding import BadRead, DecodedScan, DecoderConfig, decode
from orderstore.service import StoreService
from scangw import protocol
from scangw.mqtt import BrokerConfig
from tests.drivers.fake_evdev import Event, FakeSource, scanner_nodes
from tests.harness import make_store

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# -- framing --------------------------------------------------------------------------

terminator = st.binary(min_size=1, max_size=3)


@FUZZ
@given(terms=st.lists(terminator, min_size=1, max_size=3, unique=True),
       max_length=st.integers(1, 40),
       chunks=st.lists(st.binary(max_size=60), max_size=30))
def test_framer_with_custom_terminators_never_raises_and_stays_bounded(
    terms: list[bytes], max_length: int, chunks: list[bytes]
) -> None:
    framer = Framer(tuple(terms), max_length)
    keep = max(len(t) for t in terms) - 1
    for chunk in chunks:
        for frame in framer.feed(chunk):
            assert 0 < len(frame.data) <= max_length
            assert frame.overlong or not any(t in frame.data for t in terms)
        assert framer.pending <= max_length + keep
    for frame in framer.flush():
        assert len(frame.data) <= max_length


@FUZZ
@given(terms=st.lists(terminator, min_size=1, max_size=3, unique=True),
       max_length=st.integers(1, 64), filler=st.binary(min_size=1, max_size=50))
def test_endless_input_without_a_terminator_is_reported_once_in_bounded_memory(
    terms: list[bytes], max_length: int, filler: bytes
) -> None:
    banned = {b for t in terms for b in t}
    filler = bytes(b for b in filler if b not in banned) or bytes(
        [next(b for b in range(256) if b not in banned)])
    framer = Framer(tuple(terms), max_length)
    keep = max(len(t) for t in terms) - 1
    reported = []
    for _ in range(300):
        reported += framer.feed(filler)
        assert framer.pending <= max_length + keep
    assert [f.overlong for f in reported] == [True] * len(reported)
    assert len(reported) <= 1
    marker = filler[:1]
    frames = framer.feed(terms[0] + marker + terms[0])
    if max_length >= 3:  # room for the marker and a partial terminator before it
        assert frames
        assert frames[-1].data.endswith(marker)
        assert not frames[-1].overlong


@FUZZ
@given(max_length=st.integers(1, 64), chunks=st.lists(st.binary(max_size=80), max_size=40))
def test_idle_only_framer_holds_at_most_max_length(max_length: int,
                                                   chunks: list[bytes]) -> None:
    """A scanner without terminator: only the idle gap ends a scan."""
    framer = Framer.without_terminator(max_length)
    for chunk in chunks:
        framer.feed(chunk)
        assert framer.pending <= max_length
    frames = framer.flush()
    assert framer.pending == 0
    assert all(len(f.data) <= max_length for f in frames)


# -- key events -----------------------------------------------------------------------

event = st.tuples(
    st.sampled_from([keys.EV_KEY] * 6 + [0, 2, 4]),
    st.one_of(st.sampled_from(sorted(set(keys.KEYPAD_DIGITS) | {
        keys.KEY_LEFTALT, keys.KEY_RIGHTALT, keys.KEY_LEFTCTRL, keys.KEY_LEFTSHIFT,
        keys.KEY_CAPSLOCK, keys.KEY_ENTER, keys.KEY_TAB})), st.integers(0, 767)),
    st.sampled_from([0, 1, 1, 2, 3, -1]))


@FUZZ
@given(layout=st.sampled_from(sorted(keys.LAYOUTS)), events=st.lists(event, max_size=300),
       terminators=st.sampled_from([("enter", "kpenter"), ("tab",), ("enter",)]))
def test_any_key_event_stream_never_raises(layout: str, events: list[tuple[int, int, int]],
                                           terminators: tuple[str, ...]) -> None:
    decoder = KeyDecoder(layout, terminators, max_length=32)
    for ev in events:
        scan = decoder.feed(*ev)
        assert decoder.pending <= 32
        if scan is not None:
            assert len(scan.text) <= 32
    decoder.flush()


def _alt_keypad_digits(decoder: KeyDecoder, presses: int) -> None:
    digit = next(iter(keys.KEYPAD_DIGITS))
    decoder.feed(keys.EV_KEY, keys.KEY_LEFTALT, 1)
    for _ in range(presses):
        decoder.feed(keys.EV_KEY, digit, 1)
        decoder.feed(keys.EV_KEY, digit, 0)


def test_endless_alt_keypad_digits_keep_memory_bounded() -> None:
    """A wedge stuck with Alt down typing keypad digits (a lost key-up, a scanner in
    Alt-code mode gone wrong) must not grow memory without end."""
    decoder = KeyDecoder("us", max_length=64)
    tracemalloc.start()
    try:
        _alt_keypad_digits(decoder, 1000)
        base = tracemalloc.get_traced_memory()[0]
        _alt_keypad_digits(decoder, 50_000)
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert grown < 20_000, f"{grown} bytes held for 50,000 keypad digits under Alt"


def test_a_very_long_alt_keypad_code_is_a_bad_read_not_an_exception() -> None:
    decoder = KeyDecoder("us", max_length=64)
    _alt_keypad_digits(decoder, 5000)
    decoder.feed(keys.EV_KEY, keys.KEY_LEFTALT, 0)  # Alt up ends the code
    decoder.feed(keys.EV_KEY, keys.KEY_ENTER, 1)
    for ch in (30, 48):  # a, b
        decoder.feed(keys.EV_KEY, ch, 1)
        decoder.feed(keys.EV_KEY, ch, 0)
    scan = decoder.feed(keys.EV_KEY, keys.KEY_ENTER, 1)
    assert scan is not None
    assert scan.text == "ab"


# -- decoding -------------------------------------------------------------------------

decoder_config = st.builds(
    DecoderConfig,
    gs_substitutes=st.lists(st.sampled_from(["~", "#", "^]", "<GS>", "{FNC1}"]),
                            max_size=3, unique=True).map(tuple),
    detect_unmarked_gs1=st.booleans())


@FUZZ
@given(text=st.text(max_size=120), config=decoder_config, overlong=st.booleans(),
       prefix=st.sampled_from(["", "]C1", "]d2", "]Q3", "]e0", "]E0", "]A0", "]", "]z9",
                               "https://id.example/01/", "HTTP://x/01/09521101530001/21/"]))
def test_decode_never_raises_on_any_text_with_any_settings(
    text: str, config: DecoderConfig, overlong: bool, prefix: str
) -> None:
    raw = RawScan("gun", (prefix + text).encode("utf-8", "surrogatepass"), overlong=overlong,
                  received_ns=0)
    result = decode(raw, config)
    assert isinstance(result, DecodedScan | BadRead)
    if isinstance(result, BadRead):
        assert result.reason
        assert result.message


# -- the wire -------------------------------------------------------------------------

MODELS: list[type[BaseModel]] = sorted(
    (m for m in vars(protocol).values()
     if isinstance(m, type) and issubclass(m, protocol.Message) and m is not protocol.Message),
    key=lambda m: m.__name__)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=20)


def _example(model: type[BaseModel]) -> dict[str, Any]:
    """A valid instance of ``model`` as JSON data, to mutate."""
    hex32 = "0123456789abcdef" * 2
    reg = {"id": hex32, "seq": 1, "scanner": "gun", "order_id": "SO-1", "line_number": 1,
           "item_id": "PHONE", "mode": "add", "serial": "SN-1",
           "scanned_at": "2026-11-25T10:15:02Z"}
    line = {"line_number": 1, "item_id": "PHONE", "quantity": 2, "serials": ["SN-1", None]}
    examples: dict[str, dict[str, Any]] = {
        "Registration": reg,
        "RegistrationBatch": {"v": 1, "station": "p1", "epoch": hex32, "registrations": [reg]},
        "Ack": {"id": hex32, "status": "accepted", "reason": "added", "message": "ok"},
        "AckBatch": {"v": 1, "store": "s1", "acks": [
            {"id": hex32, "status": "refused", "reason": "x", "message": "y"}]},
        "StationPresence": {"v": 1, "station": "p1", "status": "online", "last_seq": 3},
        "StorePresence": {"v": 1, "store": "s1", "status": "offline", "sites": []},
        "OrderRequest": {"v": 1, "kind": "order", "station": "p1", "order_id": "SO-1"},
        "PostRequest": {"v": 1, "kind": "post", "station": "p1", "order_id": "SO-1"},
        "PostResponse": {"v": 1, "store": "s1", "order_id": "SO-1", "posted": False,
                         "document_id": None, "reason": "nothing_to_post", "message": "m"},
        "LineState": line,
        "OrderResponse": {"v": 1, "store": "s1", "order_id": "SO-1", "found": True,
                          "document_id": "PS-1", "message": "", "lines": [line]},
        "OrderUpdate": {"v": 1, "store": "s1", "order_id": "SO-1", "document_id": "PS-1",
                        "lines": [line]},
        "ResendRequest": {"v": 1, "store": "s1", "epoch": hex32, "from_seq": 2},
    }
    return examples[model.__name__]


def test_every_wire_model_has_a_valid_example_here() -> None:
    for model in MODELS:
        model.model_validate_json(json.dumps(_example(model)))


def _parses_or_refuses(model: type[BaseModel], payload: bytes | str) -> None:
    with contextlib.suppress(ValidationError):
        model.model_validate_json(payload)


@FUZZ
@given(model=st.sampled_from(MODELS), payload=st.binary(max_size=200))
def test_wire_models_on_arbitrary_bytes(model: type[BaseModel], payload: bytes) -> None:
    _parses_or_refuses(model, payload)


@FUZZ
@given(model=st.sampled_from(MODELS), shape=json_values)
def test_wire_models_on_arbitrary_json_shapes(model: type[BaseModel], shape: object) -> None:
    _parses_or_refuses(model, json.dumps(shape))


@FUZZ
@given(model=st.sampled_from(MODELS), data=st.data())
def test_wire_models_on_valid_messages_with_one_field_broken(
    model: type[BaseModel], data: st.DataObject
) -> None:
    message = _example(model)
    key = data.draw(st.sampled_from([*sorted(message), "extra"]))
    message[key] = data.draw(json_values)
    _parses_or_refuses(model, json.dumps(message))


# -- the store's inbound check (no broker needed) ---------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreService]:
    """A store that is never started: only its message check is exercised."""
    service = make_store(tmp_path_factory.mktemp("fuzzstore"),
                         BrokerConfig(host="127.0.0.1", port=1), "site-1")
    yield service
    service.db.close()


SUBSCRIBED = [protocol.topics.REGISTRATIONS, protocol.topics.REQUESTS,
              protocol.topics.PRESENCE]
ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,8}\Z") | st.text(max_size=10)


def _message(topic: str, payload: bytes, response_topic: str | None,
             correlation: bytes | None) -> MQTTMessage:
    message = MQTTMessage(topic=topic.encode())
    message.payload = payload
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if response_topic is not None:
        props.ResponseTopic = response_topic
    if correlation is not None:
        props.CorrelationData = correlation
    message.properties = props
    return message


def _check(store: StoreService, message: MQTTMessage) -> None:
    dropped = store.dropped
    inbound = store._check(message)
    if inbound is None:
        where = protocol.parse_station_topic(message.topic)
        cleared = (message.payload == b"" and where is not None
                   and where[0] in store.config.store.sites
                   and where[2] == protocol.topics.PRESENCE)
        assert store.dropped == dropped + (0 if cleared else 1)
    else:
        assert isinstance(inbound.message, BaseModel)
        assert getattr(inbound.message, "station", inbound.station) == inbound.station


@FUZZ
@given(site=st.sampled_from(["site-1", "site-2"]) | ids, station=ids,
       kind=st.sampled_from(SUBSCRIBED),
       payload=st.binary(max_size=120) | json_values.map(lambda v: json.dumps(v).encode()),
       response_topic=st.none() | st.text(max_size=60), correlation=st.none()
       | st.binary(max_size=20))
def test_store_check_on_arbitrary_messages_of_its_topics(
    store: StoreService, site: str, station: str, kind: str, payload: bytes,
    response_topic: str | None, correlation: bytes | None,
) -> None:
    _check(store, _message(f"scangw/v1/{site}/{station}/{kind}", payload, response_topic,
                           correlation))


@FUZZ
@given(model=st.sampled_from([protocol.RegistrationBatch, protocol.OrderRequest,
                              protocol.PostRequest, protocol.StationPresence]),
       station=st.sampled_from(["p1", "p2"]), data=st.data())
def test_store_check_on_valid_messages_with_one_field_broken(
    store: StoreService, model: type[BaseModel], station: str, data: st.DataObject
) -> None:
    kind = {protocol.RegistrationBatch: protocol.topics.REGISTRATIONS,
            protocol.StationPresence: protocol.topics.PRESENCE}.get(model,
                                                                    protocol.topics.REQUESTS)
    message = _example(model)
    if data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(message)))
        message[key] = data.draw(json_values)
    respond = protocol.station_topic("site-1", station, protocol.topics.RESPONSES)
    _check(store, _message(f"scangw/v1/site-1/{station}/{kind}", json.dumps(message).encode(),
                           data.draw(st.sampled_from([respond, None, "x/y"])), b"c"))


@FUZZ
@given(topic=st.text(max_size=80) | st.sampled_from(
    [f"scangw/v1/site-1/p1/{k}" for k in sorted(protocol.topics.STATION_KINDS)]),
    payload=st.binary(max_size=60))
def test_store_check_drops_any_other_topic(store: StoreService, topic: str,
                                           payload: bytes) -> None:
    """Topics it did not subscribe never reach it through the broker; its check still
    drops them (a broker ACL or subscription mistake must not crash the store)."""
    _check(store, _message(topic, payload, None, None))


def test_a_wedge_scanner_survives_an_endless_alt_keypad_code() -> None:
    """The same through the keyboard-wedge driver (fake evdev at the hardware
    boundary): the scanner keeps working and the next scan arrives."""
    async def main() -> tuple[list[RawScan], BaseException | None]:
        _media, keyboard = scanner_nodes()
        driver = KeyboardWedgeScanner("kb", KeyboardWedgeConfig.model_validate(
            {"path": keyboard.path, "reattach_interval_s": 0.02}),
            source=FakeSource(keyboard))
        scans: list[RawScan] = []
        task = asyncio.create_task(driver.run(scans.append))
        try:
            await asyncio.wait_for(_until(lambda: driver.online), 5)
            digit = next(iter(keys.KEYPAD_DIGITS))
            keyboard.events.put_nowait(Event(keys.EV_KEY, keys.KEY_LEFTALT, 1))
            for _ in range(5000):
                keyboard.events.put_nowait(Event(keys.EV_KEY, digit, 1))
                keyboard.events.put_nowait(Event(keys.EV_KEY, digit, 0))
            keyboard.events.put_nowait(Event(keys.EV_KEY, keys.KEY_LEFTALT, 0))
            keyboard.events.put_nowait(Event(keys.EV_KEY, keys.KEY_ENTER, 1))
            keyboard.type_text([(30, False), (48, False)])
            keyboard.events.put_nowait(Event(keys.EV_KEY, keys.KEY_ENTER, 1))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_until(lambda: any(s.data == b"ab" for s in scans)
                                              or task.done()), 5)
            return scans, task.exception() if task.done() else None
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    scans, died = asyncio.run(main())
    assert died is None, f"the wedge driver died: {died!r}"
    assert [s.data for s in scans][-1:] == [b"ab"]


async def _until(check: Callable[[], bool]) -> None:
    while not check():
        await asyncio.sleep(0.005)
