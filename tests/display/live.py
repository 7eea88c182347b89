"""A real station (store, broker, pty scanner) with its display, on a thread of
its own, so a test can drive a blocking browser against it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TypeVar

from gateway.config import StationConfig
from gateway.display import DisplayConfig
from gateway.display.server import DisplayServer
from gateway.service import StationService
from tests.harness import TIMEOUT, running_station

T = TypeVar("T")


class LiveDisplay:
    def __init__(self, service: StationService, display: DisplayServer,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.service = service
        self.display = display
        self.loop = loop
        self.url = f"http://127.0.0.1:{display.port}/"

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the station's event loop (station state is not thread-safe)."""
        async def run() -> T:
            return fn()
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(TIMEOUT)

    def wait(self, fn: Callable[[], T], what: str) -> T:
        async def poll() -> T:
            while not (value := fn()):
                await asyncio.sleep(0.01)
            return value
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(poll(), TIMEOUT), self.loop)
        try:
            return future.result(TIMEOUT + 1)
        except TimeoutError as exc:
            raise AssertionError(f"timed out waiting for {what}") from exc


@contextmanager
def live_display(config: StationConfig, display: DisplayConfig,
                 order: str | None = "SO-1") -> Iterator[LiveDisplay]:
    ready: Future[LiveDisplay] = Future()
    done = threading.Event()

    async def main() -> None:
        async with running_station(config, order) as (service, _events):
            server = DisplayServer(service, display)
            await server.start()
            try:
                ready.set_result(LiveDisplay(service, server, asyncio.get_running_loop()))
                while not done.is_set():
                    await asyncio.sleep(0.02)
            finally:
                await server.stop()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            else:
                raise

    thread = threading.Thread(target=run, name="station", daemon=True)
    thread.start()
    try:
        yield ready.result(TIMEOUT * 2)
    finally:
        done.set()
        thread.join(TIMEOUT * 2)
        assert not thread.is_alive(), "the station did not stop"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CuttableLink:
    """A TCP forwarder in front of the broker whose connections a test can cut."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._conns: list[socket.socket] = []
        self._open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self._open:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every connection and refuse new ones: the network is gone."""
        self._open = False
        self._server.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()


