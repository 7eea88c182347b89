"""The naive baseline: read the pty line by line, publish each line at QoS 1 and
wait for its PUBACK before reading the next.

``python -m bench.naive DEVICE HOST PORT COUNT`` prints ``ready`` once connected,
then, after COUNT lines, the ``perf_counter_ns`` of the last PUBACK. No journal,
no rules, no store: what a gateway costs without its guarantees.
"""

from __future__ import annotations

import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

TOPIC = "bench/naive/scans"


def main(argv: list[str]) -> int:
    device, host, port, count = argv[0], argv[1], int(argv[2]), int(argv[3])
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-naive",
                         protocol=mqtt.MQTTv5)
    client.connect(host, port)
    client.loop_start()
    last = 0
    with open(device, "rb") as scanner:
        print("ready", flush=True)
        for _ in range(count):
            line = scanner.readline().rstrip(b"\n")
            client.publish(TOPIC, line, qos=1).wait_for_publish(timeout=10)
            last = time.perf_counter_ns()
    print(last, flush=True)
    client.disconnect()
    client.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
