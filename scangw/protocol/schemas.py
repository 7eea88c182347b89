"""JSON Schemas of the wire messages, generated from the pydantic models.

The models in ``scangw.protocol.messages`` are the contract; the files in
``docs/schemas/`` are derived from them so an integrator on another stack can
validate payloads without Python. ``python -m scangw.protocol.schemas`` writes
them; ``--check`` fails (exit 1) when a committed file differs, so the files
can never drift from the models unnoticed.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from scangw.protocol import messages
from scangw.protocol.messages import Message

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"
"""docs/schemas/ of the source checkout this package runs from."""
SUFFIX = ".schema.json"


def message_models() -> list[type[Message]]:
    """Every payload model of protocol v1 (nested ones too), in a stable order."""
    found = [
        obj for _, obj in inspect.getmembers(messages, inspect.isclass)
        if issubclass(obj, Message) and obj is not Message and obj.__module__ == messages.__name__
    ]
    return sorted(found, key=lambda m: m.__name__)


def schema_text(model: type[Message]) -> str:
    """The schema file's exact text: what a payload must look like to be accepted."""
    schema = {"$schema": DRAFT, **model.model_json_schema(mode="validation")}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    return {f"{m.__name__}{SUFFIX}": schema_text(m) for m in message_models()}


def differences(directory: Path) -> list[str]:
    """What is missing, stale or left over in ``directory``; empty when up to date."""
    expected = expected_files()
    problems = []
    for name, text in expected.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: differs from the model")
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        if path.name not in expected:
            problems.append(f"{path}: no such message model any more")
    return problems


def write(directory: Path) -> list[Path]:
    """Write every schema and remove those of models that no longer exist."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = expected_files()
    for path in directory.glob(f"*{SUFFIX}"):
        if path.name not in expected:
            path.unlink()
    written = []
    for name, text in expected.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scangw.protocol.schemas",
        description="Write the JSON Schemas of the protocol messages (docs/schemas/).",
    )
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a committed schema differs")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR,
                        help=f"where the schema files live (default {SCHEMA_DIR})")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences(args.dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run 'python -m scangw.protocol.schemas' and commit the result",
                  file=sys.stderr)
            return 1
        print(f"{len(message_models())} schemas in {args.dir} match the models")
        return 0
    written = write(args.dir)
    print(f"{len(written)} schema file(s) written to {args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
