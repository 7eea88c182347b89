"""The systemd notifier against a real unix datagram socket set as NOTIFY_SOCKET."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.notify import SystemdNotifier, supervised


class Manager:
    """Plays systemd's side: a bound datagram socket that collects notifications."""

    def __init__(self, sock: socket.socket, env_value: str) -> None:
        self.sock = sock
        self.env_value = env_value

    def messages(self) -> list[str]:
        out = []
        self.sock.setblocking(False)
        while True:
            try:
                out.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return out


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[Manager]:
    path = tmp_path / "notify.sock"
    assert len(str(path)) < 100, "unix socket paths must stay under 108 bytes"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        yield Manager(sock, str(path))


@pytest.fixture
def abstract_manager() -> Iterator[Manager]:
    name = f"scangw-test-{os.getpid()}-{os.urandom(4).hex()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        yield Manager(sock, "@" + name)


def test_ready_status_stopping_reach_the_socket(manager: Manager) -> None:
    notifier = SystemdNotifier({"NOTIFY_SOCKET": manager.env_value})
    assert notifier.enabled
    assert notifier.ready("2 scanners\nonline")
    assert notifier.status("outbox 3")
    assert notifier.stopping()
    assert manager.messages() == [
        "READY=1\nSTATUS=2 scanners online",  # a newline in a status cannot split the field
        "STATUS=outbox 3",
        "STOPPING=1",
    ]


def test_reloading_carries_the_monotonic_clock(manager: Manager) -> None:
    SystemdNotifier({"NOTIFY_SOCKET": manager.env_value}).reloading()
    [message] = manager.messages()
    first, second = message.split("\n")
    assert first == "RELOADING=1"
    key, value = second.split("=")
    assert key == "MONOTONIC_USEC"
    assert int(value) > 0


def test_abstract_namespace_socket(abstract_manager: Manager) -> None:
    assert SystemdNotifier({"NOTIFY_SOCKET": abstract_manager.env_value}).ready()
    assert abstract_manager.messages() == ["READY=1"]


def test_without_notify_socket_everything_is_a_no_op() -> None:
    notifier = SystemdNotifier({"WATCHDOG_USEC": "100000"})
    assert not notifier.enabled
    assert not notifier.ready()
    assert not notifier.watchdog()

    async def go() -> None:
        assert notifier.start_watchdog() is None
        await asyncio.wait_for(notifier.run_watchdog(), 1)  # returns at once

    asyncio.run(go())


def test_a_missing_socket_is_logged_once_and_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    with caplog.at_level(logging.WARNING, logger="gateway.notify"):
        assert not notifier.ready()
        assert not notifier.watchdog()
    assert len(caplog.records) == 1
    assert "gone.sock" in caplog.records[0].getMessage()


def test_a_relative_notify_socket_is_refused() -> None:
    assert not SystemdNotifier({"NOTIFY_SOCKET": "relative.sock"}).enabled


def _run_watchdog_for(
    notifier: SystemdNotifier, seconds: float, healthy: Callable[[], bool] | None = None
) -> None:
    async def go() -> None:
        task = notifier.start_watchdog(healthy)
        assert task is not None
        await asyncio.sleep(seconds)
        await SystemdNotifier.stop_watchdog(task)
        assert task.done()

    asyncio.run(go())


def test_watchdog_pings_at_half_the_interval(manager: Manager) -> None:
    notifier = SystemdNotifier(
        {"NOTIFY_SOCKET": manager.env_value, "WATCHDOG_USEC": "200000"}
    )
    assert notifier.watchdog_interval_s == pytest.approx(0.2)
    _run_watchdog_for(notifier, 0.35)  # pings at 0, 0.1, 0.2, 0.3
    pings = manager.messages()
    assert set(pings) == {"WATCHDOG=1"}
    assert 3 <= len(pings) <= 5


def test_watchdog_skips_pings_while_unhealthy(manager: Manager) -> None:
    notifier = SystemdNotifier(
        {"NOTIFY_SOCKET": manager.env_value, "WATCHDOG_USEC": "100000"}
    )
    _run_watchdog_for(notifier, 0.2, healthy=lambda: False)
    assert manager.messages() == []


def test_a_blocked_event_loop_stops_the_pings(manager: Manager) -> None:
    """The point of pinging from the loop: a hung loop lets systemd restart us."""
    notifier = SystemdNotifier(
        {"NOTIFY_SOCKET": manager.env_value, "WATCHDOG_USEC": "100000"}
    )

    async def go() -> None:
        task = notifier.start_watchdog()
        await asyncio.sleep(0)  # first ping
        time.sleep(0.3)  # the loop is stuck: no pings can happen
        assert len(manager.messages()) == 1
        await SystemdNotifier.stop_watchdog(task)

    asyncio.run(go())


def test_watchdog_meant_for_another_process_is_ignored(manager: Manager) -> None:
    notifier = SystemdNotifier({
        "NOTIFY_SOCKET": manager.env_value,
        "WATCHDOG_USEC": "100000",
        "WATCHDOG_PID": str(os.getpid() + 1),
    })
    assert notifier.watchdog_interval_s is None

    async def go() -> None:
        assert notifier.start_watchdog() is None

    asyncio.run(go())


@pytest.mark.parametrize("value", ["", "0", "abc", "-5"])
def test_no_watchdog_for_unset_or_bad_usec(value: str) -> None:
    assert SystemdNotifier({"WATCHDOG_USEC": value}).watchdog_interval_s is None


def test_reads_os_environ_by_default(manager: Manager, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", manager.env_value)
    monkeypatch.setenv("WATCHDOG_USEC", "4000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    notifier = SystemdNotifier()
    assert notifier.watchdog_interval_s == 4.0
    assert notifier.ready()
    assert manager.messages() == ["READY=1"]


def test_supervised_readies_pings_and_says_stopping(manager: Manager) -> None:
    notifier = SystemdNotifier({"NOTIFY_SOCKET": manager.env_value, "WATCHDOG_USEC": "100000"})

    async def go() -> None:
        async with supervised("1 scanner online", notifier=notifier) as inside:
            assert inside is notifier
            await asyncio.sleep(0.12)
            assert manager.messages()[:2] == ["READY=1\nSTATUS=1 scanner online", "WATCHDOG=1"]

    asyncio.run(go())
    assert manager.messages()[-1] == "STOPPING=1"


def test_supervised_says_stopping_when_the_service_fails(manager: Manager) -> None:
    notifier = SystemdNotifier({"NOTIFY_SOCKET": manager.env_value, "WATCHDOG_USEC": "100000"})

    async def go() -> None:
        async with supervised(notifier=notifier):
            raise RuntimeError("journal disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        asyncio.run(go())
    messages = manager.messages()
    assert messages[0] == "READY=1"
    assert messages[-1] == "STOPPING=1"


def test_supervised_outside_systemd_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)

    async def go() -> bool:
        async with supervised("x") as notifier:
            return notifier.enabled

    assert asyncio.run(go()) is False
