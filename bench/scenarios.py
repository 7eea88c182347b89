"""The scenarios by name, their time limits and the figures each one yields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.results import Outcome


@dataclass(frozen=True)
class Scenario:
    name: str
    module: str
    """Module with ``run(workdir: Path, quick: bool) -> Outcome``."""
    keys: tuple[str, ...]
    timeout_s: float
    quick_timeout_s: float

    def load(self) -> Callable[[Path, bool], Outcome]:
        import importlib

        run: Callable[[Path, bool], Outcome] = importlib.import_module(self.module).run
        return run


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("latency", "bench.latency",
             ("decision_p50_ms", "decision_p99_ms", "confirm_p50_ms", "confirm_p99_ms"),
             60, 20),
    Scenario("burst", "bench.burst",
             ("burst_scans_per_s", "burst_lost", "burst_misframed"), 120, 60),
    Scenario("baseline", "bench.baseline", ("baseline_scans_per_s",), 120, 40),
    Scenario("drain", "bench.drain", ("drain_per_s",), 240, 40),
    Scenario("ingest", "bench.ingest", ("store_ingest_per_s", "store_ingest_pg_scaling"),
             240, 120),
    Scenario("footprint", "bench.footprint",
             ("idle_rss_mb", "startup_s", "disk_bytes_per_scan"), 90, 30),
)

BY_NAME = {s.name: s for s in SCENARIOS}
