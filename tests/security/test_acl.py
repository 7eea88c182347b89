"""The shipped ACL (config/mosquitto/acl): a station acts only as itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderstore.service import StoreService
from scangw import protocol
from scangw.broker import LocalBroker
from tests.harness import make_store, rows, started
from tests.security.client import Recorder
from tests.security.conftest import SITE, STORE_USER, Pki, over_tls, shipped_broker
from tests.store_backends import StoreBackend

NOT_AUTHORIZED = 135
OK = (0, 16)  # success, or success with no subscriber yet
EPOCH = "5e" * 16


def _batch(station: str, *seqs: int, serial: str = "SN") -> str:
    return protocol.RegistrationBatch(station=station, epoch=EPOCH, registrations=[
        protocol.Registration(id=uuid.uuid4().hex, seq=s, scanner="gun", order_id="SO-1",
                              line_number=1, item_id="PHONE", mode="add",
                              serial=f"{serial}-{s}", scanned_at="2026-11-25T10:00:00Z")
        for s in seqs]).model_dump_json()


def _topic(station: str, kind: str) -> str:
    return protocol.station_topic(SITE, station, kind)


@pytest.fixture
def store(tmp_path: Path, cert_broker: LocalBroker, pki: Pki,
          store_backend: StoreBackend) -> Iterator[StoreService]:
    """A store on each test backend (``store_backend``)."""
    service = started(make_store(tmp_path, over_tls(cert_broker, pki.tls(STORE_USER)), SITE,
                                 {"SO-1": [(1, "PHONE", 50)]}))
    yield service
    service.stop()


@pytest.fixture
def pack01(cert_broker: LocalBroker, pki: Pki) -> Iterator[Recorder]:
    peer = Recorder(over_tls(cert_broker, pki.tls("pack-01")), "pack-01").connected()
    yield peer
    peer.close()


@pytest.fixture
def pack02(cert_broker: LocalBroker, pki: Pki) -> Iterator[Recorder]:
    peer = Recorder(over_tls(cert_broker, pki.tls("pack-02")), "pack-02").connected()
    yield peer
    peer.close()


def test_a_station_cannot_register_under_another_stations_topic(
    tmp_path: Path, store: StoreService, pack01: Recorder
) -> None:
    pack01.subscribe(_topic("pack-01", "acks"))
    forged = pack01.publish(_topic("pack-02", "registrations"),
                            _batch("pack-02", 1, serial="FORGED"))
    assert forged == NOT_AUTHORIZED
    # its own registration goes through; the forged one, published first, never arrived
    assert pack01.publish(_topic("pack-01", "registrations"), _batch("pack-01", 1)) in OK
    pack01.wait_for_message(_topic("pack-01", "acks"))
    assert rows(tmp_path / "store.db", "SELECT station, serial FROM station_registrations") == [
        ("pack-01", "SN-1")]
    assert store.dropped == 0  # not even refused by the store: the broker stopped it


@pytest.mark.parametrize("topic", [
    _topic("pack-02", "requests"),
    _topic("pack-02", "presence"),
    _topic("pack-01", "acks"),
    _topic("pack-01", "control"),
    _topic("pack-01", "responses"),
    protocol.order_topic(SITE, "SO-1"),
    protocol.store_presence_topic(STORE_USER),
    protocol.station_topic("another-site", "pack-01", "registrations"),
])
def test_a_station_cannot_publish_what_is_not_its_own(pack01: Recorder, topic: str) -> None:
    assert pack01.publish(topic, b"{}", retain=True) == NOT_AUTHORIZED


def test_a_station_never_receives_another_stations_acks_or_control(
    store: StoreService, pack01: Recorder, pack02: Recorder
) -> None:
    # mosquitto 2.0 grants the SUBACK and filters every message by the read ACL;
    # what matters is that nothing of pack-02's ever reaches pack-01
    pack01.subscribe(_topic("pack-02", "acks"), _topic("pack-02", "control"),
                     f"{protocol.TOPIC_ROOT}/#")
    pack02.subscribe(_topic("pack-02", "acks"), _topic("pack-02", "control"))
    assert pack02.publish(_topic("pack-02", "registrations"), _batch("pack-02", 2)) in OK
    assert pack02.wait_for_message(_topic("pack-02", "control"))[0]["from_seq"] == 1
    assert pack02.publish(_topic("pack-02", "registrations"), _batch("pack-02", 1)) in OK
    pack02.wait_for_message(_topic("pack-02", "acks"))
    assert pack01.publish(_topic("pack-01", "registrations"), _batch("pack-01", 1)) in OK
    pack01.wait_for_message(_topic("pack-01", "acks"))  # its own, via the wildcard
    seen = {topic for topic, _ in pack01.messages}
    assert not any("/pack-02/" in topic for topic in seen), seen


def test_a_station_reads_its_own_control_the_sites_orders_and_the_store_presence(
    store: StoreService, pack01: Recorder
) -> None:
    order_topic = protocol.order_topic(SITE, "SO-1")
    presence = protocol.store_presence_topic("store-t")
    pack01.subscribe(_topic("pack-01", "acks"), _topic("pack-01", "control"), order_topic,
                     f"{protocol.TOPIC_ROOT}/_stores/#")
    assert pack01.wait_for_message(presence)[0]["status"] == "online"  # retained birth
    pack01.publish(_topic("pack-01", "registrations"), _batch("pack-01", 2))
    ask = pack01.wait_for_message(_topic("pack-01", "control"))[0]
    assert (ask["epoch"], ask["from_seq"]) == (EPOCH, 1)
    pack01.publish(_topic("pack-01", "registrations"), _batch("pack-01", 1))
    assert pack01.wait_for_message(_topic("pack-01", "acks"))[0]["acks"][0]["status"] == \
        "accepted"
    # the store announces every change of the order (the office created it too):
    # one of the updates carries the registration
    assert pack01.wait(lambda: any(
        u["lines"] and u["lines"][0]["serials"] == ["SN-1"]
        for u in pack01.received(order_topic)))


def test_the_store_drops_a_payload_whose_station_differs_from_its_topic(
    tmp_path: Path, store: StoreService, pack01: Recorder, pack02: Recorder
) -> None:
    pack02.subscribe(_topic("pack-02", "acks"))
    # the broker lets pack-01 publish on its own topic; the store checks the payload
    assert pack01.publish(_topic("pack-01", "registrations"), _batch("pack-02", 1)) in OK
    assert pack01.wait(lambda: store.dropped == 1)
    assert pack02.publish(_topic("pack-02", "registrations"), _batch("pack-02", 1, serial="X"))\
        in OK
    assert pack02.wait_for_message(_topic("pack-02", "acks"))[0]["acks"][0]["status"] == \
        "accepted"
    assert rows(tmp_path / "store.db", "SELECT station, serial FROM station_registrations") == [
        ("pack-02", "X-1")]


def test_a_payload_over_the_limit_never_reaches_the_store(
    cert_broker: LocalBroker, pki: Pki, store: StoreService, pack01: Recorder
) -> None:
    store_view = Recorder(over_tls(cert_broker, pki.tls(STORE_USER)), "store-view").connected()
    big = Recorder(over_tls(cert_broker, pki.tls("pack-02")), "pack-02-big").connected()
    try:
        store_view.subscribe(_topic("+", "registrations"))
        info = big.client.publish(_topic("pack-02", "registrations"),
                                  b" " * (protocol.MAX_PAYLOAD_BYTES + 1), qos=1)
        # mosquitto refuses it with PUBACK 149, which paho-mqtt 2.2 cannot parse (it
        # drops the connection instead); then a payload at the limit still goes through
        assert big.wait(lambda: info.mid in big.pubacks or big.disconnected is not None)
        assert big.pubacks.get(info.mid, 149) == 149
        pack01.client.publish(_topic("pack-01", "registrations"),
                              b" " * protocol.MAX_PAYLOAD_BYTES, qos=1)
        assert store_view.wait(lambda: len(store_view.messages) == 1)
    finally:
        big.close()
        store_view.close()
    assert [(t, len(p)) for t, p in store_view.messages] == [
        (_topic("pack-01", "registrations"), protocol.MAX_PAYLOAD_BYTES)]


def test_the_per_station_acl_of_the_security_guide_works(
    tmp_path: Path, pki: Pki
) -> None:
    """docs/security.md, "Several sites on one broker": user blocks instead of patterns."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    block = guide.split("```\nuser pack-01\n", 1)[1].split("```", 1)[0]
    acl = f"user pack-01\n{block}\nuser {STORE_USER}\ntopic readwrite scangw/v1/#\n"
    broker = shipped_broker(tmp_path / "broker", "scangw.conf", pki, acl=acl)
    broker.start()
    pack01 = Recorder(over_tls(broker, pki.tls("pack-01")), "pack-01").connected()
    pack02 = Recorder(over_tls(broker, pki.tls("pack-02")), "pack-02").connected()
    try:
        assert pack01.publish(_topic("pack-01", "registrations"), b"{}") in OK
        assert pack01.publish(_topic("pack-01", "presence"), b"{}") in OK
        assert pack01.publish(_topic("pack-02", "registrations"), b"{}") == NOT_AUTHORIZED
        assert pack01.publish(protocol.station_topic("dc-hamburg", "pack-01", "registrations"),
                              b"{}") == NOT_AUTHORIZED
        assert pack02.publish(_topic("pack-02", "registrations"), b"{}") == NOT_AUTHORIZED
    finally:
        pack01.close()
        pack02.close()
        broker.stop()
