"""GS1 data in a scan: element strings, HRI and Digital Link URIs (G2-G6).

biip does the parsing and the check-digit and date validation; this module only
decides *when* data is GS1, translates a configured GS substitute (G5), and
turns biip's results into plain (AI, value) pairs or one ``InvalidGS1Error`` whose
message says what was wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message

from gateway.barcodes.charsets import GS

# GS1 General Specifications: AIs that may open a Digital Link path (primary keys).
_DIGITAL_LINK_KEYS = (
    "00", "01", "253", "255", "401", "402", "414", "417",
    "8003", "8004", "8006", "8010", "8013", "8017", "8018",
)
_DIGITAL_LINK_KEY_SEGMENT = re.compile(r"/(?:" + "|".join(_DIGITAL_LINK_KEYS) + r")/[^/]")

# Unmarked data that opens with SSCC (00) or GTIN (01/02) and its full digit run.
_LEADING_KEY = re.compile(r"^(?:00\d{18}|0[12]\d{14})")
_HRI_START = re.compile(r"^\(\d{2,4}\)")
# ISO/IEC 15434 envelope: "[)>" RS, format "05" (GS1 AIs) GS, data, RS, optional EOT.
ISO15434_HEADER = "[)>\x1e"
_ISO15434_GS1 = re.compile(r"^\[\)>\x1e05\x1d(?P<data>[^\x1e]*)\x1e\x04?$")


class InvalidGS1Error(ValueError):
    """The data is meant to be GS1 but breaks its rules; the message says how."""


@dataclass(frozen=True, slots=True)
class GS1Data:
    """The element strings of one scan, in the order they were encoded."""

    elements: tuple[tuple[str, str], ...]
    """(AI, value) pairs, e.g. ``("01", "09521101530001")``."""
    dates: dict[str, dt.date] = field(default_factory=dict, hash=False)
    """Dates of date AIs (11, 17, ...) with the century chosen as G4 says."""

    def get(self, ai: str) -> str | None:
        """The value of ``ai``, or None when the scan does not carry it."""
        return next((value for key, value in self.elements if key == ai), None)


def substitute_gs(text: str, substitutes: Iterable[str]) -> str:
    """Replace each configured GS stand-in (``~``, ``#``, ``^]``...) with a real GS (G5)."""
    for substitute in sorted(substitutes, key=len, reverse=True):
        if substitute:
            text = text.replace(substitute, GS)
    return text


def looks_like_digital_link(text: str) -> bool:
    """True for an http(s) URI whose path carries a GS1 primary key (G6)."""
    if not text.lower().startswith(("http://", "https://")):
        return False
    try:
        path = urlsplit(text).path
    except ValueError:
        return False
    return _DIGITAL_LINK_KEY_SEGMENT.search(path + "/") is not None


def unwrap_iso15434_gs1(text: str) -> str | None:
    """The GS1 data of an ISO/IEC 15434 format 05 envelope, or None for anything else."""
    found = _ISO15434_GS1.match(text)
    return found["data"] if found else None


def looks_like_unmarked_gs1(text: str) -> bool:
    """Guess whether data without a GS1 symbology identifier is GS1.

    Only strong signs count, so that ordinary serials stay plain: a real GS
    anywhere, a leading GS (FNC1 in first position), SSCC/GTIN with all its
    digits at the start, or the parenthesised HRI an operator may type.
    """
    if text.startswith(ISO15434_HEADER):
        return False  # other envelope formats (06: ASC MH10 data identifiers) are not GS1
    return (
        GS in text
        or _LEADING_KEY.match(text) is not None
        or _HRI_START.match(text) is not None
    )


def parse_element_string(text: str, substitutes: Sequence[str] = ()) -> GS1Data:
    """Parse scanned GS1 element strings (``0109521101530001 21ABC123 GS 17210119``)."""
    text = substitute_gs(text, substitutes).strip(" ").lstrip(GS)
    if not text:
        raise InvalidGS1Error("GS1 data is empty")
    if _HRI_START.match(text):
        return _parse_hri(text)
    try:
        message = GS1Message.parse(text)
    except ParseError as exc:
        raise InvalidGS1Error(f"not a valid GS1 element string: {exc}") from exc
    return _collect(message.element_strings)


def _parse_hri(text: str) -> GS1Data:
    try:
        message = GS1Message.parse_hri(text)
    except (ParseError, ValueError) as exc:
        raise InvalidGS1Error(f"not a valid GS1 human-readable string: {exc}") from exc
    return _collect(message.element_strings)


def parse_digital_link(uri: str) -> GS1Data:
    """Parse a GS1 Digital Link URI into the element strings it encodes (G6)."""
    try:
        link = GS1DigitalLinkURI.parse(uri)
    except (ParseError, ValueError) as exc:
        raise InvalidGS1Error(f"not a valid GS1 Digital Link URI: {exc}") from exc
    return _collect(link.element_strings)


def _collect(element_strings: Iterable[GS1ElementString]) -> GS1Data:
    """Check what biip only reports (check digits) and flatten to pairs."""
    elements: list[tuple[str, str]] = []
    dates: dict[str, dt.date] = {}
    seen: dict[str, str] = {}
    for element in element_strings:
        ai = element.ai.ai
        problem = element.gtin_error or element.sscc_error or element.gln_error
        if problem:
            raise InvalidGS1Error(f"AI ({ai}) value {element.value!r} is invalid: {problem}")
        if ai in seen:
            if seen[ai] != element.value:
                raise InvalidGS1Error(
                    f"AI ({ai}) appears twice with different values "
                    f"{seen[ai]!r} and {element.value!r}"
                )
            continue
        seen[ai] = element.value
        elements.append((ai, element.value))
        if element.date is not None:
            dates[ai] = element.date
    if not elements:
        raise InvalidGS1Error("GS1 data carries no element strings")
    return GS1Data(tuple(elements), dates)


def as_hri(data: GS1Data) -> str:
    """The human-readable form, ``(01)09521101530001(21)ABC123``, for captions and logs."""
    return "".join(f"({ai}){value}" for ai, value in data.elements)
