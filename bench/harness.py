"""What every scenario shares: ptys, the station's config and readiness,
percentiles, and a thread that types scans into a pty.

Everything here runs inside one scenario's child process; the runner removes
the child's temp dir and its process group afterwards, so helpers may leave
files behind on a failure without leaking them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import tty
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gateway.config import StationConfig
from gateway.order_cache import CachedLine
from gateway.service import StationService
from scangw.mqtt import BrokerConfig

SITE = "bench"
STATION = "pack-01"
SCANNER = "handheld"
ITEM = "PHONE-X1"
ORDER = "SO-BENCH"


class ScenarioFailed(RuntimeError):
    """A scenario could not produce its figure; the message says why."""


@dataclass
class Pty:
    """A pseudo-terminal in raw mode: we write the master, the station opens ``path``."""

    master: int
    slave: int
    path: str

    @classmethod
    def open(cls) -> Pty:
        master, slave = os.openpty()
        tty.setraw(slave)
        return cls(master, slave, os.ttyname(slave))

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@contextlib.contextmanager
def open_pty() -> Iterator[Pty]:
    p = Pty.open()
    try:
        yield p
    finally:
        p.close()


def serials(count: int, prefix: str = "SN-B") -> list[bytes]:
    """Distinct serials, fixed width so every scan is the same size."""
    return [f"{prefix}{i:07d}".encode() for i in range(count)]


def station_config(workdir: Path, broker: BrokerConfig, device: str,
                   terminator: str = "lf") -> StationConfig:
    return StationConfig.model_validate({
        "station": {"site": SITE, "id": STATION, "database": workdir / "station.db"},
        "broker": broker.model_dump(),
        "scanners": {SCANNER: {"kind": "serial", "port": device, "terminator": terminator}},
    })


async def ready_station(service: StationService, quantity: int, timeout_s: float) -> None:
    """Cache ORDER line 1, open it, and wait for the uplink and the scanner."""
    await service.cache_order([CachedLine(ORDER, 1, ITEM, quantity)])
    service.open_document(ORDER, 1)
    assert service.uplink is not None
    try:
        await asyncio.wait_for(service.uplink.connected.wait(), timeout_s)
        await asyncio.wait_for(_scanners_online(service), timeout_s)
    except TimeoutError:
        raise ScenarioFailed(f"the station was not ready within {timeout_s}s") from None


async def _scanners_online(service: StationService) -> None:
    while not all(d.online for d in service.scanners.values()):
        await asyncio.sleep(0.005)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 of 1000 is the 990th value)."""
    if not values:
        raise ScenarioFailed("no samples to take a percentile of")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


@dataclass(eq=False)
class Typist(threading.Thread):
    """Types scans into a pty from its own thread, as a scanner would.

    ``rate`` None writes everything in one go (a docked handheld's upload);
    otherwise one scan every 1/rate s on an absolute schedule, so a late write
    does not shift the ones after it. ``stamps[i]`` is ``perf_counter_ns`` taken
    just before the write holding scan i's terminator.
    """

    fd: int
    scans: list[bytes]
    rate: float | None = None
    terminator: bytes = b"\n"
    stamps: list[int] = field(default_factory=list)
    error: BaseException | None = None

    def __post_init__(self) -> None:
        super().__init__(name="typist", daemon=True)

    def run(self) -> None:
        try:
            if self.rate is None:
                self.stamps.append(time.perf_counter_ns())
                _write_all(self.fd, b"".join(s + self.terminator for s in self.scans))
                return
            period_ns = int(1e9 / self.rate)
            due = time.perf_counter_ns()
            for scan in self.scans:
                delay = due - time.perf_counter_ns()
                if delay > 0:
                    time.sleep(delay / 1e9)
                if scan:
                    _write_all(self.fd, scan)
                self.stamps.append(time.perf_counter_ns())
                _write_all(self.fd, self.terminator)
                due += period_ns
        except BaseException as exc:
            self.error = exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
