"""What a running station shows about itself: ``/status`` (JSON, read by
``scangw status``) and ``/metrics`` (Prometheus), on a local HTTP port.

Fed from the event stream like any other subscriber, so watching the station
never slows the scan path. Bound to 127.0.0.1 unless the config says otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from drivers.base import ScannerDriver
from gateway.config import MonitorConfig
from gateway.events import DecisionMade, StoreAnswered
from gateway.journal import OutboxSummary, outbox_summary
from scangw import __version__
from scangw.logs import escape_scan

if TYPE_CHECKING:
    from gateway.service import StationService

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_PROBLEMS = frozenset({"internal_error", "journal_failed", "unreadable", "overlong"})


class Monitor:
    def __init__(self, service: StationService, config: MonitorConfig) -> None:
        self.service = service
        self.config = config
        self.registry = CollectorRegistry()
        self.started = time.time()
        self.problems: deque[dict[str, Any]] = deque(maxlen=20)
        self.outbox = OutboxSummary(0, None, None)
        self.port: int | None = None
        r = self.registry
        self.scans = Counter("scangw_scans", "Scans answered, by decision and reason",
                             ["decision", "reason"], registry=r)
        self.latency = Histogram("scangw_decision_seconds",
                                 "Terminator to committed decision", buckets=_LATENCY_BUCKETS,
                                 registry=r)
        self.acks = Counter("scangw_store_acks", "Store acknowledgements, by status",
                            ["status"], registry=r)
        Gauge("scangw_outbox_depth", "Registrations waiting for the store", registry=r
              ).set_function(lambda: self.outbox.depth)
        Gauge("scangw_outbox_oldest_age_seconds", "Age of the oldest waiting registration",
              registry=r).set_function(self._oldest_age)
        Gauge("scangw_broker_connected", "1 when connected to the broker", registry=r
              ).set_function(self._connected)
        online = Gauge("scangw_scanner_online", "1 when the scanner is attached", ["scanner"],
                       registry=r)
        for name, driver in service.scanners.items():
            online.labels(name).set_function(_online_of(driver))
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/status", self._status)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.config.port
        self._tasks = [asyncio.create_task(self._follow_events()),
                       asyncio.create_task(self._poll_outbox())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._runner is not None:
            await self._runner.cleanup()

    def status(self) -> dict[str, Any]:
        svc = self.service
        uplink = svc.uplink
        contexts = []
        for ctx in svc.station.contexts():
            line = svc.station.line(*ctx.current) if ctx.current else None
            contexts.append({
                "scope": ctx.scope, "mode": ctx.mode.value,
                "order": ctx.current[0] if ctx.current else None,
                "line": ctx.current[1] if ctx.current else None,
                "item": line.item_id if line else None,
                "registered": len(line.serials) if line else None,
                "quantity": line.quantity if line else None,
            })
        return {
            "station": svc.config.station.id, "site": svc.config.station.site,
            "version": __version__, "uptime_s": round(time.time() - self.started, 1),
            "scanners": [{"name": n, "kind": d.kind, "online": d.online}
                         for n, d in svc.scanners.items()],
            "contexts": contexts,
            "outbox": {"depth": self.outbox.depth, "oldest_age_s": self._oldest_age(),
                       "in_flight": uplink.inflight if uplink else 0},
            "broker": {"connected": bool(self._connected()),
                       "last_error": uplink.last_error if uplink else None},
            "last_problems": list(self.problems),
        }

    async def _status(self, _request: web.Request) -> web.Response:
        return web.json_response(self.status())

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _follow_events(self) -> None:
        events = self.service.events.subscribe(maxsize=1000)
        try:
            while True:
                event = await events.get()
                if isinstance(event, DecisionMade):
                    entry = event.entry
                    self.scans.labels("good" if entry.accepted else "bad", entry.reason).inc()
                    self.latency.observe(event.latency_ns / 1e9)
                    if entry.reason in _PROBLEMS:
                        self._problem(entry.reason, entry.message, entry.data)
                elif isinstance(event, StoreAnswered):
                    self.acks.labels("accepted" if event.accepted else "refused").inc()
                    if not event.accepted:
                        self._problem("late_refusal", event.message, "")
        finally:
            self.service.events.unsubscribe(events)

    async def _poll_outbox(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                self.outbox = await self.service.db.run(outbox_summary)
            await asyncio.sleep(self.config.outbox_poll_s)

    def _problem(self, reason: str, message: str, data: str) -> None:
        self.problems.append({"at": round(time.time(), 3), "reason": reason,
                              "message": message, "data": escape_scan(data, limit=80)})

    def _oldest_age(self) -> float:
        oldest = self.outbox.oldest_ts
        return 0.0 if oldest is None else max(0.0, time.time() - oldest)

    def _connected(self) -> float:
        uplink = self.service.uplink
        return float(uplink is not None and uplink.connected.is_set())


def _online_of(driver: ScannerDriver) -> Callable[[], float]:
    return lambda: float(driver.online)
