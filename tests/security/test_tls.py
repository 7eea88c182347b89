"""TLS with client certificates (config/mosquitto/scangw.conf) between real services."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from gateway.events import DecisionMade, StoreAnswered
from scangw.broker import LocalBroker
from scangw.mqtt import make_client
from tests.conftest import Pty
from tests.harness import make_store, next_event, rows, running_station, started, station_config
from tests.security.client import Recorder
from tests.security.conftest import SITE, STORE_USER, Pki, over_tls


@pytest.mark.usefixtures("store_backend")
def test_a_registration_goes_end_to_end_over_tls_with_client_certificates(
    tmp_path: Path, cert_broker: LocalBroker, pki: Pki, pty_pair: Pty
) -> None:
    store = started(make_store(tmp_path, over_tls(cert_broker, pki.tls(STORE_USER)), SITE))
    config = station_config(tmp_path, over_tls(cert_broker, pki.tls("pack-01")), SITE,
                            pty_pair.path)

    async def scenario() -> tuple[bool, bool, str | None]:
        # running_station opens SO-1 by asking the store (requests -> responses)
        async with running_station(config) as (service, events):
            pty_pair.write(b"SN-TLS-1\r")
            local = (await next_event(events, DecisionMade)).entry.accepted
            answer = await next_event(events, StoreAnswered)
            assert service.uplink is not None
            return local, answer.accepted, service.uplink.last_error

    try:
        local, confirmed, error = asyncio.run(scenario())
    finally:
        store.stop()
    assert (local, confirmed, error) == (True, True, None)
    assert rows(tmp_path / "pack-01.db", "SELECT serial, state FROM journal") == [
        ("SN-TLS-1", "confirmed")]
    assert rows(tmp_path / "store.db",
                "SELECT station, serial, status FROM station_registrations") == [
        ("pack-01", "SN-TLS-1", "accepted")]
    # the retained birth went through the ACL to the store
    assert rows(tmp_path / "store.db", "SELECT station FROM stations") == [("pack-01",)]
    # the certificate's CN became the user name the ACL checks
    log = cert_broker.log_text()
    assert "u'pack-01'" in log
    assert f"u'{STORE_USER}'" in log


def test_a_client_certificate_from_another_ca_is_refused(
    cert_broker: LocalBroker, pki: Pki, rogue_pki: Pki
) -> None:
    # trusts the right CA (so the broker is genuine) but shows a rogue certificate
    rogue = rogue_pki.tls("pack-01").model_copy(update={"ca_file": pki.ca})
    intruder = Recorder(over_tls(cert_broker, rogue), "rogue")
    try:
        assert intruder.wait(lambda: intruder.disconnected is not None
                             or intruder.connack is not None)
        assert intruder.connack is None, "the broker accepted a certificate of another CA"
    finally:
        intruder.close()
    assert "certificate verify failed" in cert_broker.log_text()


def test_a_client_without_a_certificate_is_refused(cert_broker: LocalBroker, pki: Pki) -> None:
    anonymous = Recorder(over_tls(cert_broker, pki.tls()), "nocert")
    try:
        assert anonymous.wait(lambda: anonymous.disconnected is not None
                              or anonymous.connack is not None)
        assert anonymous.connack is None, "the broker accepted a client without a certificate"
    finally:
        anonymous.close()


def test_a_station_refuses_a_broker_its_ca_did_not_sign(
    cert_broker: LocalBroker, pki: Pki, rogue_pki: Pki
) -> None:
    wrong_trust = pki.tls("pack-01").model_copy(update={"ca_file": rogue_pki.ca})
    client = make_client("doubtful", over_tls(cert_broker, wrong_trust))
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        client.connect(cert_broker.host, cert_broker.port)
