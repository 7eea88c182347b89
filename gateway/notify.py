"""Tell systemd how the service is doing (``Type=notify``), without any library.

systemd starts the unit with ``NOTIFY_SOCKET`` naming a unix datagram socket; one
datagram of ``KEY=value`` lines tells it the service is ready (``READY=1``), is
stopping (``STOPPING=1``), what it is doing (``STATUS=...``) or is still alive
(``WATCHDOG=1``). With ``WatchdogSec=`` set, systemd passes ``WATCHDOG_USEC`` and
restarts the service when pings stop; the ping runs as a task on the event loop,
so a blocked loop (a hung device read, a stuck commit) stops the pings too.

Outside systemd (a terminal, the tests, the demo) every call does nothing, so the
service code calls it unconditionally. A failed send is logged once and never
raised: telling systemd must not take the gateway down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping

__all__ = ["SystemdNotifier", "supervised"]

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends state to the service manager through ``$NOTIFY_SOCKET``.

    ``environ`` defaults to ``os.environ`` and is read once, at construction.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = _socket_address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_interval_s = _watchdog_interval(env)
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when running under a service manager that listens."""
        return self.address is not None

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=value`` lines as one datagram; False when not sent."""
        if self.address is None:
            return False
        message = "\n".join(assignments).encode("utf-8", "replace")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message, self.address)
        except OSError as exc:
            if not self._warned:
                log.warning("cannot notify systemd at %r: %s (service state is not reported)",
                            self.address, exc)
                self._warned = True
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """Startup is done: scanners open, journal open, uplink started."""
        return self.send("READY=1", *_status(status))

    def stopping(self, status: str | None = None) -> bool:
        """Shutdown has begun; systemd waits for exit (up to ``TimeoutStopSec``)."""
        return self.send("STOPPING=1", *_status(status))

    def reloading(self, status: str | None = None) -> bool:
        """A reload (SIGHUP) has begun; call :meth:`ready` when it is done."""
        monotonic_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={monotonic_us}", *_status(status))

    def status(self, text: str) -> bool:
        """One line for ``systemctl status`` (e.g. "2 scanners online, outbox 0")."""
        return self.send(*_status(text))

    def watchdog(self) -> bool:
        """Prove liveness once; see :meth:`run_watchdog`."""
        return self.send("WATCHDOG=1")

    async def run_watchdog(self, healthy: Callable[[], bool] | None = None) -> None:
        """Ping the watchdog at half the interval systemd asked for, until cancelled.

        ``healthy`` (optional) is asked before each ping; returning False skips
        the ping, so systemd restarts a service that is alive but stuck. Returns
        at once when systemd set no watchdog.
        """
        interval = self.watchdog_interval_s
        if interval is None or not self.enabled:
            return
        while True:
            if healthy is None or healthy():
                self.watchdog()
            else:
                log.warning("health check failed: watchdog not pinged")
            await asyncio.sleep(interval / 2)

    def start_watchdog(
        self, healthy: Callable[[], bool] | None = None
    ) -> asyncio.Task[None] | None:
        """Start :meth:`run_watchdog` as a task on the running loop (None if no watchdog)."""
        if self.watchdog_interval_s is None or not self.enabled:
            return None
        return asyncio.get_running_loop().create_task(
            self.run_watchdog(healthy), name="systemd-watchdog"
        )

    @staticmethod
    async def stop_watchdog(task: asyncio.Task[None] | None) -> None:
        """Cancel a task from :meth:`start_watchdog` and wait for it."""
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def supervised(
    status: str | None = None,
    healthy: Callable[[], bool] | None = None,
    notifier: SystemdNotifier | None = None,
) -> AsyncIterator[SystemdNotifier]:
    """READY=1 and the watchdog on entry, STOPPING=1 on exit (also on errors).

    Enter it once the service has started, leave it before stopping it::

        await service.start()
        async with supervised("2 scanners online"):
            await until_signalled()
        await service.stop()
    """
    notifier = SystemdNotifier() if notifier is None else notifier
    notifier.ready(status)
    task = notifier.start_watchdog(healthy)
    try:
        yield notifier
    finally:
        await notifier.stop_watchdog(task)
        notifier.stopping()


def _status(text: str | None) -> list[str]:
    if text is None:
        return []
    return ["STATUS=" + " ".join(text.split())]  # one line: a newline would end the field


def _socket_address(value: str) -> str | None:
    """``@name`` is the Linux abstract namespace (a leading NUL byte)."""
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    if value:
        log.warning("NOTIFY_SOCKET=%r is not a unix socket path; not notifying systemd", value)
    return None


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Seconds from ``WATCHDOG_USEC``, if the watchdog is meant for this process."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 if value > 0 else None
