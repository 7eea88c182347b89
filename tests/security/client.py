"""A raw MQTT v5 client for the security tests: a station, the store or an intruder.

It records what the broker answered (CONNACK, PUBACK and SUBACK reason codes)
and what it received, so a test can assert on the broker's decision itself.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from scangw.mqtt import BrokerConfig, make_client

TIMEOUT = 10.0


class Recorder:
    def __init__(self, broker: BrokerConfig, name: str = "peer") -> None:
        self.cond = threading.Condition()
        self.connack: ReasonCode | None = None
        self.disconnected: ReasonCode | None = None
        self.pubacks: dict[int, int] = {}
        self.subacks: dict[int, list[int]] = {}
        self.messages: list[tuple[str, bytes]] = []
        self.client = make_client(f"{name}-{uuid.uuid4().hex[:6]}", broker)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect_async(broker.host, broker.port)
        self.client.loop_start()

    # -- paho's thread ------------------------------------------------------------------

    def _note(self, change: Callable[[], None]) -> None:
        with self.cond:
            change()
            self.cond.notify_all()

    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: ReasonCode, _p: Any) -> None:
        self._note(lambda: setattr(self, "connack", rc))

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: ReasonCode,
                       _p: Any) -> None:
        self._note(lambda: setattr(self, "disconnected", rc))

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, rc: ReasonCode, _p: Any) -> None:
        self._note(lambda: self.pubacks.__setitem__(mid, rc.value))

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, rcs: list[ReasonCode],
                      _p: Any) -> None:
        self._note(lambda: self.subacks.__setitem__(mid, [r.value for r in rcs]))

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._note(lambda: self.messages.append((msg.topic, bytes(msg.payload))))

    # -- the test's thread --------------------------------------------------------------

    def wait(self, what: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
        with self.cond:
            return self.cond.wait_for(what, timeout)

    def connected(self) -> Recorder:
        assert self.wait(lambda: self.connack is not None), "no CONNACK from the broker"
        assert self.connack is not None
        assert not self.connack.is_failure, f"the broker refused the connection: {self.connack}"
        return self

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> int:
        """Publish at QoS 1 and return the broker's PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        assert self.wait(lambda: info.mid in self.pubacks), f"no PUBACK for {topic}"
        return self.pubacks[info.mid]

    def subscribe(self, *topics: str) -> list[int]:
        """Subscribe at QoS 1 and return the SUBACK reason codes."""
        _, mid = self.client.subscribe([(t, 1) for t in topics])
        assert mid is not None, f"not connected: cannot subscribe to {topics}"
        assert self.wait(lambda: mid in self.subacks), f"no SUBACK for {topics}"
        return self.subacks[mid]

    def received(self, topic: str) -> list[dict[str, Any]]:
        with self.cond:
            return [json.loads(p) for t, p in self.messages if t == topic]

    def wait_for_message(self, topic: str, count: int = 1) -> list[dict[str, Any]]:
        assert self.wait(lambda: len([t for t, _ in self.messages if t == topic]) >= count), \
            f"fewer than {count} message(s) on {topic}"
        return self.received(topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
