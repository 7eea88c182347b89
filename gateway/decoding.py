"""Turn a framed scan's bytes into what it says.

Pure code. A scan that is not text a barcode can carry (binary garbage, a
cut-off overlong read) becomes a ``BadRead`` the operator hears as a bad beep.
So does data that is meant to be GS1 but breaks its rules (bad check digit,
unknown AI, impossible date): registering such a label as a serial would put
the whole element string in the journal.

Order of work: bytes -> text, AIM symbology identifier off (G1), then GS1
element string (G2-G5, also inside an ISO/IEC 15434 format 05 envelope), GS1
Digital Link (G6), EAN/UPC GTIN, or plain data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from biip import ParseError
from biip.gtin import Gtin
from pydantic import BaseModel, ConfigDict, Field, field_validator

from drivers.base import RawScan
from gateway.barcodes.aim import Symbology, split_symbology
from gateway.barcodes.charsets import GS1_CHARSET_82
from gateway.barcodes.gs1 import (
    GS1Data,
    InvalidGS1Error,
    as_hri,
    looks_like_digital_link,
    looks_like_unmarked_gs1,
    parse_digital_link,
    parse_element_string,
    unwrap_iso15434_gs1,
)

# Control characters a barcode may legitimately carry: GS (FNC1 separator in
# GS1 data), RS and EOT (ISO/IEC 15434 envelopes).
_ALLOWED_CONTROLS = frozenset({0x1D, 0x1E, 0x04})

# Stable reason codes of a BadRead: the journal, metrics and tests key on them.
REASON_OVERLONG: Final = "overlong"
REASON_UNREADABLE: Final = "unreadable"
REASON_EMPTY: Final = "empty"
REASON_INVALID_GS1: Final = "invalid-gs1"
REASON_INVALID_DIGITAL_LINK: Final = "invalid-digital-link"


class ScanKind(StrEnum):
    """What the data of a readable scan turned out to be."""

    PLAIN = "plain"
    GS1 = "gs1"
    DIGITAL_LINK = "digital-link"
    GTIN = "gtin"
    """An EAN/UPC/ITF-14 symbol: the whole data is a GTIN."""


class DecoderConfig(BaseModel):
    """How the station reads barcode data (``decoder:`` in the station config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gs_substitutes: tuple[str, ...] = Field(
        default=(),
        description=(
            "Strings a keyboard-wedge scanner sends instead of GS (FNC1) in GS1 data, "
            "e.g. ['~'] or ['#'] or the wedge's rendition of Ctrl+]. Only applied to GS1 data."
        ),
        examples=[["~"], ["#", "^]"]],
    )
    detect_unmarked_gs1: bool = Field(
        default=True,
        description=(
            "Read data without a GS1 symbology identifier as GS1 when it opens with a "
            "GTIN (01)/(02) or SSCC (00) and all its digits, contains GS, or is (AI) text. "
            "Set false when plain serials can look like that."
        ),
    )

    @field_validator("gs_substitutes")
    @classmethod
    def _substitutes_cannot_be_data(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for substitute in value:
            if not substitute:
                raise ValueError("an empty GS substitute would match everywhere; remove it")
            if len(substitute) == 1 and substitute in GS1_CHARSET_82:
                raise ValueError(
                    f"GS substitute {substitute!r} is a character GS1 data may contain, "
                    "so serials holding it would be cut; use one outside GS1 set 82, "
                    "such as '~' or '#'"
                )
        return value


DEFAULT_DECODER_CONFIG: Final = DecoderConfig()


@dataclass(frozen=True, slots=True)
class DecodedScan:
    """A readable scan.

    ``text`` is what the station registers or matches: the serial (21) of GS1
    data, else the HRI ``(01)...(17)...`` of other GS1 data, else the data
    without its symbology identifier (for EAN/UPC its digits; ``gtin`` holds
    the GTIN-14).
    """

    scanner: str
    text: str
    received_ns: int
    symbology: str | None = None
    """The AIM identifier as sent (``]d2``, ``]C0``), or None when the scanner sends none."""
    gtin: str | None = None
    """GTIN-14 from AI (01), or of an EAN/UPC symbol."""
    serial: str | None = None
    """AI (21)."""
    ais: dict[str, str] = field(default_factory=dict, hash=False)
    """Every other AI of GS1 data, e.g. ``{"10": "LOT7", "17": "210119"}``."""
    dates: dict[str, dt.date] = field(default_factory=dict, hash=False)
    """Dates of the date AIs among ``ais`` (G4 century rule applied)."""
    kind: ScanKind = ScanKind.PLAIN

    @property
    def lot(self) -> str | None:
        """Batch/lot, AI (10)."""
        return self.ais.get("10")

    @property
    def expiry(self) -> dt.date | None:
        """Expiry date, AI (17)."""
        return self.dates.get("17")


@dataclass(frozen=True, slots=True)
class BadRead:
    """A scan the station cannot use, with a stable reason code."""

    scanner: str
    reason: str
    message: str
    received_ns: int


def decode(raw: RawScan, config: DecoderConfig = DEFAULT_DECODER_CONFIG) -> DecodedScan | BadRead:
    """Decode one framed scan; never raises on any input bytes."""
    text_or_bad = _text_of(raw)
    if isinstance(text_or_bad, BadRead):
        return text_or_bad
    symbology, body = split_symbology(text_or_bad)
    body = body.strip(" ")
    if not body:
        return BadRead(raw.scanner, REASON_EMPTY, "scan holds only a symbology identifier",
                       raw.received_ns)
    try:
        return _interpret(raw, symbology, body, config)
    except InvalidGS1Error as exc:
        reason = REASON_INVALID_DIGITAL_LINK if _is_uri(body) else REASON_INVALID_GS1
        return BadRead(
            raw.scanner, reason,
            f"{exc} (scanned {body!r}); check the label or type the serial", raw.received_ns,
        )


def _text_of(raw: RawScan) -> str | BadRead:
    if raw.overlong:
        return BadRead(
            raw.scanner, REASON_OVERLONG,
            f"scan longer than the maximum of {len(raw.data)} bytes", raw.received_ns,
        )
    try:
        text = raw.data.decode("utf-8")
    except UnicodeDecodeError:
        return BadRead(raw.scanner, REASON_UNREADABLE, "scan is not text", raw.received_ns)
    bad = [c for c in text if _is_forbidden_control(c)]
    if bad:
        return BadRead(
            raw.scanner, REASON_UNREADABLE, f"scan contains control byte 0x{ord(bad[0]):02X}",
            raw.received_ns,
        )
    text = text.strip(" ")
    if not text:
        return BadRead(raw.scanner, REASON_EMPTY, "empty scan", raw.received_ns)
    return text


def _is_forbidden_control(char: str) -> bool:
    code = ord(char)
    return (code < 0x20 or 0x7F <= code <= 0x9F) and code not in _ALLOWED_CONTROLS


def _is_uri(body: str) -> bool:
    return body.lower().startswith(("http://", "https://"))


def _interpret(
    raw: RawScan, symbology: Symbology | None, body: str, config: DecoderConfig,
) -> DecodedScan:
    identifier = symbology.identifier if symbology else None
    found = _gs1_of(symbology, body, config)
    if found is not None:
        return _from_gs1(raw, identifier, *found)
    if symbology is not None and symbology.gtin:
        return _from_gtin(raw, identifier, body)
    return DecodedScan(raw.scanner, body, raw.received_ns, symbology=identifier)


def _gs1_of(
    symbology: Symbology | None, body: str, config: DecoderConfig,
) -> tuple[GS1Data, ScanKind] | None:
    """The GS1 content of the scan, None when it is not GS1 data at all."""
    if symbology is not None and symbology.gs1_messages:
        if _is_uri(body):
            return parse_digital_link(body), ScanKind.DIGITAL_LINK
        return parse_element_string(body, config.gs_substitutes), ScanKind.GS1
    enveloped = unwrap_iso15434_gs1(body)
    if enveloped is not None:
        return parse_element_string(enveloped), ScanKind.GS1
    if looks_like_digital_link(body):
        return parse_digital_link(body), ScanKind.DIGITAL_LINK
    if symbology is None and config.detect_unmarked_gs1 and looks_like_unmarked_gs1(body):
        return _parse_unmarked(body, config), ScanKind.GS1
    return None


def _parse_unmarked(body: str, config: DecoderConfig) -> GS1Data:
    try:
        return parse_element_string(body, config.gs_substitutes)
    except InvalidGS1Error as exc:
        raise InvalidGS1Error(
            f"{str(exc).rstrip('.')}; the scan looks like GS1 data (no symbology identifier). "
            "If plain serials can look like this, set decoder.detect_unmarked_gs1: false"
        ) from exc


def _from_gs1(
    raw: RawScan, identifier: str | None, gs1: GS1Data, kind: ScanKind,
) -> DecodedScan:
    gtin = gs1.get("01")
    serial = gs1.get("21")
    others = {ai: value for ai, value in gs1.elements if ai not in ("01", "21")}
    dates = {ai: date for ai, date in gs1.dates.items() if ai in others}
    return DecodedScan(
        raw.scanner,
        serial if serial is not None else as_hri(gs1),
        raw.received_ns,
        symbology=identifier,
        gtin=gtin,
        serial=serial,
        ais=others,
        dates=dates,
        kind=kind,
    )


def _from_gtin(raw: RawScan, identifier: str | None, body: str) -> DecodedScan:
    """EAN/UPC: keep the GTIN when biip accepts it (G3); an add-on or odd length stays plain."""
    try:
        gtin: str | None = Gtin.parse(body).as_gtin_14() if body.isdigit() else None
    except (ParseError, ValueError):
        gtin = None
    return DecodedScan(
        raw.scanner, body, raw.received_ns, symbology=identifier, gtin=gtin,
        kind=ScanKind.GTIN if gtin else ScanKind.PLAIN,
    )


def describe(result: DecodedScan | BadRead) -> list[tuple[str, str]]:
    """(field, value) rows for a CLI table (``scangw decode``) or a log line."""
    if isinstance(result, BadRead):
        return [("scanner", result.scanner), ("bad read", result.reason),
                ("message", result.message)]
    rows = [("scanner", result.scanner), ("kind", result.kind.value), ("text", result.text)]
    optional = (("symbology", result.symbology), ("gtin", result.gtin),
                ("serial", result.serial))
    rows += [(name, value) for name, value in optional if value is not None]
    for ai, value in result.ais.items():
        date = result.dates.get(ai)
        rows.append((f"({ai})", f"{value} = {date.isoformat()}" if date else value))
    return rows
