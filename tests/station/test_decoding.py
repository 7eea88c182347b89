"""Decoder behaviour, table-driven: what each kind of scan turns into (G1-G6)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from drivers.base import RawScan
from gateway.decoding import (
    REASON_EMPTY,
    REASON_INVALID_DIGITAL_LINK,
    REASON_INVALID_GS1,
    REASON_OVERLONG,
    REASON_UNREADABLE,
    BadRead,
    DecodedScan,
    DecoderConfig,
    ScanKind,
    decode,
    describe,
)

GS = "\x1d"
GTIN = "09521101530001"  # the GS1 example GTIN; check digit 1 is right (G3)


def scan(data: str | bytes, config: DecoderConfig | None = None) -> DecodedScan | BadRead:
    payload = data.encode() if isinstance(data, str) else data
    raw = RawScan("wedge-1", payload, received_ns=42)
    return decode(raw) if config is None else decode(raw, config)


def decoded(data: str | bytes, config: DecoderConfig | None = None) -> DecodedScan:
    result = scan(data, config)
    assert isinstance(result, DecodedScan), result
    return result


def bad(data: str | bytes, config: DecoderConfig | None = None) -> BadRead:
    result = scan(data, config)
    assert isinstance(result, BadRead), result
    return result


# data, symbology, text, gtin, serial, other AIs, kind
GOOD = [
    pytest.param(  # G2 example
        f"]d201{GTIN}21ABC123{GS}17210119", "]d2", "ABC123", GTIN, "ABC123", {"17": "210119"},
        ScanKind.GS1, id="G2-example-datamatrix",
    ),
    pytest.param(
        f"]C101{GTIN}10LOT-7{GS}21SN/0042", "]C1", "SN/0042", GTIN, "SN/0042", {"10": "LOT-7"},
        ScanKind.GS1, id="gs1-128-lot-then-serial",
    ),
    pytest.param(
        f"]Q301{GTIN}11200229{GS}21X", "]Q3", "X", GTIN, "X", {"11": "200229"},
        ScanKind.GS1, id="gs1-qr-production-date",
    ),
    pytest.param(
        f"]e001{GTIN}21S1{GS}24012-AB{GS}250SUB9{GS}8006{GTIN}0102", "]e0", "S1", GTIN, "S1",
        {"240": "12-AB", "250": "SUB9", "8006": f"{GTIN}0102"}, ScanKind.GS1,
        id="databar-common-ais",
    ),
    pytest.param(
        f"]J101{GTIN}21DOT", "]J1", "DOT", GTIN, "DOT", {}, ScanKind.GS1, id="gs1-dotcode",
    ),
    pytest.param(
        f"{GS}01{GTIN}21ABC", None, "ABC", GTIN, "ABC", {}, ScanKind.GS1,
        id="leading-fnc1-as-gs",
    ),
    pytest.param(
        f"01{GTIN}21ABC123{GS}17210119", None, "ABC123", GTIN, "ABC123", {"17": "210119"},
        ScanKind.GS1, id="unmarked-gtin-led",
    ),
    pytest.param(
        f"]d201{GTIN}17210119", "]d2", f"(01){GTIN}(17)210119", GTIN, None, {"17": "210119"},
        ScanKind.GS1, id="no-serial-text-is-hri",
    ),
    pytest.param(
        f"(01){GTIN}(21)ABC123", None, "ABC123", GTIN, "ABC123", {}, ScanKind.GS1,
        id="typed-hri",
    ),
    pytest.param(
        f"https://id.example.com/01/{GTIN}/21/ABC123", None, "ABC123", GTIN, "ABC123", {},
        ScanKind.DIGITAL_LINK, id="G6-digital-link",
    ),
    pytest.param(
        f"]Q1https://id.example.com/01/{GTIN}/10/L%2F1/21/A%2FB?17=210119", "]Q1", "A/B",
        GTIN, "A/B", {"10": "L/1", "17": "210119"}, ScanKind.DIGITAL_LINK,
        id="digital-link-qualifiers-and-query",
    ),
    pytest.param(
        f"]Q3https://id.example.com/01/{GTIN}/21/Z9", "]Q3", "Z9", GTIN, "Z9", {},
        ScanKind.DIGITAL_LINK, id="digital-link-in-gs1-qr",
    ),
    pytest.param(
        f"]d1[)>\x1e05{GS}01{GTIN}21ENV1\x1e\x04", "]d1", "ENV1", GTIN, "ENV1", {},
        ScanKind.GS1, id="iso15434-format-05-envelope",
    ),
    pytest.param(
        f"[)>\x1e06{GS}SSN77{GS}1PPART\x1e\x04", None, f"[)>\x1e06{GS}SSN77{GS}1PPART\x1e\x04",
        None, None, {}, ScanKind.PLAIN, id="iso15434-format-06-stays-plain-for-rules",
    ),
    pytest.param("]C0SN-000123", "]C0", "SN-000123", None, None, {}, ScanKind.PLAIN,
                 id="code128-id-stripped"),
    pytest.param("]A0ABC-99", "]A0", "ABC-99", None, None, {}, ScanKind.PLAIN,
                 id="code39-id-stripped"),
    pytest.param("]E05901234123457", "]E0", "5901234123457", "05901234123457", None, {},
                 ScanKind.GTIN, id="ean13-id-stripped-gtin-kept"),
    pytest.param("SN12345", None, "SN12345", None, None, {}, ScanKind.PLAIN, id="plain"),
    pytest.param("  SN 12  ", None, "SN 12", None, None, {}, ScanKind.PLAIN,
                 id="plain-outer-spaces-trimmed"),
    pytest.param("10ABC", None, "10ABC", None, None, {}, ScanKind.PLAIN,
                 id="plain-that-parses-as-ai-10-stays-plain"),
    pytest.param("https://example.com/manual", None, "https://example.com/manual", None,
                 None, {}, ScanKind.PLAIN, id="url-without-gs1-key-is-plain"),
    pytest.param("]X", None, "]X", None, None, {}, ScanKind.PLAIN,
                 id="bracket-without-modifier-is-data"),
]


@pytest.mark.parametrize(("data", "symbology", "text", "gtin", "serial", "ais", "kind"), GOOD)
def test_good_scans(
    data: str, symbology: str | None, text: str, gtin: str | None, serial: str | None,
    ais: dict[str, str], kind: ScanKind,
) -> None:
    result = decoded(data)
    assert (result.symbology, result.text, result.gtin, result.serial, result.ais,
            result.kind) == (symbology, text, gtin, serial, ais, kind)
    assert result.scanner == "wedge-1"
    assert result.received_ns == 42


def test_dates_follow_the_century_rule() -> None:
    result = decoded(f"]d201{GTIN}21A{GS}17210119{GS}11991231")
    assert result.expiry == dt.date(2021, 1, 19)
    assert result.dates["11"] == dt.date(1999, 12, 31)
    assert result.lot is None


def test_day_zero_means_last_day_of_month() -> None:
    assert decoded(f"]C101{GTIN}17240200").expiry == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    ("substitutes", "data"),
    [
        (("~",), f"01{GTIN}21ABC123~17210119"),
        (("#",), f"]C101{GTIN}10L1#21ABC123#17210119"),
        (("^]",), f"01{GTIN}21ABC123^]17210119"),
        (("<GS>", "~"), f"01{GTIN}21ABC123<GS>17210119"),
    ],
)
def test_gs_substitute_becomes_a_separator(substitutes: tuple[str, ...], data: str) -> None:
    result = decoded(data, DecoderConfig(gs_substitutes=substitutes))
    assert result.serial == "ABC123"
    assert result.ais["17"] == "210119"


def test_without_substitute_config_the_stand_in_is_an_error() -> None:
    failure = bad(f"01{GTIN}21ABC123~17210119")
    assert failure.reason == REASON_INVALID_GS1
    assert "'~17210119'" in failure.message


def test_substitute_is_not_applied_to_plain_data() -> None:
    result = decoded("ORDER#12", DecoderConfig(gs_substitutes=("#",)))
    assert result.text == "ORDER#12"


@pytest.mark.parametrize("substitute", ["", "A", "%"])
def test_substitute_that_gs1_data_may_hold_is_refused(substitute: str) -> None:
    with pytest.raises(ValidationError, match="gs_substitutes"):
        DecoderConfig(gs_substitutes=(substitute,))


# data, reason, words the message must contain
BAD = [
    pytest.param(f"]d201{GTIN[:-1]}2" "21ABC", REASON_INVALID_GS1, ["check digit", "Expected 1"],
                 id="bad-check-digit"),
    pytest.param(f"01{GTIN[:-1]}7", REASON_INVALID_GS1,
                 ["check digit", "detect_unmarked_gs1"], id="bad-check-digit-unmarked"),
    pytest.param(f"]C101{GTIN}17211301", REASON_INVALID_GS1, ["(17)"], id="month-13"),
    pytest.param("]C1ABC", REASON_INVALID_GS1, ["Application Identifier"], id="bad-ai"),
    pytest.param(f"]C101{GTIN}21AB C", REASON_INVALID_GS1, ["' C'"], id="space-in-serial"),
    pytest.param(f"]d201{GTIN}21" + "X" * 21, REASON_INVALID_GS1, ["from 'X'"],
                 id="serial-longer-than-20"),
    pytest.param(f"]d201{GTIN}21A{GS}21B", REASON_INVALID_GS1, ["twice"], id="two-serials"),
    pytest.param("https://id.example.com/01/09521101530002/21/X", REASON_INVALID_DIGITAL_LINK,
                 ["check digit"], id="digital-link-bad-check-digit"),
    pytest.param("https://id.example.com/01/abc", REASON_INVALID_DIGITAL_LINK,
                 ["Digital Link"], id="digital-link-bad-gtin"),
    pytest.param(b"\xff\xfe", REASON_UNREADABLE, ["not text"], id="binary"),
    pytest.param(b"AB\x07C", REASON_UNREADABLE, ["0x07"], id="bell"),
    pytest.param(b"AB\xc2\x85C", REASON_UNREADABLE, ["0x85"], id="c1-control"),
    pytest.param(b"", REASON_EMPTY, ["empty"], id="empty"),
    pytest.param(b"   ", REASON_EMPTY, ["empty"], id="blank"),
    pytest.param(b"]C1", REASON_EMPTY, ["symbology identifier"], id="identifier-only"),
]


@pytest.mark.parametrize(("data", "reason", "words"), BAD)
def test_bad_reads(data: str | bytes, reason: str, words: list[str]) -> None:
    failure = bad(data)
    assert failure.reason == reason
    for word in words:
        assert word in failure.message
    assert failure.scanner == "wedge-1"


def test_overlong_is_a_bad_read_even_when_the_kept_part_is_fine() -> None:
    result = decode(RawScan("s", b"SN123", overlong=True, received_ns=1))
    assert isinstance(result, BadRead)
    assert result.reason == REASON_OVERLONG


def test_unmarked_detection_can_be_turned_off_for_numeric_serials() -> None:
    serial = "0112345678901237"  # a plain serial that looks like (01) with a bad check digit
    assert bad(serial).reason == REASON_INVALID_GS1
    result = decoded(serial, DecoderConfig(detect_unmarked_gs1=False))
    assert (result.text, result.kind, result.gtin) == (serial, ScanKind.PLAIN, None)


def test_decoded_scan_is_hashable_despite_dict_fields() -> None:
    assert hash(decoded(f"]d201{GTIN}21A{GS}10L")) is not None


def test_describe_lists_what_was_read() -> None:
    rows = dict(describe(decoded(f"]d201{GTIN}21ABC123{GS}17210119")))
    assert rows["serial"] == "ABC123"
    assert rows["symbology"] == "]d2"
    assert rows["(17)"] == "210119 = 2021-01-19"
    assert dict(describe(bad(b"\xff")))["bad read"] == REASON_UNREADABLE
