"""Property tests: GS1 data built by the rules of G2-G6 decodes to what was put in,
and no byte sequence makes the decoder raise."""

from __future__ import annotations

import datetime as dt
import string
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import RawScan
from gateway.decoding import BadRead, DecodedScan, DecoderConfig, ScanKind, decode

GS = "\x1d"
# G2: GS1 character set 82, written out here rather than imported from the code under test.
CHARSET_82 = "!\"%&'()*+,-./:;<=>?_" + string.digits + string.ascii_letters
TODAY = dt.datetime.now(tz=dt.UTC).date()

GS1Scan = tuple[str, str, str | None, dt.date | None, list[tuple[str, str]]]
"""gtin, serial, lot, expiry, and the element strings in scan order."""

EXAMPLES = settings(max_examples=150, deadline=None)


def check_digit(payload: str) -> str:
    """G3: weights 3,1,3,... from the right of the payload."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return str((10 - total % 10) % 10)


gtins = st.text(string.digits, min_size=13, max_size=13).map(lambda p: p + check_digit(p))
gs1_values = st.text(CHARSET_82, min_size=1, max_size=20)
# G4: stay well inside the window of 49 years back and 50 ahead.
dates = st.dates(dt.date(TODAY.year - 45, 1, 1), dt.date(TODAY.year + 45, 12, 31))


def element_string(elements: list[tuple[str, str]]) -> str:
    """Concatenate; GS after each variable-length element that is not last (G2)."""
    out = ""
    for index, (ai, value) in enumerate(elements):
        out += ai + value
        if ai in ("10", "21") and index < len(elements) - 1:
            out += GS
    return out


def decoded(data: str, config: DecoderConfig | None = None) -> DecodedScan:
    result = decode(RawScan("s", data.encode(), received_ns=0), config or DecoderConfig())
    assert isinstance(result, DecodedScan), result
    return result


@st.composite
def gs1_scans(draw: st.DrawFn) -> GS1Scan:
    gtin, serial = draw(gtins), draw(gs1_values)
    lot = draw(st.none() | gs1_values)
    expiry = draw(st.none() | dates)
    tail: list[tuple[str, str]] = [("21", serial)]
    if lot is not None:
        tail.append(("10", lot))
    if expiry is not None:
        tail.append(("17", expiry.strftime("%y%m%d")))
    tail = draw(st.permutations(tail))
    return gtin, serial, lot, expiry, [("01", gtin), *tail]


def assert_same_elements(
    result: DecodedScan, gtin: str, serial: str, lot: str | None, expiry: dt.date | None,
) -> None:
    assert (result.gtin, result.serial, result.text) == (gtin, serial, serial)
    assert result.lot == lot
    assert result.expiry == expiry
    assert set(result.ais) == {ai for ai, present in (("10", lot), ("17", expiry)) if present}


@EXAMPLES
@given(gs1_scans(), st.sampled_from(["", "]C1", "]d2", "]Q3", "]e0", "]J1"]))
def test_element_string_round_trip(
    scan: GS1Scan, symbology: str,
) -> None:
    gtin, serial, lot, expiry, elements = scan
    result = decoded(symbology + element_string(elements))
    assert_same_elements(result, gtin, serial, lot, expiry)
    assert result.kind is ScanKind.GS1
    assert result.symbology == (symbology or None)


@EXAMPLES
@given(gs1_scans(), st.sampled_from(["~", "#", "^]"]))
def test_round_trip_through_a_keyboard_wedge_substitute(
    scan: GS1Scan, substitute: str,
) -> None:
    gtin, serial, lot, expiry, elements = scan
    data = element_string(elements).replace(GS, substitute)
    result = decoded(data, DecoderConfig(gs_substitutes=(substitute,)))
    assert_same_elements(result, gtin, serial, lot, expiry)


@EXAMPLES
@given(gs1_scans())
def test_digital_link_round_trip(
    scan: GS1Scan,
) -> None:
    gtin, serial, lot, expiry, _ = scan
    uri = f"https://id.example.com/01/{gtin}"
    if lot is not None:  # G6: qualifiers in the order 22, 10, 21
        uri += f"/10/{quote(lot, safe='')}"
    uri += f"/21/{quote(serial, safe='')}"
    if expiry is not None:
        uri += f"?17={expiry:%y%m%d}"
    result = decoded(uri)
    assert_same_elements(result, gtin, serial, lot, expiry)
    assert result.kind is ScanKind.DIGITAL_LINK


@EXAMPLES
@given(st.binary(max_size=120), st.booleans())
def test_decode_never_raises_on_bytes(data: bytes, overlong: bool) -> None:
    result = decode(RawScan("s", data, overlong=overlong, received_ns=0),
                    DecoderConfig(gs_substitutes=("~",)))
    assert isinstance(result, DecodedScan | BadRead)


GS1_ISH = st.text(string.digits * 3 + "]CdQe0123~#()/:?=.h" + GS + "ttps", max_size=80)


@EXAMPLES
@given(GS1_ISH, st.sampled_from(["", "]C1", "]d2", "]Q3", "]C0", "https://x.io/01/"]))
def test_decode_never_raises_on_near_gs1_text(body: str, prefix: str) -> None:
    data = (prefix + body).encode()
    result = decode(RawScan("s", data, received_ns=0), DecoderConfig(gs_substitutes=("~",)))
    assert isinstance(result, DecodedScan | BadRead)
    if isinstance(result, DecodedScan):
        assert result.text
