"""The config reference (docs/config-reference.md), generated from the pydantic models.

The models are the one source of truth for keys, types, defaults and limits; a
hand-written reference drifts from them. Every key is listed with its dotted
path (``scanners.<name>.baudrate``), so it can be found from the error lines
``scangw check`` prints. Driver configs are found by walking the models, so a new
driver kind appears here once the station config accepts it.

Regenerate with ``python -m scangw.configref > docs/config-reference.md``.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic.types import StringConstraints
from pydantic_core import PydanticUndefined

from gateway.config import StationConfig
from orderstore.config import StoreConfig

__all__ = ["Row", "Section", "missing_documentation", "render_reference", "sections"]

CONFIG_FILES: list[tuple[str, str, type[BaseModel], str]] = [
    ("Station gateway", "/etc/scangw/station.yaml", StationConfig, "station.example.yaml"),
    ("Order store", "/etc/scangw/store.yaml", StoreConfig, "store.example.yaml"),
]
"""(title, default path, model, example file) of every config file scangw reads."""

EXAMPLE_DIRS = [Path(__file__).resolve().parents[1] / "config", Path("/opt/scangw/config")]
"""Where the example configs are: the source checkout, or where scripts/install puts them."""

_MISSING = object()


@dataclass(frozen=True)
class Row:
    path: str
    type: str
    default: str
    description: str
    example: str


@dataclass(frozen=True)
class Section:
    """One mapping in the file: a model at a dotted path (``scanners.<name>``)."""

    path: str
    title: str
    doc: str
    rows: list[Row]


def sections(model: type[BaseModel], *examples: Any) -> list[Section]:
    """The model and every model nested in it, outermost first.

    ``examples`` are parsed example configs: a key whose field gives no example
    of its own shows the value written in the first of them that has the key.
    """
    out: list[Section] = []
    _walk(model, "", "", examples, out, depth=0)
    return out


def example_config(filename: str) -> Any:
    """The parsed example config of that name from the first of EXAMPLE_DIRS that has it."""
    for directory in EXAMPLE_DIRS:
        path = directory / filename
        if path.is_file():
            return yaml.safe_load(path.read_text(encoding="utf-8"))
    return None


def _all_examples() -> list[Any]:
    return [example_config(name) for *_, name in CONFIG_FILES]


def _lookup(data: Any, path: str) -> Any:
    """The value at a dotted path; ``<name>`` and ``[]`` take the first entry."""
    for step in path.split("."):
        is_list = step.endswith("[]")
        key = step.removesuffix("[]")
        if not isinstance(data, dict) or not data:
            return _MISSING
        data = next(iter(data.values())) if key == "<name>" else data.get(key, _MISSING)
        if is_list:
            data = data[0] if isinstance(data, list) and data else _MISSING
        if data is _MISSING:
            return _MISSING
    return data


def _walk(model: type[BaseModel], path: str, variant: str, examples: tuple[Any, ...],
          out: list[Section], depth: int) -> None:
    if depth > 10:
        raise ValueError(f"config models nest deeper than 10 levels at {path!r}")
    rows: list[Row] = []
    nested: list[tuple[type[BaseModel], str, str]] = []
    for name, field in model.model_fields.items():
        key = f"{path}.{name}" if path else name
        written = next((v for v in (_lookup(e, key) for e in examples) if v is not _MISSING),
                       _MISSING)
        rows.append(_row(key, field, written))
        for child, suffix in _models_in(field.annotation):
            nested.append((child, key + suffix, _variant(child)))
    title = f"`{path}`" if path else "top level"
    if variant:
        title += f" (kind: {variant})"
    out.append(Section(path, title, _doc(model), rows))
    for child, child_path, child_variant in nested:
        _walk(child, child_path, child_variant, examples, out, depth + 1)


def _models_in(annotation: Any, suffix: str = "") -> Iterator[tuple[type[BaseModel], str]]:
    """Models reachable through an annotation, with the path step to reach them."""
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, suffix
    elif origin is Annotated:
        yield from _models_in(get_args(annotation)[0], suffix)
    elif origin is dict:
        yield from _models_in(get_args(annotation)[1], suffix + ".<name>")
    elif origin in (list, tuple, set, frozenset):
        yield from _models_in(get_args(annotation)[0], suffix + "[]")
    elif origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            yield from _models_in(arg, suffix)


def _variant(model: type[BaseModel]) -> str:
    kind = model.model_fields.get("kind")
    if kind is not None and get_origin(kind.annotation) is Literal:
        return ", ".join(str(v) for v in get_args(kind.annotation))
    return ""


def _doc(model: type[BaseModel]) -> str:
    doc = model.__doc__ or ""
    if doc and any(doc is getattr(base, "__doc__", None) for base in model.__mro__[1:]):
        return ""  # inherited from a base class, says nothing about this model
    return " ".join(doc.strip().split("\n\n")[0].split()).replace("``", "`")


def _row(key: str, field: FieldInfo, written: Any) -> Row:
    description = field.description or ""
    nested = [m for m, _ in _models_in(field.annotation)]
    if not description and len(nested) == 1:
        description = _doc(nested[0])
    if field.examples:
        example = _yaml(field.examples[0])
    elif written is not _MISSING and not nested:
        example = _yaml(written)
    else:
        example = ""
    return Row(key, _type_name(field.annotation, field.metadata), _default(field),
               " ".join(description.split()), example)


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        factory = field.default_factory
        if isinstance(factory, type) and issubclass(factory, BaseModel):
            return "(section defaults)"
        return _yaml(factory())  # type: ignore[call-arg]
    if field.default is PydanticUndefined:
        return "required"
    return _yaml(field.default)


def _yaml(value: Any) -> str:
    """A value as it would be written in the YAML file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return str(value)
    if value == "":
        return '""'
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return json.dumps(value, default=str)


def _type_name(annotation: Any, metadata: list[Any] | None = None) -> str:
    base = _bare_type(annotation)
    limits = _limits(metadata or [])
    return f"{base}; {limits}" if limits else base


def _bare_type(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0], list(args[1:]))
    if origin is Literal:
        return "one of " + ", ".join(f"`{_yaml(a)}`" for a in args)
    if origin in (Union, types.UnionType):
        parts = [a for a in args if a is not type(None)]
        names = " or ".join(_type_name(a) for a in parts)
        return names + (" or null" if len(parts) < len(args) else "")
    if origin is dict:
        return f"mapping of name to {_type_name(args[1])}"
    if origin in (list, tuple, set, frozenset):
        return f"list of {_type_name(args[0])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        variant = _variant(annotation)
        return f"section (kind: {variant})" if variant else "section"
    return _SIMPLE.get(annotation, getattr(annotation, "__name__", str(annotation)))


_SIMPLE: dict[Any, str] = {str: "text", int: "integer", float: "number", bool: "true/false",
                           Path: "path", type(None): "null"}


def _limits(metadata: list[Any]) -> str:
    parts: list[str] = []
    for item in metadata:
        for attr, fmt in (("gt", "> {}"), ("ge", ">= {}"), ("lt", "< {}"), ("le", "<= {}"),
                          ("min_length", "length >= {}"), ("max_length", "length <= {}"),
                          ("pattern", "matching `{}`")):
            value = getattr(item, attr, None)
            if value is not None and isinstance(item, at.BaseMetadata | StringConstraints):
                parts.append(fmt.format(value))
    return ", ".join(parts)


def missing_documentation() -> list[str]:
    """Keys without a description or an example: ``path: what is missing``."""
    problems = []
    for _, _, model, _ in CONFIG_FILES:
        for section in sections(model, *_all_examples()):
            for row in section.rows:
                missing = [what for what, text in (("description", row.description),
                                                   ("example", row.example)) if not text]
                if missing and "section" not in row.type:  # nested sections list their keys
                    problems.append(f"{row.path}: no {' and no '.join(missing)}")
    return problems


def _cell(text: str, code: bool = False) -> str:
    text = text.replace("|", "\\|")
    if code and text and text not in ("required", "(section defaults)"):
        return f"`{text}`"
    return text


def render_reference() -> str:
    """The whole reference as Markdown, the same text as docs/config-reference.md."""
    lines = [
        "# Configuration reference",
        "",
        "Generated from the config models (`gateway/config.py`, `orderstore/config.py` and the",
        "driver configs they use) by `python -m scangw.configref`; do not edit by hand.",
        "tests/service/test_configref.py fails when this file is out of date.",
        "",
        "Keys are given by their dotted path, the way `scangw check` names them in its",
        "error lines. `<name>` stands for a name you choose (a scanner's name);",
        "\"required\" keys have no default. Validate a file with `scangw check FILE`.",
    ]
    for title, default_path, model, example_file in CONFIG_FILES:
        own = example_config(example_file)
        lines += ["", f"## {title}: `{default_path}`", ""]
        if _doc(model):
            lines += [_doc(model), ""]
        name = f"{model.__module__}.{model.__qualname__}"
        lines.append(f"Model: `{name}`. Examples come from the model or, where it gives none,"
                     f" from `config/{example_file}`.")
        for section in sections(model, own, *_all_examples()):
            lines += ["", f"### {section.title}", ""]
            if section.doc and section.path:
                lines += [section.doc, ""]
            lines += ["| key | type | default | description | example |",
                      "|---|---|---|---|---|"]
            for row in section.rows:
                lines.append(
                    f"| `{_cell(row.path)}` | {_cell(row.type)} | {_cell(row.default, True)} "
                    f"| {_cell(row.description)} | {_cell(row.example, True)} |"
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m scangw.configref [--check FILE]``: print the reference or compare."""
    args = sys.argv[1:] if argv is None else argv
    text = render_reference()
    if args[:1] == ["--check"] and len(args) == 2:
        current = Path(args[1]).read_text(encoding="utf-8")
        if current != text:
            print(f"{args[1]} is out of date: run python -m scangw.configref > {args[1]}",
                  file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
