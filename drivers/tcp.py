"""Fixed-mount network scanners (Cognex, Datalogic...) that send reads over TCP.

Either the gateway connects to the scanner (``mode: client``) or the scanner
connects to the gateway (``mode: server``). The stream is framed exactly like a
serial line. A connection that drops mid-scan loses only that partial scan;
the client reconnects with exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Literal

from pydantic import Field

from drivers.base import ScannerDriver, ScanSink, register_driver
from drivers.stream import StreamConfig, StreamScans

log = logging.getLogger(__name__)


class TcpConfig(StreamConfig):
    """A network scanner (``kind: tcp``)."""

    kind: Literal["tcp"] = "tcp"
    mode: Literal["client", "server"] = Field(
        default="client",
        description="client: the gateway connects to the scanner; server: the scanner "
        "connects to the gateway.",
        examples=["client", "server"],
    )
    host: str = Field(
        description="client: the scanner's address; server: the local address to listen on "
        "(0.0.0.0 for all).",
        examples=["192.168.10.31", "0.0.0.0"],  # noqa: S104 - an example, not a bind
    )
    port: int = Field(ge=0, le=65535, description="TCP port.", examples=[2001, 23])
    connect_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="Give up one connect after.",
        examples=[5.0],
    )
    reconnect_initial_s: float = Field(
        default=0.5,
        gt=0,
        description="First wait before reconnecting; doubles each failure.",
        examples=[0.5],
    )
    reconnect_max_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait between tries.",
        examples=[30.0],
    )
    keepalive_s: int = Field(
        default=10,
        ge=1,
        description="TCP keepalive idle time: a scanner that lost power "
        "without closing the connection is noticed after about three times this.",
        examples=[10],
    )


def _keepalive(sock: socket.socket | None, idle_s: int) -> None:
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", idle_s), ("TCP_KEEPINTVL", idle_s), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


@register_driver
class TcpScanner(ScannerDriver):
    kind = "tcp"
    config_model = TcpConfig

    def __init__(self, name: str, config: TcpConfig) -> None:
        super().__init__(name, config)
        self.settings = config
        self._writers: set[asyncio.StreamWriter] = set()
        self.address: tuple[str, int] | None = None
        """Where the server listens once bound (useful with port 0)."""

    async def run(self, emit: ScanSink) -> None:
        if self.settings.mode == "server":
            await self._serve(emit)
        else:
            await self._connect_loop(emit)

    async def feedback(self, good: bool) -> None:
        data = self.settings.feedback_bytes(good)
        if not data:
            return
        for writer in list(self._writers):
            try:
                writer.write(data)
            except OSError as exc:
                log.warning("scanner %s: feedback not sent: %s", self.name, exc)

    async def _connect_loop(self, emit: ScanSink) -> None:
        s = self.settings
        delay = s.reconnect_initial_s
        warned = False
        while True:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(s.host, s.port), s.connect_timeout_s
                )
            except (OSError, TimeoutError) as exc:
                if not warned:
                    log.warning(
                        "scanner %s: cannot connect to %s:%d: %s; retrying with backoff "
                        "up to %.0fs",
                        self.name,
                        s.host,
                        s.port,
                        exc,
                        s.reconnect_max_s,
                    )
                    warned = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, s.reconnect_max_s)
                continue
            warned = False
            delay = s.reconnect_initial_s
            await self._session(reader, writer, emit)
            log.warning(
                "scanner %s: connection to %s:%d lost; reconnecting", self.name, s.host, s.port
            )
            await asyncio.sleep(s.reconnect_initial_s)

    async def _serve(self, emit: ScanSink) -> None:
        s = self.settings
        delay = s.reconnect_initial_s

        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._session(reader, writer, emit)

        while True:
            try:
                server = await asyncio.start_server(connected, s.host, s.port)
            except OSError as exc:
                log.warning(
                    "scanner %s: cannot listen on %s:%d: %s; retrying in %.1fs",
                    self.name,
                    s.host,
                    s.port,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, s.reconnect_max_s)
                continue
            bound = server.sockets[0].getsockname()
            self.address = (str(bound[0]), int(bound[1]))
            log.info("scanner %s: waiting for the scanner on %s:%d", self.name, *self.address)
            try:
                async with server:
                    await server.serve_forever()
            finally:
                for writer in list(self._writers):
                    writer.close()
                self.address = None

    async def _session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, emit: ScanSink
    ) -> None:
        peer = writer.get_extra_info("peername")
        _keepalive(writer.get_extra_info("socket"), self.settings.keepalive_s)
        scans = StreamScans(self.name, self.settings, emit)
        self._writers.add(writer)
        self.online = True
        log.info("scanner %s: connected (%s)", self.name, peer)
        try:
            while chunk := await reader.read(4096):
                scans.feed(chunk)
        except OSError as exc:
            log.debug("scanner %s: connection %s failed: %s", self.name, peer, exc)
        finally:
            if scans.pending:
                log.warning(
                    "scanner %s: connection %s dropped mid-scan; %d bytes discarded",
                    self.name,
                    peer,
                    scans.pending,
                )
            scans.discard()
            self._writers.discard(writer)
            self.online = bool(self._writers)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
