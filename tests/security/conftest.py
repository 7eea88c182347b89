"""The shipped broker config (config/mosquitto/) run for real, with a test PKI.

Certificates are made with config/mosquitto/make-certs, the openssl script
docs/security.md tells a site to use, so the documented procedure is what the
tests exercise. The shipped mosquitto files are started with only their paths,
port and log destination changed; every change is checked to apply, so a
reshaped config fails here instead of being tested half-adapted.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scangw.broker import LocalBroker, free_port
from scangw.mqtt import BrokerConfig, TlsConfig

MOSQUITTO_DIR = Path(__file__).resolve().parents[2] / "config" / "mosquitto"
SITE = "dc-berlin"
"""The site the shipped ACL is written for."""
STORE_USER = "store-1"
"""The store's user name in the shipped ACL."""
PASSWORDS = {"pack-01": "pw-pack-01-Zq8v", "pack-02": "pw-pack-02-Lr4c",
             STORE_USER: "pw-store-1-Hx2m"}


def make_certs(directory: Path, *args: str) -> None:
    subprocess.run([str(MOSQUITTO_DIR / "make-certs"), str(directory), *args],
                   check=True, capture_output=True, text=True)


@dataclass(frozen=True)
class Pki:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.crt"

    def tls(self, who: str | None = None) -> TlsConfig:
        """TLS settings of client ``who`` (None: trusts the CA, shows no certificate)."""
        if who is None:
            return TlsConfig(ca_file=self.ca)
        return TlsConfig(ca_file=self.ca, cert_file=self.directory / f"{who}.crt",
                         key_file=self.directory / f"{who}.key")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    make_certs(directory, "ca")
    make_certs(directory, "server", "localhost", "127.0.0.1")
    for who in ("pack-01", "pack-02", STORE_USER):
        make_certs(directory, "client", who)
    return Pki(directory)


@pytest.fixture(scope="session")
def rogue_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Another CA, with a certificate for pack-01 and a broker certificate."""
    directory = tmp_path_factory.mktemp("rogue-pki")
    make_certs(directory, "ca")
    make_certs(directory, "server", "localhost", "127.0.0.1")
    make_certs(directory, "client", "pack-01")
    return Pki(directory)


def shipped_broker(workdir: Path, conf_name: str, pki: Pki,
                   passwd: Path | None = None, acl: str | None = None) -> LocalBroker:
    """config/mosquitto/<conf_name> with the shipped ACL (or ``acl``), on a free
    loopback port."""
    etc, data = workdir / "etc", workdir / "data"
    etc.mkdir(parents=True)
    data.mkdir()
    for name in ("ca.crt", "server.crt", "server.key"):
        shutil.copy(pki.directory / name, etc / name)
    (etc / "acl").write_text(acl if acl is not None else (MOSQUITTO_DIR / "acl").read_text())
    if passwd is not None:
        shutil.copy(passwd, etc / "passwd")
    port = free_port()
    shipped = (MOSQUITTO_DIR / conf_name).read_text().splitlines()
    text = "\n".join(ln for ln in shipped if not ln.lstrip().startswith("#")) + "\n"
    for old, new in {
        "/etc/mosquitto/scangw/": f"{etc}/",
        "persistence_location /var/lib/mosquitto/\n": f"persistence_location {data}/\n",
        "\nlistener 8883\n": f"\nlistener {port} 127.0.0.1\n",
        "\nlog_dest syslog\n": "\n",
    }.items():
        assert old in text, f"{conf_name} has no {old.strip()!r} any more: update this adapter"
        text = text.replace(old, new)
    assert "/etc/mosquitto" not in text
    assert "/var/" not in text
    return LocalBroker(workdir, port, config=text)


@pytest.fixture(scope="module")
def cert_broker(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[LocalBroker]:
    """config/mosquitto/scangw.conf: client certificates, CN as user name."""
    broker = shipped_broker(tmp_path_factory.mktemp("cert-broker"), "scangw.conf", pki)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def password_broker(tmp_path_factory: pytest.TempPathFactory, pki: Pki,
                    ) -> Iterator[LocalBroker]:
    """config/mosquitto/scangw-password.conf: TLS, user names and passwords."""
    workdir = tmp_path_factory.mktemp("password-broker")
    passwd = workdir / "passwd.src"
    for user, password in PASSWORDS.items():
        create = ["-c"] if not passwd.exists() else []
        subprocess.run(["mosquitto_passwd", *create, "-b", str(passwd), user, password],
                       check=True, capture_output=True)
    broker = shipped_broker(workdir, "scangw-password.conf", pki, passwd)
    broker.start()
    yield broker
    broker.stop()


def over_tls(broker: LocalBroker, tls: TlsConfig, **login: object) -> BrokerConfig:
    return BrokerConfig.model_validate(
        {"host": broker.host, "port": broker.port, "tls": tls.model_dump(), **login})
