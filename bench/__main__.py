"""``python -m bench [--json] [--quick] [--only NAME ...]``: run the benchmark."""

from __future__ import annotations

import argparse
import sys

from bench.report import print_json, print_table
from bench.results import Figure, Outcome
from bench.runner import run_isolated
from bench.scenarios import SCENARIOS, Scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run scangw's performance scenarios against the real services.")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="smaller runs, under a minute")
    parser.add_argument("--only", action="append", choices=[s.name for s in SCENARIOS],
                        help="run only this scenario (repeatable)")
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    figures: dict[str, Figure] = {}
    why: dict[str, str] = {}
    notes: list[str] = []
    for scenario in chosen:
        if not args.json:
            print(f"running {scenario.name} ...", file=sys.stderr, flush=True)
        outcome = run_isolated(scenario.name, args.quick, _limit(scenario, args.quick))
        _collect(scenario, outcome, figures, why, notes)
    _derive(figures, why)
    if args.json:
        print_json(figures, why)
    else:
        print_table(figures, why, notes)
    return 0


def _limit(scenario: Scenario, quick: bool) -> float:
    return scenario.quick_timeout_s if quick else scenario.timeout_s


def _collect(scenario: Scenario, outcome: Outcome, figures: dict[str, Figure],
             why: dict[str, str], notes: list[str]) -> None:
    for key in scenario.keys:
        figures[key] = outcome.figures.get(key)
        if figures[key] is None:
            why[key] = outcome.failure or outcome.why.get(key, "not measured")
    notes.extend(f"{scenario.name}: {n}" for n in outcome.notes)
    if outcome.failure:
        notes.append(f"{scenario.name}: FAILED: {outcome.failure}")


def _derive(figures: dict[str, Figure], why: dict[str, str]) -> None:
    """baseline_ratio: burst throughput over the naive script's, run the same way."""
    burst = figures.get("burst_scans_per_s")
    naive = figures.pop("baseline_scans_per_s", None)
    naive_why = why.pop("baseline_scans_per_s", "the baseline did not run")
    if burst is not None and naive:
        figures["baseline_ratio"] = round(burst / naive, 3)
        return
    figures["baseline_ratio"] = None
    if burst is None:
        why["baseline_ratio"] = f"burst: {why.get('burst_scans_per_s', 'did not run')}"
    else:
        why["baseline_ratio"] = f"baseline: {naive_why}"


if __name__ == "__main__":
    sys.exit(main())
