"""Parts for fault tests: a station process, a TCP proxy that can be cut, a
scanner that can be unplugged, and the lost/doubled accounting every fault test
prints."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from gateway.config import StationConfig
from tests.harness import rows

SERIAL_PATTERN = {"PHONE": {"regex": r"SN-[0-9]{6}"}}
"""Only whole serials are good: a fragment of a scan cut by a fault is a bad read,
never a registration."""


def serial(i: int) -> str:
    return f"SN-{i:06d}"


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = 30.0,
             every_s: float = 0.05) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout_s}s waiting for {what}"
        time.sleep(every_s)


def count(db: Path, sql: str, *args: object) -> int:
    """One number from a database another process may be writing (0 before it exists)."""
    if not db.exists():
        return 0
    try:
        return int(rows(db, sql, *args)[0][0])
    except Exception as exc:  # the station may be creating its schema right now
        if "no such table" in str(exc) or "locked" in str(exc):
            return 0
        raise


def pending(db: Path) -> int:
    return count(db, "SELECT COUNT(*) FROM journal WHERE state = 'pending'")


# -- accounting ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    sent: int
    answered_good: int
    confirmed: int
    lost: int
    doubled: int


def account(station_db: Path, store_db: Path, sent: int, label: str) -> Figures:
    """What the operator heard as good (journal rows accepted and meant for the
    store) against what the store accepted: lost and doubled must be 0."""
    good = {r[0] for r in rows(station_db, "SELECT id FROM journal"
                               " WHERE accepted = 1 AND state != 'local'")}
    stored = [r[0] for r in rows(store_db, "SELECT id FROM station_registrations"
                                 " WHERE status = 'accepted'")]
    lost = len(good - set(stored))
    doubled = len(stored) - len(set(stored))
    serials = [r[0] for r in rows(store_db, "SELECT serial FROM sales_registration"
                                  " WHERE status = 'live'")]
    doubled += len(serials) - len(set(serials))
    figures = Figures(sent, len(good), len(stored), lost, doubled)
    print(f"{label}: scans sent {sent}, answered good {len(good)}, confirmed at the store "
          f"{len(stored)}, lost {lost}, doubled {doubled}")
    return figures


# -- the station as a process ----------------------------------------------------------


def write_config(config: StationConfig, path: Path) -> Path:
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_none=True)))
    return path


class StationProcess:
    """``python -m scangw.cli station --config FILE``, killed and started at will."""

    def __init__(self, config_path: Path, log_path: Path, *,
                 ignore_sigxfsz: bool = False) -> None:
        self.config_path = config_path
        self.log_path = log_path
        self.ignore_sigxfsz = ignore_sigxfsz
        """Start with SIGXFSZ ignored, so a write over RLIMIT_FSIZE fails with EFBIG
        instead of killing the process (as a full disk fails with ENOSPC)."""
        self._process: subprocess.Popen[bytes] | None = None
        self._online_before = 0

    def start(self) -> None:
        assert self._process is None, "the station is already running"
        self._online_before = self._online_count()
        argv = ["station", "--config", str(self.config_path)]
        run = ["-m", "scangw.cli", *argv]
        if self.ignore_sigxfsz:
            run = ["-c", "import runpy, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
                   f" sys.argv = ['scangw', *{argv!r}];"
                   " runpy.run_module('scangw.cli', run_name='__main__')"]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-X", "faulthandler", *run],
                stdout=log, stderr=subprocess.STDOUT,
                cwd=Path(__file__).resolve().parents[2],
            )

    def kill(self) -> None:
        """SIGKILL: no clean stop, no last commit, nothing flushed."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=10)
        self._process = None

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def reading(self) -> bool:
        """The scanner port of the latest start is open: the driver logged it online
        (what the scanner sends before that is flushed at open, as on a real port)."""
        return self.alive and self._online_count() > self._online_before

    def _online_count(self) -> int:
        return self.log_tail(10**8).count("scanner gun: online")

    def dump(self) -> str:
        """SIGABRT: faulthandler writes every thread's stack to the log; returns it."""
        if self._process is not None:
            self._process.send_signal(signal.SIGABRT)
            self._process.wait(timeout=10)
            self._process = None
        return self.log_tail(6000)

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() \
            else ""


# -- a scanner that can be unplugged ---------------------------------------------------


class PluggedPty:
    """A pty reached through a symlink, like /dev/serial/by-id/...: unplugging closes
    both ends (the reader gets EIO), replugging makes a new pty at the same link."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = -1
        self.slave = -1
        self._lock = threading.Lock()
        self.plug()

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        self.link.symlink_to(os.ttyname(self.slave))

    def unplug(self) -> None:
        with self._lock:
            for fd in (self.master, self.slave):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self.master = self.slave = -1
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view):]

    def trickle(self, data: bytes, chunk: int, gap_s: float) -> bytes:
        """Write ``data`` a few bytes at a time until it is all out or the scanner is
        unplugged (from another thread); returns what got out."""
        out = 0
        while out < len(data):
            with self._lock:
                if self.master < 0:
                    break
                out += os.write(self.master, data[out:out + chunk])
            time.sleep(gap_s)
        return data[:out]


def write_in_background(write: Callable[[bytes], None], data: bytes) -> threading.Thread:
    """Write a burst at once (it blocks while nobody reads the pty)."""
    thread = threading.Thread(target=write, args=(data,), daemon=True)
    thread.start()
    return thread


# -- a network that can be cut ---------------------------------------------------------


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 between a client and ``target``. ``cut`` closes every
    connection and stops listening (new connections are refused); ``restore``
    listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self.accepted = 0
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def stall(self) -> None:
        """A black hole: connections stay open but nothing gets through (a dead
        switch, a Wi-Fi dead spot); only keepalive can tell."""
        self._flowing.clear()

    def flow(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        self._flowing.set()
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._conns |= {client, upstream}
                self.accepted += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


class Answers:
    """What the station sends back to the scanner (feedback bytes), read from the
    pty's master side in a thread: ACK (06) for good, NAK (15) for bad."""

    GOOD, BAD = b"\x06", b"\x15"

    def __init__(self, master: int) -> None:
        self._master = master
        self._seen = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(self._master, 4096)
                except OSError:
                    return
                with self._lock:
                    self._seen += data

    def take(self, n: int, timeout_s: float = 20.0) -> bytes:
        """The next ``n`` answers (waits for them)."""
        wait_for(f"{n} answers from the station", lambda: len(self._seen) >= n, timeout_s,
                 0.01)
        with self._lock:
            got = bytes(self._seen[:n])
            del self._seen[:n]
        return got

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
