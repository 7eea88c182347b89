"""The generated config reference: up to date, complete, and right about nesting."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from gateway.config import StationConfig
from orderstore.config import StoreConfig
from scangw import configref
from scangw.configref import main, render_reference, sections

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "config-reference.md"


def test_committed_reference_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render_reference(), (
        "docs/config-reference.md is out of date: run "
        "`python -m scangw.configref > docs/config-reference.md` and commit it"
    )


def _schema_properties(schema: dict[str, Any]) -> set[str]:
    """Every property name in a model's JSON schema and its $defs: an oracle
    independent of how configref walks the models."""
    names = set(schema.get("properties", {}))
    for definition in schema.get("$defs", {}).values():
        names |= set(definition.get("properties", {}))
    return names


@pytest.mark.parametrize("model", [StationConfig, StoreConfig])
def test_every_key_of_every_model_is_documented(model: type[BaseModel]) -> None:
    text = render_reference()
    documented = set(re.findall(r"^\| `(?:[\w<>\[\].]*\.)?(\w+)` \|", text, re.M))
    assert _schema_properties(model.model_json_schema()) <= documented


def test_rows_carry_type_default_description_and_example() -> None:
    text = render_reference()
    assert (
        "| `broker.port` | integer; >= 1, <= 65535 | `1883` | Broker port (8883 for TLS)."
        " | `1883` |" in text
    )
    assert (
        "| `scanners.<name>.port` | text or null | `null` | Device path, e.g. /dev/ttyACM0 or "
        "/dev/serial/by-id/...; leave out when matching by vid/pid/serial_number." in text
    )
    assert "| `scanners.<name>.port` | integer; >= 0, <= 65535 | required | TCP port." in text
    assert "| `scanners.<name>.parity` | one of `none`, `even`, `odd`, `mark`, `space` |" in text
    assert "### `scanners.<name>` (kind: serial)" in text


class _Serial(BaseModel):
    """A serial scanner."""

    kind: Literal["serial"] = "serial"
    port: str = Field(description="Device path.", examples=["/dev/ttyACM0"])


class _Wedge(BaseModel):
    """A keyboard wedge."""

    kind: Literal["evdev"] = "evdev"
    device: str = Field(description="Event device.")
    grab: bool = Field(True, description="Take the device exclusively.")


class _Rule(BaseModel):
    prefix: str = Field("", description="Scan prefix | marker.")


class _Top(BaseModel):
    scanners: dict[str, Annotated[_Serial | _Wedge, Field(discriminator="kind")]]
    rules: list[_Rule] = Field(default_factory=list, description="Prefix rules.")
    limit: int | None = Field(None, ge=1, le=9)


def test_driver_variants_lists_and_unions_are_walked() -> None:
    example = {"scanners": {"front": {"kind": "evdev", "device": "/dev/input/event3"}}}
    found = {s.title: s for s in sections(_Top, example)}
    assert list(found) == ["top level", "`scanners.<name>` (kind: serial)",
                           "`scanners.<name>` (kind: evdev)", "`rules[]`"]
    wedge = {r.path: r for r in found["`scanners.<name>` (kind: evdev)"].rows}
    assert wedge["scanners.<name>.device"].example == "/dev/input/event3"  # from the example
    assert wedge["scanners.<name>.grab"].default == "true"
    assert found["`scanners.<name>` (kind: serial)"].doc == "A serial scanner."
    top = {r.path: r for r in found["top level"].rows}
    assert top["rules"].type == "list of section"
    assert top["rules"].default == "[]"
    assert top["limit"].type == "integer or null; >= 1, <= 9"
    assert top["scanners"].type == (
        "mapping of name to section (kind: serial) or section (kind: evdev)"
    )
    assert found["`rules[]`"].rows[0].path == "rules[].prefix"


def test_pipes_in_descriptions_do_not_break_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(configref, "CONFIG_FILES", [("Test", "/etc/t.yaml", _Top, "none.yaml")])
    text = render_reference()
    assert '| `rules[].prefix` | text | `""` | Scan prefix \\| marker. |  |' in text


def test_check_mode_reports_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    stale = tmp_path / "ref.md"
    stale.write_text("# old\n")
    assert main(["--check", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    stale.write_text(render_reference())
    assert main(["--check", str(stale)]) == 0


def test_missing_documentation_names_keys_without_description_or_example(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(configref, "CONFIG_FILES", [("Test", "/etc/t.yaml", _Top, "none.yaml")])
    assert configref.missing_documentation() == [
        "limit: no description and no example",
        "scanners.<name>.kind: no description and no example",
        "scanners.<name>.kind: no description and no example",
        "scanners.<name>.device: no example",
        "scanners.<name>.grab: no example",
        "rules[].prefix: no example",
    ]
