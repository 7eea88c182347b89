"""A station process with an order open, for measuring what it writes to disk.

``scangw station`` cannot open a document yet (no command for it), so its scans
would all be refused ``no_document`` and never reach the store. This runs the
same StationService from the same config file, caches ORDER line 1 with
QUANTITY units, opens it, prints ``ready`` once the uplink and the scanner are
up, and stops on SIGTERM:

    python -m bench.stationproc CONFIG QUANTITY
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bench.harness import ready_station
from gateway.config import StationConfig
from gateway.service import StationService
from scangw.configfile import load


async def serve(config: StationConfig, quantity: int) -> None:
    service = StationService(config)
    await service.start()
    try:
        await ready_station(service, quantity, timeout_s=10)
        print("ready", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
    finally:
        await service.stop()


def main(argv: list[str]) -> int:
    asyncio.run(serve(load(StationConfig, Path(argv[0])), int(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
