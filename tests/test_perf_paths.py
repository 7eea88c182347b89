"""The fast paths of issue 9 behave exactly like the slow ones they replaced.

TCP_NODELAY on every client and the local broker, the station's per-line serial
counts (no copy of the list per scan), the uplink's resend timer that waits for
the store to go quiet, and the generic request/response helper.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.config import StationConfig
from gateway.database import StationDatabase
from gateway.journal import EntryState, JournalEntry
from gateway.order_cache import CachedLine
from gateway.station import SerialsView, Station
from gateway.uplink import Uplink
from scangw import protocol
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig, make_client
from scangw.sales.registration import LineView, ScanMode, decide_scan
from tests.harness import new_site

# -- TCP_NODELAY ------------------------------------------------------------------------


def test_clients_send_small_packets_without_waiting_for_an_ack(
    broker_config: BrokerConfig,
) -> None:
    client = make_client("t-nodelay", broker_config)
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    client.connect(broker_config.host, broker_config.port)
    client.loop_start()
    try:
        assert connected.wait(10)
        sock = client.socket()
        assert isinstance(sock, socket.socket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        client.disconnect()
        client.loop_stop()


def test_the_local_broker_is_told_to_send_without_delay(mosquitto: LocalBroker) -> None:
    conf = (mosquitto.workdir / "mosquitto.conf").read_text().splitlines()
    assert "set_tcp_nodelay true" in conf
    assert mosquitto.running  # mosquitto accepted the option


# -- the station's line counts -----------------------------------------------------------


def test_the_rules_see_a_view_that_answers_like_the_list() -> None:
    station = Station("pack-01")
    station.load([CachedLine("SO-1", 1, "PHONE", 5, ["A", None, "B"])])
    station.open_document("SO-1", 1)
    view = SerialsView(station.line("SO-1", 1).serials,  # type: ignore[union-attr]
                       station._counts[("SO-1", 1)])
    assert (len(view), list(view), view[1], list(view[::-1])) == (3, ["A", None, "B"], None,
                                                                  ["B", None, "A"])
    assert "A" in view
    assert None in view
    assert "C" not in view
    assert 7 not in view


_OPS = st.lists(st.tuples(st.sampled_from(["add", "remove", "undo", "revert", "reload"]),
                          st.sampled_from(["A", "B", "C", None])), max_size=40)


@settings(max_examples=80, deadline=None)
@given(_OPS)
def test_decisions_on_counts_match_decisions_on_a_copy_of_the_list(
    ops: list[tuple[str, str | None]],
) -> None:
    """Whatever happens to the line, every decision equals decide_scan on a tuple copy
    (what the station did before) and the counts never drift from the list."""
    station = Station("pack-01")
    station.load([CachedLine("SO-1", 1, "PHONE", 4, []),
                  CachedLine("SO-2", 1, "PHONE", 4, ["C"])])
    station.open_document("SO-1", 1)
    accepted = []
    for op, serial in ops:
        line = station.line("SO-1", 1)
        assert line is not None
        if op in ("add", "remove"):
            mode = ScanMode(op)
            other = station.line("SO-2", 1)
            assert other is not None
            expected = decide_scan(
                LineView("SO-1", 1, "PHONE", 4, tuple(line.serials)), serial, mode,
                registered_elsewhere=serial is not None and serial in other.serials)
            judgement = station.register("s1", serial, 0, mode=mode)
            assert (judgement.entry.accepted, judgement.entry.reason, judgement.entry.message
                    ) == (expected.accepted, expected.reason, expected.message)
            if judgement.entry.accepted:
                accepted.append(judgement)
        elif op == "undo" and accepted:
            station.undo(accepted.pop().entry)
        elif op == "revert" and accepted:
            station.revert(accepted.pop())
        elif op == "reload":
            station.load([CachedLine("SO-1", 1, "PHONE", 4, list(line.serials))])
        line = station.line("SO-1", 1)
        assert line is not None
        counts = station._counts[("SO-1", 1)]
        assert +counts == +Counter(line.serials)


def _committed(station: Station, serial: str, useq: int) -> JournalEntry:
    entry = station.register("s1", serial, 0).entry
    assert entry.accepted
    entry.useq = useq  # what the service does once the entry is committed
    return entry


def test_a_store_update_merged_meanwhile_keeps_what_is_not_committed_yet() -> None:
    """merge_store_truth reads the journal at seq N; decisions after N (not yet
    committed, so not in that read) are applied again to the merged line."""
    station = Station("pack-01")
    station.load([CachedLine("SO-1", 1, "PHONE", 5, [])])
    station.open_document("SO-1", 1)
    first = _committed(station, "A", 1)
    second = station.register("s1", "B", 0).entry  # decided, commit not done
    station.load([CachedLine("SO-1", 1, "PHONE", 5, ["A"], as_of_seq=first.seq)])
    line = station.line("SO-1", 1)
    assert line is not None
    assert line.serials == ["A", "B"]
    assert station.register("s1", "B", 0).entry.reason == "duplicate_serial"
    # a merge that already saw the second entry must not add it twice
    station.load([CachedLine("SO-1", 1, "PHONE", 5, ["A", "B"], as_of_seq=second.seq)])
    line = station.line("SO-1", 1)
    assert line is not None
    assert line.serials == ["A", "B"]
    # a line loaded from elsewhere (not a journal merge) is taken as it is
    station.load([CachedLine("SO-1", 1, "PHONE", 5, ["Z"])])
    line = station.line("SO-1", 1)
    assert line is not None
    assert line.serials == ["Z"]


def test_committed_changes_are_forgotten() -> None:
    station = Station("pack-01")
    station.load([CachedLine("SO-1", 1, "PHONE", 500, [])])
    station.open_document("SO-1", 1)
    for i in range(200):
        _committed(station, f"S{i}", i + 1)
    assert len(station._unsaved) == 1  # only the newest, until the next decision


# -- the uplink -------------------------------------------------------------------------


def _config(tmp_path: Path, broker: BrokerConfig, site: str) -> StationConfig:
    return StationConfig.model_validate({
        "station": {"site": site, "id": "pack-01", "database": tmp_path / "s.db"},
        "broker": broker.model_dump(),
        "uplink": {"resend_after_s": 5.0},
        "scanners": {"gun": {"kind": "serial", "port": "/dev/null"}},
    })


def _uplink(config: StationConfig) -> Uplink:
    return Uplink(config, StationDatabase(config.station.database), epoch="e" * 32,
                  last_seq=lambda: 0, on_verdicts=lambda _v: None,
                  on_order_update=lambda _u: None)


def _pending(seq: int) -> JournalEntry:
    return JournalEntry(seq, f"{seq:032x}", 1.0, "s1", f"S{seq}", True, "added", "ok",
                        EntryState.PENDING, "SO-1", 1, "PHONE", "add", f"S{seq}", useq=seq)


def test_no_resend_while_acknowledgements_flow(tmp_path: Path) -> None:
    uplink = _uplink(_config(tmp_path, BrokerConfig(), "site"))
    now = time.monotonic()
    for seq in range(1, 101):
        uplink._inflight[f"{seq:032x}"] = (_pending(seq), now - 10, 1)
    uplink._last_ack = now - 1  # a drain in progress: the store answered a second ago
    assert uplink.resend_stale(now) == 0
    lost = _pending(999)
    uplink._inflight[lost.id] = (lost, now - 61, 1)  # but never hide one forever
    assert uplink.resend_stale(now) == 1
    assert uplink._inflight[lost.id][2] == 2
    uplink._last_ack = now - 5  # the store went quiet
    assert uplink.resend_stale(now) == 100
    assert uplink.resent == 101
    assert all(n == 2 for _e, _t, n in uplink._inflight.values())
    # sent again just now: the next try waits for its backoff
    assert uplink.resend_stale(now + 1) == 0


class _Pong(protocol.Message):
    v: Literal[1] = 1
    answer: str


def _responder(broker: BrokerConfig, site: str, replies: list[bytes]) -> mqtt.Client:
    """Answers every request with ``replies`` in turn, on its response topic."""
    client = make_client(f"t-responder-{site}", broker)
    subscribed = threading.Event()

    def on_message(c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.CorrelationData = msg.properties.CorrelationData  # type: ignore[union-attr]
        for reply in replies:
            if reply == b"wrong-correlation":
                wrong = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
                wrong.CorrelationData = b"x" * 16
                c.publish(msg.properties.ResponseTopic,  # type: ignore[union-attr]
                          _Pong(answer="not yours").model_dump_json(), qos=1,
                          properties=wrong)
            else:
                c.publish(msg.properties.ResponseTopic,  # type: ignore[union-attr]
                          reply, qos=1, properties=props)

    client.on_message = on_message
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect(broker.host, broker.port)
    client.subscribe(protocol.station_topic(site, "pack-01", protocol.topics.REQUESTS), qos=1)
    client.loop_start()
    assert subscribed.wait(10)
    return client


@pytest.mark.parametrize(("replies", "answer"), [
    ([b"wrong-correlation", _Pong(answer="pong").model_dump_json().encode()], "pong"),
    ([b"{not json", _Pong(answer="late but good").model_dump_json().encode()],
     "late but good"),
    ([b"{not json"], None),
])
def test_a_generic_request_gets_its_own_answer_as_the_model_asked_for(
    tmp_path: Path, broker_config: BrokerConfig, replies: list[bytes], answer: str | None,
) -> None:
    site = new_site()
    responder = _responder(broker_config, site, replies)
    config = _config(tmp_path, broker_config, site)

    async def ask() -> _Pong:
        db = StationDatabase(config.station.database)
        await db.open()
        uplink = Uplink(config, db, epoch="e" * 32, last_seq=lambda: 0,
                        on_verdicts=lambda _v: None, on_order_update=lambda _u: None)
        await uplink.start()
        try:
            await asyncio.wait_for(uplink.connected.wait(), 10)
            request = protocol.OrderRequest(station="pack-01", order_id="SO-1")
            return await uplink.request(request, _Pong, 1.0)
        finally:
            await uplink.stop()
            await db.close()

    try:
        if answer is None:
            with pytest.raises(TimeoutError):
                asyncio.run(ask())
        else:
            assert asyncio.run(ask()).answer == answer
    finally:
        responder.disconnect()
        responder.loop_stop()


def test_an_order_followed_while_connecting_still_gets_its_updates(
    tmp_path: Path, broker_config: BrokerConfig,
) -> None:
    """A follow between the connect's subscribe and 'connected' used to be lost:
    the station then never heard the store's updates of that order."""
    site = new_site()
    config = _config(tmp_path, broker_config, site)
    update = protocol.OrderUpdate(store="store-t", order_id="SO-LATE", lines=[
        protocol.LineState(line_number=1, item_id="PHONE", quantity=2, serials=["A"])])

    async def run() -> protocol.OrderUpdate:
        db = StationDatabase(config.station.database)
        await db.open()
        got: asyncio.Future[protocol.OrderUpdate] = asyncio.get_running_loop().create_future()
        uplink = Uplink(config, db, epoch="e" * 32, last_seq=lambda: 0,
                        on_verdicts=lambda _v: None,
                        on_order_update=lambda u: got.done() or got.set_result(u))
        became_connected = uplink._became_connected

        def follow_then_connected() -> None:
            uplink.follow_order("SO-LATE")  # not connected yet: not subscribed here
            became_connected()

        uplink._became_connected = follow_then_connected  # type: ignore[method-assign]
        await uplink.start()
        publisher = make_client(f"t-pub-{site}", broker_config)
        publisher.connect(broker_config.host, broker_config.port)
        publisher.loop_start()
        try:
            await asyncio.wait_for(uplink.connected.wait(), 10)
            deadline = time.monotonic() + 10
            while not got.done() and time.monotonic() < deadline:
                publisher.publish(protocol.order_topic(site, "SO-LATE"),
                                  update.model_dump_json(), qos=1)
                await asyncio.sleep(0.1)
            return await asyncio.wait_for(got, 1)
        finally:
            publisher.disconnect()
            publisher.loop_stop()
            await uplink.stop()
            await db.close()

    assert asyncio.run(run()) == update
