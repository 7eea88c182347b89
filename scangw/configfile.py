"""Load YAML config files into pydantic models with errors people can act on.

Every problem is reported at once as ``key.path: problem (hint)``, the way
warehouse IT reads them: which key, what is wrong, what to write instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A config file that cannot be used; ``problems`` holds one line per fault."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))

    def render(self) -> str:
        lines = [f"{self.source}: {len(self.problems)} problem(s)"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


_HINTS = {
    "missing": "add this key",
    "extra_forbidden": "remove it or check its spelling",
    "literal_error": "use one of the listed values",
    "int_parsing": "write a whole number",
    "float_parsing": "write a number",
    "bool_parsing": "write true or false",
    "string_type": "write text, quoted if it looks like a number",
    "dict_type": "write a mapping of key: value lines",
    "model_type": "write a mapping of key: value lines",
    "union_tag_invalid": "set kind to one of the listed driver kinds",
    "union_tag_not_found": "add a kind: key naming the driver",
}


def format_validation_error(error: ValidationError, prefix: str = "",
                            data: Any = None) -> list[str]:
    """One ``path: problem (hint)`` line per error in a pydantic ValidationError.

    With the validated ``data``, the tags pydantic puts in the path of a
    discriminated union (``scanners.a.serial.baudrate``) are left out, so the
    path is the one written in the file (``scanners.a.baudrate``).
    """
    lines = []
    for err in error.errors():
        loc = _as_written(err["loc"], data) if data is not None else err["loc"]
        path = ".".join(str(p) for p in (*([prefix] if prefix else []), *loc))
        message = err["msg"].removeprefix("Value error, ")
        hint = _HINTS.get(err["type"])
        line = f"{path or '(top level)'}: {message}"
        if hint and hint not in message:
            line += f" ({hint})"
        lines.append(line)
    return lines


def _as_written(loc: tuple[int | str, ...], data: Any) -> tuple[int | str, ...]:
    written: list[int | str] = []
    here = data
    for part in loc:
        if isinstance(here, dict) and part not in here and here.get("kind") == part:
            continue  # the union's tag, not a key of the file
        written.append(part)
        try:
            here = here[part]
        except (KeyError, IndexError, TypeError):
            here = None
    return tuple(written)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; syntax errors name the line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from exc
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise ConfigError(str(path), [f"YAML syntax error at {where}: {exc.problem}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [f"YAML syntax error: {exc}"]) from exc


def validate(model: type[M], data: Any, source: str) -> M:
    """Validate parsed data against ``model`` or raise ConfigError with every problem."""
    if not isinstance(data, dict):
        raise ConfigError(source, ["(top level): expected a mapping of sections (see config/)"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, format_validation_error(exc, data=data)) from exc


def load(model: type[M], path: Path) -> M:
    return validate(model, read_yaml(path), str(path))
