"""Command barcodes: prefix, names, arguments, and bare order / slip ids."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gateway.commands import (
    TAKES_ARGUMENT,
    BadCommand,
    Command,
    CommandConfig,
    CommandName,
    command_text,
    parse_command,
    recognise,
)

N = CommandName


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SGW-MODE-ADD", Command(N.MODE_ADD)),
        ("SGW-MODE-REMOVE", Command(N.MODE_REMOVE)),
        ("SGW-NOT-READABLE", Command(N.NOT_READABLE)),
        ("SGW-NEXT-LINE", Command(N.NEXT_LINE)),
        ("SGW-PREV-LINE", Command(N.PREV_LINE)),
        ("SGW-POST", Command(N.POST)),
        ("SGW-UNDO-LAST", Command(N.UNDO_LAST)),
        ("SGW-CANCEL", Command(N.CANCEL)),
        ("SGW-OPEN-ORDER:SO-1042", Command(N.OPEN_ORDER, "SO-1042")),
        ("SGW-OPEN-SLIP:PS-7", Command(N.OPEN_SLIP, "PS-7")),
        ("sgw-post", Command(N.POST)),  # Caps Lock on a keyboard wedge
        ("  SGW-CANCEL ", Command(N.CANCEL)),
        ("sgw-open-order:so-1", Command(N.OPEN_ORDER, "so-1")),  # argument kept as scanned
        ("SN-1234", None),
        ("SGW", None),
        ("XSGW-POST", None),
    ],
)
def test_parse_command(text: str, expected: Command | None) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("SGW-FOO", ["unknown command 'FOO'", "MODE-ADD"]),
        ("SGW-", ["unknown command ''"]),
        ("SGW-OPEN-ORDER", ["needs an id"]),
        ("SGW-OPEN-SLIP:  ", ["needs an id"]),
        ("SGW-POST:1", ["takes no argument", "'1'"]),
    ],
)
def test_prefixed_but_wrong_is_refused_not_a_serial(text: str, words: list[str]) -> None:
    result = parse_command(text)
    assert isinstance(result, BadCommand)
    assert result.text == text.strip()
    for word in words:
        assert word in result.message


def test_custom_prefix() -> None:
    assert parse_command("CMD:POST", prefix="CMD:") == Command(N.POST)
    assert parse_command("SGW-POST", prefix="CMD:") is None


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(list(CommandName)), st.text("ABCXYZ-0123456789", min_size=1,
                                                     max_size=12),
       st.sampled_from(["SGW-", "CMD:", "#"]))
def test_command_text_round_trips(name: CommandName, doc_id: str, prefix: str) -> None:
    argument = doc_id if name in TAKES_ARGUMENT else None
    assert parse_command(command_text(name, argument, prefix), prefix) == Command(name, argument)


def test_bare_order_and_slip_ids_open_them() -> None:
    config = CommandConfig()
    assert recognise("SO-1042", config) == Command(N.OPEN_ORDER, "SO-1042")
    assert recognise("PS-17", config) == Command(N.OPEN_SLIP, "PS-17")
    assert recognise("SO-1042X", config) is None
    assert recognise("SN-1", config) is None
    assert recognise("SGW-POST", config) == Command(N.POST)


def test_order_pattern_is_configurable_and_can_be_off() -> None:
    numeric = CommandConfig(order_pattern=r"^\d{6}$", slip_pattern=None)
    assert recognise("104233", numeric) == Command(N.OPEN_ORDER, "104233")
    assert recognise("PS-17", numeric) is None
    off = CommandConfig(order_pattern=None, slip_pattern=None)
    assert recognise("SO-1", off) is None
    assert recognise("SGW-OPEN-ORDER:anything", off) == Command(N.OPEN_ORDER, "anything")


def test_open_command_argument_must_match_the_pattern() -> None:
    result = recognise("SGW-OPEN-ORDER:PS-1")
    assert isinstance(result, BadCommand)
    assert "'PS-1'" in result.message
    assert r"^SO-\d+$" in result.message


def test_bad_pattern_is_a_config_error_with_its_key() -> None:
    with pytest.raises(ValidationError) as caught:
        CommandConfig(order_pattern="^SO-(\\d+$")
    assert caught.value.errors()[0]["loc"] == ("order_pattern",)
    assert "invalid regular expression" in str(caught.value)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_a_command_a_refusal_or_nothing(text: str) -> None:
    result = recognise(text)
    assert result is None or isinstance(result, Command | BadCommand)
    if text.strip()[:4].upper() != "SGW-":
        assert not isinstance(result, BadCommand)
