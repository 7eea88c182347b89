"""TCP scanners over real sockets on 127.0.0.1: client and server mode."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest
from driver_testkit import running, wait_for

from drivers.base import RawScan
from drivers.feedback import HONEYWELL_BAD, HONEYWELL_GOOD
from drivers.tcp import TcpConfig, TcpScanner


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(port: int, **settings: object) -> TcpScanner:
    cfg = TcpConfig.model_validate({"host": "127.0.0.1", "port": port, "terminator": "cr",
                                    "reconnect_initial_s": 0.02, "reconnect_max_s": 0.1,
                                    **settings})
    return TcpScanner("cam1", cfg)


class FakeNetworkScanner:
    """A scanner that listens and sends reads to whoever connects (client-mode peer)."""

    def __init__(self) -> None:
        self.connections: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append((reader, writer))

    @property
    def writer(self) -> asyncio.StreamWriter:
        return self.connections[-1][1]

    async def close(self) -> None:
        for _, writer in self.connections:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def test_client_reads_scans_survives_drop_mid_scan_and_reconnects() -> None:
    sink: list[RawScan] = []

    async def main() -> None:
        peer = FakeNetworkScanner()
        server = await asyncio.start_server(peer.accepted, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        driver = client(port)
        async with server, running(driver, sink):
            await wait_for(lambda: len(peer.connections) == 1 and driver.online)
            peer.writer.write(b"0104012345678901\rHALF-SC")
            await wait_for(lambda: len(sink) == 1)
            await asyncio.sleep(0.05)
            peer.writer.close()
            await wait_for(lambda: len(peer.connections) == 2)
            peer.writer.write(b"AN\rAFTER\r")
            await wait_for(lambda: len(sink) == 3)
            await peer.close()

    asyncio.run(main())
    assert [s.data for s in sink] == [b"0104012345678901", b"AN", b"AFTER"]
    assert {s.scanner for s in sink} == {"cam1"}


def test_client_retries_with_backoff_until_the_scanner_listens() -> None:
    sink: list[RawScan] = []
    port = free_port()

    async def main() -> None:
        peer = FakeNetworkScanner()
        driver = client(port)
        async with running(driver, sink):
            await asyncio.sleep(0.3)  # nothing listens: connects fail, backoff caps at 0.1 s
            assert not driver.online
            server = await asyncio.start_server(peer.accepted, "127.0.0.1", port)
            async with server:
                await wait_for(lambda: len(peer.connections) == 1, timeout=2)
                peer.writer.write(b"LATE\r")
                await wait_for(lambda: len(sink) == 1)
                await peer.close()

    asyncio.run(main())
    assert [s.data for s in sink] == [b"LATE"]


def test_client_feedback_reaches_the_scanner() -> None:
    async def main() -> bytes:
        peer = FakeNetworkScanner()
        server = await asyncio.start_server(peer.accepted, "127.0.0.1", 0)
        driver = client(server.sockets[0].getsockname()[1], feedback="honeywell")
        async with server, running(driver, []):
            await wait_for(lambda: driver.online)
            await driver.feedback(True)
            await driver.feedback(False)
            reader = peer.connections[-1][0]
            got = await asyncio.wait_for(reader.readexactly(6), 2)
            await peer.close()
            return got

    assert asyncio.run(main()) == HONEYWELL_GOOD + HONEYWELL_BAD


def test_server_mode_accepts_scanner_drop_and_reconnect() -> None:
    sink: list[RawScan] = []

    async def main() -> bytes:
        cfg = TcpConfig.model_validate({"mode": "server", "host": "127.0.0.1", "port": 0,
                                        "terminator": "crlf", "prefix": "02",
                                        "feedback": "honeywell"})
        driver = TcpScanner("dock", cfg)
        async with running(driver, sink):
            await wait_for(lambda: driver.address is not None)
            assert driver.address is not None
            host, port = driver.address
            _, writer = await asyncio.open_connection(host, port)
            writer.write(b"\x02SN-1\r\n\x02SN-")
            await writer.drain()
            await wait_for(lambda: len(sink) == 1)
            await asyncio.sleep(0.05)
            writer.close()
            await wait_for(lambda: not driver.online)
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"2\r\n\x02SN-3\r\n")
            await writer.drain()
            await wait_for(lambda: len(sink) == 3)
            await driver.feedback(False)
            got = await asyncio.wait_for(reader.readexactly(3), 2)
            writer.close()
            await writer.wait_closed()
            await wait_for(lambda: not driver.online)
            return got

    assert asyncio.run(main()) == HONEYWELL_BAD
    assert [s.data for s in sink] == [b"SN-1", b"2", b"SN-3"]


def test_config_requires_host_and_port() -> None:
    with pytest.raises(ValueError, match="host"):
        TcpConfig.model_validate({"port": 23})
    with pytest.raises(ValueError, match="port"):
        TcpConfig.model_validate({"host": "10.0.0.1", "port": 70000})
