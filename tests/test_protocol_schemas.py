"""docs/schemas/ and the examples in docs/protocol.md agree with the pydantic models."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from pydantic import ValidationError

from scangw.protocol import messages, schemas, topics

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL_MD = ROOT / "docs" / "protocol.md"
EXAMPLE = re.compile(r"<!-- schema: (\w+) -->\s*```json\n(.*?)```", re.DOTALL)
TOP_LEVEL = ("RegistrationBatch", "AckBatch", "StationPresence", "StorePresence",
             "OrderRequest", "OrderResponse", "OrderUpdate", "ResendRequest")


def _examples() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in EXAMPLE.finditer(PROTOCOL_MD.read_text())]


def test_the_committed_schemas_match_the_models() -> None:
    assert schemas.differences(schemas.SCHEMA_DIR) == []
    assert schemas.main(["--check"]) == 0


def test_check_fails_on_a_stale_missing_or_leftover_schema(tmp_path: Path) -> None:
    schemas.write(tmp_path)
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 0
    (tmp_path / "AckBatch.schema.json").write_text("{}\n")
    (tmp_path / "Ack.schema.json").unlink()
    (tmp_path / "Gone.schema.json").write_text("{}\n")
    problems = "\n".join(schemas.differences(tmp_path))
    assert "AckBatch.schema.json: differs from the model" in problems
    assert "Ack.schema.json: missing" in problems
    assert "Gone.schema.json: no such message model any more" in problems
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 1
    schemas.write(tmp_path)
    assert schemas.differences(tmp_path) == []
    assert not (tmp_path / "Gone.schema.json").exists()


def test_every_message_model_has_a_schema_file() -> None:
    names = {m.__name__ for m in schemas.message_models()}
    assert set(TOP_LEVEL) <= names
    assert {"Registration", "Ack", "LineState"} <= names
    assert {p.name.removesuffix(".schema.json") for p in
            schemas.SCHEMA_DIR.glob("*.schema.json")} == names


def test_a_schema_forbids_extra_fields_and_pins_the_version() -> None:
    schema = json.loads((schemas.SCHEMA_DIR / "RegistrationBatch.schema.json").read_text())
    assert schema["additionalProperties"] is False
    assert schema["properties"]["v"]["const"] == 1


def test_every_top_level_message_has_an_example_in_the_protocol_doc() -> None:
    documented = {name for name, _ in _examples()}
    assert set(TOP_LEVEL) <= documented


@pytest.mark.parametrize(("name", "text"), _examples(),
                         ids=[f"{i}-{n}" for i, (n, _) in enumerate(_examples())])
def test_each_example_in_the_protocol_doc_is_valid(name: str, text: str) -> None:
    model: Any = getattr(messages, name)
    payload = json.loads(text)
    model.model_validate(payload)  # the model both services use
    schema = json.loads((schemas.SCHEMA_DIR / f"{name}.schema.json").read_text())
    jsonschema.validate(payload, schema, format_checker=jsonschema.FormatChecker())
    if "v" in model.model_fields:
        with pytest.raises(ValidationError):
            model.model_validate({**payload, "v": 2})
        with pytest.raises(ValidationError):
            model.model_validate({**payload, "colour": "red"})


def test_the_protocol_doc_names_every_field_and_topic() -> None:
    text = PROTOCOL_MD.read_text()
    for model in schemas.message_models():
        for field in model.model_fields:
            assert f"`{field}`" in text, f"{model.__name__}.{field} is not documented"
    for kind in topics.STATION_KINDS:
        assert f"{{station}}/{kind}`" in text, f"topic kind {kind} is not documented"
    assert "scangw/v1/{site}/_orders/{order_id}" in text
    assert "scangw/v1/_stores/{store}/presence" in text
