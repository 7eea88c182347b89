"""Broker settings and the one way both services make a paho client.

paho-mqtt 2.x defaults to its old callback API and MQTT 3.1.1; we always pass
CallbackAPIVersion.VERSION2 and MQTTv5 explicitly (HARDWARE.md).
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import BaseModel, ConfigDict, Field


class TlsConfig(BaseModel):
    """TLS to the broker; the client certificate identifies this station or store."""

    model_config = ConfigDict(extra="forbid")

    ca_file: Path = Field(description="CA certificate(s) that signed the broker's certificate.",
                          examples=["/etc/scangw/tls/ca.crt"])
    cert_file: Path | None = Field(None, description="This client's certificate.",
                                   examples=["/etc/scangw/tls/pack-01.crt"])
    key_file: Path | None = Field(None, description="This client's private key.",
                                  examples=["/etc/scangw/secrets/pack-01.key"])


class BrokerConfig(BaseModel):
    """Where the MQTT broker is and how to log in."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 for TLS).")
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keepalive in seconds.")
    username: str | None = Field(None, description="User name, if the broker wants one.")
    password_file: Path | None = Field(
        None, description="File holding the password (kept out of the config file)."
    )
    password_env: str | None = Field(
        None, description="Environment variable holding the password."
    )
    tls: TlsConfig | None = Field(None, description="Connect with TLS (port 8883 usually).")

    def password(self) -> str | None:
        """The password from its file or variable; never logged, never in the config."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise SecretMissing(f"broker.password_env: variable {self.password_env} is not"
                                    " set (export it in the service's environment file)")
            return value
        if self.password_file:
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SecretMissing(f"broker.password_file: cannot read {self.password_file}:"
                                    f" {exc.strerror} (check the path and its permissions)"
                                    ) from exc
        return None


class SecretMissing(RuntimeError):
    """A configured secret cannot be read."""


def make_client(client_id: str, broker: BrokerConfig) -> mqtt.Client:
    """A paho client on MQTT v5 and callback API 2, with credentials applied."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password())
    if broker.tls is not None:
        client.tls_set(
            ca_certs=str(broker.tls.ca_file),
            certfile=None if broker.tls.cert_file is None else str(broker.tls.cert_file),
            keyfile=None if broker.tls.key_file is None else str(broker.tls.key_file),
        )
    client.on_socket_open = _no_delay
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    return client


def _no_delay(_client: mqtt.Client, _userdata: Any, sock: Any) -> None:
    """Send each MQTT packet at once (TCP_NODELAY).

    With Nagle's algorithm a small packet written while an earlier one is
    unacknowledged waits for the peer's delayed ACK (~40 ms on Linux): that
    was most of a scan's confirm latency. Not every transport is a TCP socket
    (websockets, a UNIX socket), so anything that refuses the option is left as is.
    """
    setsockopt = getattr(sock, "setsockopt", None)
    if setsockopt is None:
        return
    with contextlib.suppress(OSError):
        setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
