"""One scenario in a child process: ``python -m bench.child NAME --workdir D --out F``."""

from __future__ import annotations

import argparse
import json
import logging
import traceback
from pathlib import Path

from bench.harness import ScenarioFailed
from bench.results import Outcome
from bench.scenarios import BY_NAME


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.child")
    parser.add_argument("name", choices=sorted(BY_NAME))
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scenario = BY_NAME[args.name]
    try:
        outcome = scenario.load()(args.workdir, args.quick)
    except ScenarioFailed as exc:
        outcome = Outcome(failure=str(exc))
    except Exception as exc:
        traceback.print_exc()
        outcome = Outcome(failure=f"crashed: {type(exc).__name__}: {exc}")
    args.out.write_text(json.dumps(outcome.to_json()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
