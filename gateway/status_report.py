"""``scangw status``: read a running station's /status and show it."""

from __future__ import annotations

import io
import json
import urllib.request
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gateway.config import StationConfig
from scangw.configfile import ConfigError, load


def status_url(url: str | None, config: Path | None) -> str:
    """The monitor URL: given, or from the station config, or the default port."""
    if url:
        return url.rstrip("/")
    host, port = "127.0.0.1", 9108
    if config is not None and config.exists():
        try:
            monitor = load(StationConfig, config).monitor
            host = "127.0.0.1" if monitor.host in ("0.0.0.0", "::") else monitor.host  # noqa: S104
            port = monitor.port
        except ConfigError:
            pass
    return f"http://{host}:{port}"


def fetch_status(url: str | None, config: Path | None, timeout_s: float = 3.0) -> Any:
    target = status_url(url, config) + "/status"
    if not target.startswith(("http://", "https://")):
        raise OSError(f"not an http URL: {target}")
    with urllib.request.urlopen(target, timeout=timeout_s) as response:  # noqa: S310
        return json.load(response)


def render_status(status: Any, as_json: bool) -> str:
    if as_json:
        return json.dumps(status, indent=2)
    out = io.StringIO()
    console = Console(file=out, width=110, color_system=None)
    broker = status["broker"]
    outbox = status["outbox"]
    console.print(f"station {status['site']}/{status['station']}  version {status['version']}"
                  f"  up {status['uptime_s']:.0f}s")
    console.print(f"broker  {'connected' if broker['connected'] else 'NOT CONNECTED'}"
                  + (f"  ({broker['last_error']})" if broker["last_error"] else ""))
    console.print(f"outbox  {outbox['depth']} waiting, oldest {outbox['oldest_age_s']:.0f}s, "
                  f"{outbox['in_flight']} in flight")
    scanners = Table("scanner", "kind", "state", title=None)
    for s in status["scanners"]:
        scanners.add_row(s["name"], s["kind"], "online" if s["online"] else "OFFLINE")
    console.print(scanners)
    contexts = Table("for", "mode", "order", "line", "item", "registered")
    for c in status["contexts"]:
        count = "" if c["quantity"] is None else f"{c['registered']} of {c['quantity']}"
        contexts.add_row("all scanners" if c["scope"] == "*" else c["scope"],
                         c["mode"].upper(), c["order"] or "-", str(c["line"] or "-"),
                         c["item"] or "-", count)
    console.print(contexts)
    if status["last_problems"]:
        problems = Table("reason", "message", "data")
        for p in status["last_problems"][-5:]:
            problems.add_row(p["reason"], p["message"], p["data"])
        console.print(problems)
    return out.getvalue().rstrip()
