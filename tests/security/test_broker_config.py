"""The shipped broker files say what the protocol needs (they also run, see the
other tests here): limits, no anonymous access, and an ACL that gives a station
exactly the topics the services use."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from scangw import protocol
from scangw.mqtt import BrokerConfig
from scangw.protocol import topics
from tests.security.conftest import MOSQUITTO_DIR, SITE, make_certs

CONFIGS = ("scangw.conf", "scangw-password.conf")
AUTH_LINES = {"password_file", "require_certificate", "use_identity_as_username"}


def _settings(name: str) -> list[tuple[str, str]]:
    lines = (MOSQUITTO_DIR / name).read_text().splitlines()
    return [(key, value.strip()) for key, _, value in
            (ln.strip().partition(" ") for ln in lines if ln.strip() and not ln.startswith("#"))]


@pytest.mark.parametrize("name", CONFIGS)
def test_the_broker_config_matches_the_protocol_limits(name: str) -> None:
    settings = dict(_settings(name))
    assert int(settings["message_size_limit"]) == protocol.MAX_PAYLOAD_BYTES
    # room for the topic and properties of a payload at the limit, no more
    assert protocol.MAX_PAYLOAD_BYTES < int(settings["max_packet_size"]) \
        <= protocol.MAX_PAYLOAD_BYTES + 65_536
    assert settings["allow_anonymous"] == "false"
    assert settings["persistence"] == "true"
    assert settings["listener"] == "8883"
    assert int(settings["max_queued_messages"]) >= 10_000
    assert settings["acl_file"] == "/etc/mosquitto/scangw/acl"


def test_both_variants_differ_only_in_how_clients_log_in() -> None:
    certs, passwords = (
        [s for s in _settings(n) if s[0] not in AUTH_LINES] for n in CONFIGS)
    assert certs == passwords
    assert ("require_certificate", "true") in _settings("scangw.conf")
    assert ("use_identity_as_username", "true") in _settings("scangw.conf")
    assert ("require_certificate", "false") in _settings("scangw-password.conf")
    assert ("password_file", "/etc/mosquitto/scangw/passwd") in _settings("scangw-password.conf")


def test_the_acl_gives_a_station_exactly_the_topics_the_services_use() -> None:
    rules = [ln.split() for ln in (MOSQUITTO_DIR / "acl").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    station = f"{topics.ROOT}/{SITE}/%u/"
    writes = {r[2].removeprefix(station) for r in rules if r[:2] == ["pattern", "write"]}
    reads = {r[2].removeprefix(station) for r in rules if r[:2] == ["pattern", "read"]}
    assert writes == {topics.REGISTRATIONS, topics.REQUESTS, topics.PRESENCE}
    assert reads == {topics.ACKS, topics.RESPONSES, topics.CONTROL,
                     f"{topics.ROOT}/{SITE}/_orders/#", f"{topics.ROOT}/_stores/#"}
    assert set(topics.STATION_KINDS) == writes | (reads & set(topics.STATION_KINDS))
    assert ["user", "store-1"] in rules
    assert rules[rules.index(["user", "store-1"]) + 1] == ["topic", "readwrite", "scangw/v1/#"]
    assert not any(r[0] == "topic" for r in rules[:rules.index(["user", "store-1"])]), \
        "a topic line before any user line would apply to anonymous clients only"


def test_make_certs_never_overwrites_and_checks_the_client_id(tmp_path: Path) -> None:
    make_certs(tmp_path, "ca")
    before = (tmp_path / "ca.key").read_bytes()
    with pytest.raises(subprocess.CalledProcessError) as again:
        make_certs(tmp_path, "ca")
    assert "exists; remove it first" in again.value.stderr
    assert (tmp_path / "ca.key").read_bytes() == before
    with pytest.raises(subprocess.CalledProcessError) as bad:
        make_certs(tmp_path, "client", "pack/01")
    assert "is not a scangw id" in bad.value.stderr
    with pytest.raises(subprocess.CalledProcessError) as no_ca:
        make_certs(tmp_path / "empty", "client", "pack-01")
    assert "no CA in" in no_ca.value.stderr
    make_certs(tmp_path, "client", "pack-01")
    assert oct((tmp_path / "pack-01.key").stat().st_mode & 0o777) == "0o600"
    subject = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "pack-01.crt"),
                              "-noout", "-subject"], capture_output=True, text=True, check=True)
    assert "CN = pack-01" in subject.stdout


def test_the_broker_settings_in_the_security_guide_are_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (MOSQUITTO_DIR.parents[1] / "docs" / "security.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]
    brokers = [BrokerConfig.model_validate(b["broker"]) for b in blocks]
    assert len(brokers) == 3
    assert all(b.port == 8883 and b.tls is not None for b in brokers)
    with_cert, with_file, with_env = brokers
    assert with_cert.username is None
    assert with_cert.tls is not None
    assert with_cert.tls.cert_file is not None
    assert with_cert.tls.key_file is not None
    assert (with_file.username, with_file.password_env) == ("pack-01", None)
    assert with_file.password_file is not None
    monkeypatch.setenv("SCANGW_BROKER_PASSWORD", "s3cret")
    assert with_env.password() == "s3cret"
