"""User names and passwords (config/mosquitto/scangw-password.conf) over TLS.

Passwords come from a file or an environment variable named in the config,
never from the config itself, and never show up in a log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from gateway.events import StoreAnswered
from gateway.service import StationService
from scangw.broker import LocalBroker
from scangw.mqtt import BrokerConfig, SecretMissing, make_client
from tests.conftest import Pty
from tests.harness import (
    TIMEOUT,
    make_store,
    next_event,
    rows,
    running_station,
    started,
    station_config,
)
from tests.security.client import Recorder
from tests.security.conftest import PASSWORDS, SITE, STORE_USER, Pki, over_tls

ENV = "SCANGW_TEST_BROKER_PASSWORD"


def _password_file(tmp_path: Path, password: str) -> Path:
    path = tmp_path / "secrets" / "broker-password"
    path.parent.mkdir(exist_ok=True)
    path.write_text(password + "\n")  # editors add a newline; it is not part of it
    path.chmod(0o600)
    return path


def _assert_never_logged(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


@pytest.mark.usefixtures("store_backend")
def test_passwords_from_a_file_and_the_environment_log_in_end_to_end(
    tmp_path: Path, password_broker: LocalBroker, pki: Pki, pty_pair: Pty,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(ENV, PASSWORDS[STORE_USER])
    store_broker = over_tls(password_broker, pki.tls(), username=STORE_USER, password_env=ENV)
    station_broker = over_tls(password_broker, pki.tls(), username="pack-01",
                              password_file=_password_file(tmp_path, PASSWORDS["pack-01"]))
    store = started(make_store(tmp_path, store_broker, SITE))
    config = station_config(tmp_path, station_broker, SITE, pty_pair.path)

    async def scenario() -> bool:
        async with running_station(config) as (_service, events):
            pty_pair.write(b"SN-PW-1\r")
            return (await next_event(events, StoreAnswered)).accepted

    try:
        assert asyncio.run(scenario()) is True
    finally:
        store.stop()
    assert rows(tmp_path / "store.db", "SELECT station, serial FROM station_registrations") == [
        ("pack-01", "SN-PW-1")]
    log = password_broker.log_text()
    assert "u'pack-01'" in log
    assert f"u'{STORE_USER}'" in log
    assert "listening for sites dc-berlin" in caplog.text  # the capture did see the services' logs
    _assert_never_logged(caplog.text, *PASSWORDS.values())
    _assert_never_logged(log, *PASSWORDS.values())
    _assert_never_logged(config.model_dump_json() + store_broker.model_dump_json(),
                         *PASSWORDS.values())


def test_a_wrong_password_is_refused_with_a_readable_error(
    tmp_path: Path, password_broker: LocalBroker, pki: Pki, pty_pair: Pty,
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-password-7Yt"
    broker = over_tls(password_broker, pki.tls(), username="pack-01",
                      password_file=_password_file(tmp_path, wrong))
    config = station_config(tmp_path, broker, SITE, pty_pair.path)

    async def scenario() -> tuple[str | None, bool]:
        service = StationService(config)
        await service.start()
        try:
            assert service.uplink is not None
            deadline = time.monotonic() + TIMEOUT
            while service.uplink.last_error is None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            return service.uplink.last_error, service.uplink.connected.is_set()
        finally:
            await service.stop()

    error, connected = asyncio.run(scenario())
    assert not connected
    assert error is not None
    refusals = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    # mosquitto 2.0 answers a wrong password with CONNACK 135 "Not authorized"
    assert any(r.startswith("uplink: broker refused the connection: Not authorized (check "
                           "broker.username") for r in refusals), refusals
    _assert_never_logged(caplog.text, wrong, *PASSWORDS.values())
    _assert_never_logged(password_broker.log_text(), wrong, *PASSWORDS.values())


@pytest.mark.parametrize("login", [
    {},  # anonymous
    {"username": "pack-01"},  # no password
    {"username": "intruder", "password_env": ENV},  # not in the password file
])
def test_anonymous_and_unknown_users_are_refused(
    password_broker: LocalBroker, pki: Pki, monkeypatch: pytest.MonkeyPatch,
    login: dict[str, str]
) -> None:
    monkeypatch.setenv(ENV, PASSWORDS["pack-01"])
    peer = Recorder(over_tls(password_broker, pki.tls(), **login), "nobody")
    try:
        assert peer.wait(lambda: peer.connack is not None)
        assert peer.connack is not None
        assert peer.connack.is_failure
    finally:
        peer.close()


def test_a_missing_secret_says_which_setting_to_fix(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    by_env = BrokerConfig(username="pack-01", password_env=ENV)
    with pytest.raises(SecretMissing, match=f"broker.password_env: variable {ENV} is not set"):
        make_client("x", by_env)
    missing = tmp_path / "nowhere" / "broker-password"
    by_file = BrokerConfig(username="pack-01", password_file=missing)
    with pytest.raises(SecretMissing, match=f"broker.password_file: cannot read {missing}"):
        make_client("x", by_file)
