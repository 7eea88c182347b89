"""Test helpers: real ptys that behave like a plugged-in serial scanner."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import tty
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from drivers.base import RawScan, ScannerDriver


class PtyScanner:
    """A pty pair; the driver opens ``link`` (a symlink to the slave) like a device path.

    ``unplug`` removes the link and closes the master (reads fail like on a USB unplug);
    ``replug`` makes a new pty behind the same link, as udev would.
    """

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = -1
        self._slave = -1
        self.replug()

    def replug(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tmp = self.link.with_suffix(".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(os.ttyname(self._slave))
        tmp.replace(self.link)

    def unplug(self) -> None:
        # Like udev, drop the link: a dangling link to /dev/pts/N could reach whichever
        # pty (of any process) gets number N next.
        self.link.unlink()
        os.close(self.master)
        os.close(self._slave)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.master, view)
            view = view[written:]

    def write_paced(self, data: bytes, baud: int = 9600) -> threading.Thread:
        """Write byte by byte at the line's pace (10 bits per byte for 8N1) in a thread."""
        per_byte = 10 / baud

        def pace() -> None:
            start = time.perf_counter()
            for i, byte in enumerate(data):
                delay = start + i * per_byte - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                os.write(self.master, bytes([byte]))

        thread = threading.Thread(target=pace, daemon=True)
        thread.start()
        return thread

    def read_feedback(self, size: int, timeout: float = 2.0) -> bytes:
        """Read what the driver sent to the scanner."""
        os.set_blocking(self.master, False)
        got = b""
        deadline = time.monotonic() + timeout
        while len(got) < size and time.monotonic() < deadline:
            try:
                got += os.read(self.master, size - len(got))
            except BlockingIOError:
                time.sleep(0.005)
        return got

    def close(self) -> None:
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until ``condition`` holds; fail the test with a clear message if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def running(driver: ScannerDriver, sink: list[RawScan]) -> AsyncIterator[None]:
    """Run a driver's ``run`` in a task for the body of the block, then cancel it."""
    task = asyncio.create_task(driver.run(sink.append))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
