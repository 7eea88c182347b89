"""The operator display's web server: the page, a server-sent event stream fed
from the station's event bus, touch commands and alert acknowledgements.

One bounded subscription to ``service.events``; each browser gets its own small
queue of whole snapshots. A slow or dead browser loses old snapshots, never
delays a scan: nothing here is awaited on the scan path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

from aiohttp import web

from gateway.commands import Command, CommandName
from gateway.display.auth import same_origin, token_middleware
from gateway.display.config import DisplayConfig
from gateway.display.view import (
    Alerts,
    LastScan,
    RecentEntries,
    last_scan,
    refusal_alert_text,
    snapshot,
)
from gateway.events import DecisionMade, Event, StoreAnswered

if TYPE_CHECKING:  # the service starts the display: no import cycle at run time
    from gateway.service import StationService

log = logging.getLogger(__name__)

STATIC: Final = Path(__file__).parent / "static"
TOUCH_COMMANDS: Final = (CommandName.MODE_ADD, CommandName.MODE_REMOVE,
                         CommandName.NOT_READABLE, CommandName.PREV_LINE,
                         CommandName.NEXT_LINE, CommandName.POST, CommandName.UNDO_LAST)
"""The buttons on the page; each runs exactly like its command barcode."""
TICK_S: Final = 0.5
"""How often the server looks for changes no event announces (link, order updates)."""
KEEPALIVE_S: Final = 15.0
HEADERS: Final = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self';"
    " img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none';"
    " frame-ancestors 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class _Browser:
    """One open event stream: the latest snapshots it has not been sent yet."""

    def __init__(self, scanner: str) -> None:
        self.scanner = scanner
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(4)
        self.sent = b""

    def offer(self, message: bytes) -> None:
        if message == self.sent:
            return
        self.sent = message
        if self.queue.full():
            self.queue.get_nowait()  # only the newest whole snapshot matters
        self.queue.put_nowait(message)

    def close(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)  # ends its stream


class DisplayServer:
    """Serves the live page for the packer; start()/stop() with the station."""

    def __init__(self, service: StationService, config: DisplayConfig) -> None:
        self.service = service
        self.config = config
        self.alerts = Alerts()
        self._recent = RecentEntries()
        self._last: dict[str, LastScan] = {}  # by context scope
        self._browsers: set[_Browser] = set()
        self._events: asyncio.Queue[Event] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._down_since: float | None = None
        self.port = config.port
        """The bound port (the real one when the config says 0)."""

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        token = self.config.token()
        scanner = self.config.scanner
        if scanner is not None and scanner not in self.service.scanners:
            raise ValueError(f"display.scanner: no scanner named {scanner!r}; this station"
                             f" has {', '.join(self.service.scanners)}")
        app = web.Application(middlewares=[token_middleware(token), same_origin])
        app.router.add_get("/", self._page)
        app.router.add_get("/healthz", self._health)
        app.router.add_get("/events", self._stream)
        app.router.add_post("/api/command", self._command)
        app.router.add_post("/api/alerts/{alert_id}/ack", self._ack)
        app.router.add_static("/static", STATIC)
        app.on_response_prepare.append(_secure_headers)
        self._events = self.service.events.subscribe(maxsize=1000)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            raise OSError(exc.errno, f"display: cannot listen on {self.config.host}:"
                          f"{self.config.port}: {exc.strerror} (is the port taken? set"
                          " display.port)") from exc
        self.port = int(self._runner.addresses[0][1])
        self._tasks = [asyncio.create_task(self._consume(), name="display-events"),
                       asyncio.create_task(self._watch(), name="display-watch")]
        log.info("operator display on http://%s:%d/", self.config.host, self.port)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._events is not None:
            self.service.events.unsubscribe(self._events)
            self._events = None
        for browser in self._browsers:
            browser.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- what changes the page ----------------------------------------------------------

    async def _consume(self) -> None:
        assert self._events is not None
        while True:
            event = await self._events.get()
            try:
                self.take(event)
                self._push()
            except Exception:  # a display bug must not freeze the page for good
                log.exception("display: could not show %s", event)

    def take(self, event: Event) -> None:
        """Fold one station event into what the page shows."""
        station = self.service.station
        if isinstance(event, DecisionMade):
            entry = event.entry
            self._last[station.context(entry.scanner).scope] = last_scan(entry)
            if entry.accepted and entry.mode is not None and entry.order_id is not None:
                self._recent.add(entry)
        elif isinstance(event, StoreAnswered) and not event.accepted:
            title, text = refusal_alert_text(self._recent.get(event.entry_id), event.reason,
                                             event.message)
            self.alerts.add("store_refusal", title, text, time.time())
            for last in self._last.values():
                if last.entry_id == event.entry_id:
                    last.verdict, last.word = "bad", "REFUSED BY STORE"
                    last.message = event.message or event.reason

    async def _watch(self) -> None:
        while True:
            try:
                self.check_uplink(time.monotonic())
                self._push()
            except Exception:
                log.exception("display: could not refresh the page")
            await asyncio.sleep(TICK_S)

    def check_uplink(self, now: float) -> None:
        """Banner when the store link has been down longer than the config allows."""
        uplink = self.service.uplink
        if uplink is not None and uplink.connected.is_set():
            if self._down_since is not None:
                alert = self.alerts.find("uplink_down")
                if alert is not None and not alert.resolved:
                    alert.resolved = time.strftime("back since %H:%M:%S")
            self._down_since = None
            return
        if self._down_since is None:
            self._down_since = now
            return
        down_for = now - self._down_since
        current = self.alerts.find("uplink_down")
        if down_for > self.config.uplink_alert_after_s and (
                current is None or current.resolved):
            error = uplink.last_error if uplink is not None else None
            self.alerts.add(
                "uplink_down", "No link to the order store",
                f"down for more than {self.config.uplink_alert_after_s:g} s"
                + (f" ({error})" if error else "") + ". Scans are still saved here and"
                " sent when it is back; opening orders and POST need the store.",
                time.time() - down_for)

    def _push(self) -> None:
        messages: dict[str, bytes] = {}
        for browser in self._browsers:
            if browser.scanner not in messages:
                messages[browser.scanner] = self.message(browser.scanner)
            browser.offer(messages[browser.scanner])

    def message(self, scanner: str) -> bytes:
        station = self.service.station
        uplink = self.service.uplink
        view = snapshot(station, scanner, self._last.get(station.context(scanner).scope),
                        self.alerts.open(), uplink is not None and uplink.connected.is_set())
        return json.dumps(view.as_json(), separators=(",", ":")).encode()

    # -- routes ---------------------------------------------------------------------

    def _scanner(self, request: web.Request) -> str:
        name = request.query.get("scanner") or self.config.scanner or next(
            iter(self.service.scanners))
        if name not in self.service.scanners:
            raise web.HTTPNotFound(text=f"no scanner named {name!r} at this station; known:"
                                        f" {', '.join(self.service.scanners)}\n")
        return name

    async def _page(self, request: web.Request) -> web.StreamResponse:
        self._scanner(request)
        return web.FileResponse(STATIC / "index.html")

    async def _health(self, _request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok\n")

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        browser = _Browser(self._scanner(request))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        self._browsers.add(browser)
        try:
            await response.write(b"retry: 1000\n\n")
            browser.offer(self.message(browser.scanner))
            while True:
                try:
                    message = await asyncio.wait_for(browser.queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if message is None:
                    break
                await response.write(b"data: " + message + b"\n\n")
        except (ConnectionResetError, ConnectionError):
            pass  # the browser went away; it reconnects by itself
        finally:
            self._browsers.discard(browser)
        return response

    async def _command(self, request: web.Request) -> web.StreamResponse:
        scanner = self._scanner(request)
        try:
            body = await request.json()
            name = CommandName(body["command"])
        except (ValueError, KeyError, TypeError):
            allowed = ", ".join(c.value for c in TOUCH_COMMANDS)
            return web.json_response({"error": f"send {{\"command\": NAME}} with NAME one of"
                                               f" {allowed}"}, status=400)
        if name not in TOUCH_COMMANDS:
            return web.json_response({"error": f"{name.value} has no button here"},
                                     status=400)
        # shielded: a browser that hangs up must not cut a command in half
        try:
            await asyncio.shield(self.service.command(scanner, Command(name)))
        except Exception as exc:
            log.exception("display: %s from the touch screen failed", name.value)
            return web.json_response({"error": f"{name.value} failed at the station: {exc};"
                                               " scan its barcode or try again"}, status=500)
        return web.json_response({"ok": True, "command": name.value})

    async def _ack(self, request: web.Request) -> web.StreamResponse:
        alert_id = request.match_info["alert_id"]
        if not self.alerts.ack(alert_id):
            return web.json_response({"error": f"no open alert {alert_id!r}"}, status=404)
        self._push()
        return web.json_response({"ok": True})


async def _secure_headers(_request: web.Request, response: web.StreamResponse) -> None:
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
