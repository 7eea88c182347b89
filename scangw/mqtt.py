"""Broker settings and the one way both services make a paho client.

paho-mqtt 2.x defaults to its old callback API and MQTT 3.1.1; we always pass
CallbackAPIVersion.VERSION2 and MQTTv5 explicitly (HARDWARE.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import BaseModel, ConfigDict, Field


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

    def password(self) -> str | None:
        if self.password_env:
            return os.environ.get(self.password_env)
        if self.password_file:
            return self.password_file.read_text(encoding="utf-8").strip()
        return None


def make_client(client_id: str, broker: BrokerConfig) -> mqtt.Client:
    """A paho client on MQTT v5 and callback API 2, with credentials applied."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password())
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    return client
