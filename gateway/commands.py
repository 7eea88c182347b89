"""Command barcodes: what the operator scans instead of pressing buttons.

A command is ``<prefix><NAME>`` or ``<prefix><NAME>:<argument>`` (``SGW-POST``,
``SGW-OPEN-ORDER:SO-1042``) so that it can never be mistaken for a serial. A bare
order or packing-slip id (the barcode printed on a pick list or slip) opens it
too, when it matches the configured pattern. Pure code: the station decides
what each command does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_PREFIX: Final = "SGW-"


class CommandName(StrEnum):
    """The commands a station understands, spelled as on the barcode."""

    MODE_ADD = "MODE-ADD"
    MODE_REMOVE = "MODE-REMOVE"
    NOT_READABLE = "NOT-READABLE"
    OPEN_ORDER = "OPEN-ORDER"
    OPEN_SLIP = "OPEN-SLIP"
    NEXT_LINE = "NEXT-LINE"
    PREV_LINE = "PREV-LINE"
    POST = "POST"
    UNDO_LAST = "UNDO-LAST"
    CANCEL = "CANCEL"


TAKES_ARGUMENT: Final = frozenset({CommandName.OPEN_ORDER, CommandName.OPEN_SLIP})

DESCRIPTIONS: Final[dict[CommandName, str]] = {
    CommandName.MODE_ADD: "Add mode: scanned serials are added (R6)",
    CommandName.MODE_REMOVE: "Remove mode: scanning a listed serial removes it (R6)",
    CommandName.NOT_READABLE: "Register a blank 'not readable' unit (R7)",
    CommandName.OPEN_ORDER: "Open a sales order",
    CommandName.OPEN_SLIP: "Open a packing slip",
    CommandName.NEXT_LINE: "Go to the next order line",
    CommandName.PREV_LINE: "Go to the previous order line",
    CommandName.POST: "Post the packing slip",
    CommandName.UNDO_LAST: "Undo the last registration",
    CommandName.CANCEL: "Cancel: close the order without posting",
}
"""Captions for the printed command sheet and the operator display."""


@dataclass(frozen=True, slots=True)
class Command:
    """A recognised command; ``argument`` is the order or slip id for OPEN-*."""

    name: CommandName
    argument: str | None = None


@dataclass(frozen=True, slots=True)
class BadCommand:
    """Data carrying the command prefix that is not a valid command.

    Kept apart from ``None`` so a mistyped command is refused, never registered
    as a serial.
    """

    text: str
    message: str


def _compile(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
    return pattern


class CommandConfig(BaseModel):
    """Command barcodes (``commands:`` in the station config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: str = Field(
        default=DEFAULT_PREFIX, min_length=1,
        description="Text that opens every command barcode; matched without regard to case.",
        examples=["SGW-", "CMD:"],
    )
    order_pattern: str | None = Field(
        default=r"^SO-\d+$",
        description="Regex an order id matches; a scan matching it opens the order. "
        "null: only OPEN-ORDER commands open orders.",
        examples=[r"^SO-\d+$", r"^\d{6}$"],
    )
    slip_pattern: str | None = Field(
        default=r"^PS-\d+$",
        description="Regex a packing-slip id matches; a scan matching it opens the slip.",
        examples=[r"^PS-\d+$"],
    )

    @field_validator("order_pattern", "slip_pattern")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        return _compile(value)


DEFAULT_COMMAND_CONFIG: Final = CommandConfig()


def command_text(name: CommandName, argument: str | None = None,
                 prefix: str = DEFAULT_PREFIX) -> str:
    """The barcode data of a command: what ``parse_command`` reads back."""
    return f"{prefix}{name.value}" + (f":{argument}" if argument is not None else "")


def parse_command(text: str, prefix: str = DEFAULT_PREFIX) -> Command | BadCommand | None:
    """Read a prefixed command; None when ``text`` is not a command at all.

    Prefix and name are matched case-insensitively (a keyboard wedge with Caps
    Lock on inverts case); the argument is kept as scanned.
    """
    text = text.strip()
    if not prefix or text[:len(prefix)].upper() != prefix.upper():
        return None
    body = text[len(prefix):]
    name_text, colon, argument = body.partition(":")
    try:
        name = CommandName(name_text.strip().upper())
    except ValueError:
        known = ", ".join(c.value for c in CommandName)
        return BadCommand(text, f"unknown command {name_text!r} in {text!r}; known: {known}")
    argument = argument.strip()
    if name in TAKES_ARGUMENT:
        if not argument:
            return BadCommand(text, f"{name.value} needs an id, e.g. {prefix}{name.value}:SO-1")
        return Command(name, argument)
    if colon:
        return BadCommand(text, f"{name.value} takes no argument, got {argument!r}")
    return Command(name)


def recognise(
    text: str, config: CommandConfig = DEFAULT_COMMAND_CONFIG,
) -> Command | BadCommand | None:
    """Command, bare order id or bare packing-slip id; None for anything else.

    An OPEN-ORDER/OPEN-SLIP argument must match the configured pattern, so a
    typo does not open a document that cannot exist.
    """
    command = parse_command(text, config.prefix)
    if isinstance(command, Command) and command.argument is not None:
        pattern = (config.order_pattern if command.name is CommandName.OPEN_ORDER
                   else config.slip_pattern)
        if pattern is not None and re.search(pattern, command.argument) is None:
            return BadCommand(text, f"{command.argument!r} does not match the "
                                    f"{command.name.value} id pattern {pattern}")
        return command
    if command is not None:
        return command
    stripped = text.strip()
    if config.order_pattern is not None and re.search(config.order_pattern, stripped):
        return Command(CommandName.OPEN_ORDER, stripped)
    if config.slip_pattern is not None and re.search(config.slip_pattern, stripped):
        return Command(CommandName.OPEN_SLIP, stripped)
    return None
