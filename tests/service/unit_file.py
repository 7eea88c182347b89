"""Read systemd unit files: sections of ``Key=value`` lines, keys may repeat."""

from __future__ import annotations

from pathlib import Path

Unit = dict[str, list[tuple[str, str]]]


def parse_unit(text: str) -> Unit:
    """Sections to their (key, value) lines in order; continuation lines joined."""
    unit: Unit = {}
    section: list[tuple[str, str]] | None = None
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1].rstrip() + " "
            continue
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], [])
            continue
        if section is None or "=" not in line:
            raise ValueError(f"not a Key=value line inside a section: {line!r}")
        key, _, value = line.partition("=")
        section.append((key.strip(), value.strip()))
    return unit


def values(unit: Unit, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def value(unit: Unit, section: str, key: str) -> str:
    """The single value of ``key``; AssertionError naming the key otherwise."""
    found = values(unit, section, key)
    assert len(found) == 1, f"[{section}] {key}= appears {len(found)} times: {found}"
    return found[0]


def load(path: Path) -> Unit:
    return parse_unit(path.read_text(encoding="utf-8"))
