"""AIM symbology identifiers (G1): the ``]C1`` a scanner may put before the data.

biip knows the code characters; this module only splits the identifier off
without ever raising, and says whether it announces GS1 element strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from biip import ParseError
from biip.symbology import GS1Symbology, SymbologyIdentifier

_GS1_MESSAGE_SYMBOLOGIES = frozenset(GS1Symbology.with_gs1_messages())
_GTIN_SYMBOLOGIES = frozenset(GS1Symbology.with_gtin())


@dataclass(frozen=True, slots=True)
class Symbology:
    """An AIM symbology identifier split off a scan."""

    identifier: str
    """The identifier as sent, e.g. ``]d2``."""
    gs1_messages: bool
    """True for GS1-128, DataBar, GS1 DataMatrix, GS1 QR and DotCode (]C1 ]e0 ]d2 ]Q3 ]J1)."""
    gtin: bool
    """True for EAN/UPC and ITF-14, whose whole data is a GTIN."""


def split_symbology(text: str) -> tuple[Symbology | None, str]:
    """Split ``]xy`` off ``text``; data that does not open with a known identifier is kept whole."""
    if not text.startswith("]"):
        return None, text
    try:
        found = SymbologyIdentifier.extract(text)
    except (ParseError, ValueError, IndexError):
        return _gs1_only_identifier(text)
    if len(found.value) < 3 or not text.startswith(found.value):
        return None, text
    symbology = Symbology(
        identifier=found.value,
        gs1_messages=found.gs1_symbology in _GS1_MESSAGE_SYMBOLOGIES,
        gtin=found.gs1_symbology in _GTIN_SYMBOLOGIES,
    )
    return symbology, text[len(found.value):]


def _gs1_only_identifier(text: str) -> tuple[Symbology | None, str]:
    """GS1 identifiers whose code character biip's ISO table lacks (``]J1`` DotCode)."""
    try:
        gs1_symbology = GS1Symbology(text[1:3])
    except ValueError:
        return None, text
    symbology = Symbology(
        identifier=text[:3],
        gs1_messages=gs1_symbology in _GS1_MESSAGE_SYMBOLOGIES,
        gtin=gs1_symbology in _GTIN_SYMBOLOGIES,
    )
    return symbology, text[3:]
