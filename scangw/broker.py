"""Run a private Mosquitto on a free loopback port (demo and tests)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

SEARCH_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto")


class BrokerUnavailable(RuntimeError):
    pass


def find_mosquitto() -> str:
    found = shutil.which("mosquitto") or next(
        (p for p in SEARCH_PATHS if Path(p).exists()), None
    )
    if found is None:
        raise BrokerUnavailable(
            "mosquitto is not installed: run 'sudo apt-get install mosquitto' "
            "or configure an existing broker"
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalBroker:
    """A mosquitto process bound to 127.0.0.1 that lives as long as this object.

    By default it is an open broker (anonymous, no TLS). ``config`` replaces that
    with a whole mosquitto.conf (e.g. the shipped config/mosquitto/ one with its
    paths adapted); it must listen on ``port`` on 127.0.0.1. Either way the broker
    logs to ``log_path``, and when started as root it keeps this user instead of
    switching to ``mosquitto`` (which could not read a test's private files).
    """

    def __init__(self, workdir: Path, port: int | None = None, *,
                 config: str | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.config = config
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "mosquitto.log"

    def log_text(self) -> str:
        """What the broker logged so far ('' before it started)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _config_text(self) -> str:
        body = self.config if self.config is not None else (
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "max_queued_messages 100000\n"
            "set_tcp_nodelay true\n"
        )
        tail = f"\n# added by LocalBroker\nlog_dest file {self.log_path}\n"
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            tail += "user root\n"
        return body + tail

    def start(self, timeout_s: float = 10.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(self._config_text())
        self._process = subprocess.Popen(
            [find_mosquitto(), "-c", str(conf)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                detail = self.log_text()[-800:] or "no log"
                raise BrokerUnavailable(f"mosquitto exited at start: {detail}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise BrokerUnavailable(f"mosquitto did not listen on port {self.port} in {timeout_s}s")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
