"""Scan rules: first match wins, each action, no match passes, config errors with paths."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from drivers.base import RawScan
from gateway.decoding import DecodedScan, decode
from gateway.scan_rules import (
    RuleAccepted,
    RuleRejected,
    ScanFacts,
    ScanRule,
    ScanRulesConfig,
    SerialPattern,
    apply_scan_rules,
    check_item_serial,
    check_serial,
    error_lines,
)


def rules(*raw: dict[str, Any]) -> list[ScanRule]:
    return ScanRulesConfig.model_validate({"scan_rules": list(raw)}).scan_rules


def facts(data: str, **more: Any) -> ScanFacts:
    values: dict[str, Any] = {"scanner": "wedge-1", "mode": "add"} | more
    return ScanFacts(data=data, **values)


def config_errors(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        ScanRulesConfig.model_validate(raw)
    return error_lines(caught.value)


def test_no_rules_or_no_match_passes_data_unchanged() -> None:
    assert apply_scan_rules([], facts("SN-1")) == RuleAccepted("SN-1")
    only = rules({"when": 'data =~ "^X"', "then": [{"uppercase": True}]})
    assert apply_scan_rules(only, facts("sn-1")) == RuleAccepted("sn-1")


def test_first_matching_rule_wins() -> None:
    ordered = rules(
        {"name": "short", "when": "length < 4", "then": [{"reject": "too short"}]},
        {"name": "upper", "when": "true", "then": [{"uppercase": True}]},
        {"name": "never-reached", "when": "true", "then": [{"reject": "unreachable"}]},
    )
    assert apply_scan_rules(ordered, facts("ab")) == RuleRejected("too short", "short")
    assert apply_scan_rules(ordered, facts("abcd")) == RuleAccepted("ABCD", "upper")


@pytest.mark.parametrize(
    ("action", "data", "result"),
    [
        ({"strip_prefix": "S/N:"}, "S/N:0042", "0042"),
        ({"strip_prefix": "S/N:"}, "0042", "0042"),
        ({"strip_leading_zeros": True}, "000420", "420"),
        ({"uppercase": True}, "ab-c1", "AB-C1"),
        ({"replace": {"old": " ", "new": ""}}, "AB 12 C", "AB12C"),
        ({"replace": {"old": r"(\d+)-(\d+)", "new": r"\2\1", "regex": True}}, "12-34", "3412"),
        ({"extract": {"pattern": r"SN=(\w+)"}}, "PN=7;SN=ABC9;", "ABC9"),
        ({"extract": {"pattern": r"SN=(?P<sn>\w+)", "group": "sn"}}, "x SN=Q1", "Q1"),
        ({"extract": {"pattern": r"\d{4}", "group": 0}}, "ab1234cd", "1234"),
    ],
)
def test_transforms(action: dict[str, Any], data: str, result: str) -> None:
    assert apply_scan_rules(rules({"then": [action]}), facts(data)) == RuleAccepted(
        result, "scan_rules.0")


def test_transforms_run_in_order() -> None:
    steps = rules({"then": [{"strip_prefix": "sn"}, {"strip_leading_zeros": True},
                            {"uppercase": True}]})
    assert apply_scan_rules(steps, facts("sn000ab")).data == "AB"  # type: ignore[union-attr]


def test_accept_stops_the_actions_and_keeps_data() -> None:
    stop = rules({"then": [{"accept": True}, {"reject": "not reached"}]})
    assert apply_scan_rules(stop, facts("SN1")) == RuleAccepted("SN1", "scan_rules.0")


def test_route_to_item_and_line() -> None:
    routed = rules({"name": "batteries", "when": 'data =~ "^BAT"',
                    "then": [{"route": {"item": "BAT-100", "line": 3}}]})
    assert apply_scan_rules(routed, facts("BAT77")) == RuleAccepted(
        "BAT77", "batteries", "BAT-100", 3)


def test_extract_without_match_and_empty_result_are_refused() -> None:
    result = apply_scan_rules(rules({"then": [{"extract": {"pattern": r"SN=(\d+)"}}]}),
                              facts("PN=1"))
    assert isinstance(result, RuleRejected)
    assert "'PN=1'" in result.message
    emptied = apply_scan_rules(rules({"then": [{"strip_leading_zeros": True}]}), facts("000"))
    assert isinstance(emptied, RuleRejected)
    assert "left nothing of '000'" in emptied.message


@pytest.mark.parametrize(
    ("condition", "matching", "other"),
    [
        ('symbology == "]C0"', facts("x", symbology="]C0"), facts("x", symbology="]E0")),
        ("symbology == null", facts("x"), facts("x", symbology="]C0")),
        ('scanner == "ring-2"', facts("x", scanner="ring-2"), facts("x")),
        ('mode == "remove"', facts("x", mode="remove"), facts("x")),
        ('item == "A100" and length == 10', facts("0123456789", item="A100"),
         facts("012345678", item="A100")),
        ('data =~ "^[0-9]+$"', facts("123"), facts("12a")),
        ('kind == "gs1" and gtin != null', facts("S", kind="gs1", gtin="09521101530001"),
         facts("S")),
    ],
)
def test_conditions_see_each_fact(condition: str, matching: ScanFacts, other: ScanFacts) -> None:
    rule = rules({"when": condition, "then": [{"reject": "matched"}]})
    assert isinstance(apply_scan_rules(rule, matching), RuleRejected)
    assert isinstance(apply_scan_rules(rule, other), RuleAccepted)


def test_facts_of_a_decoded_scan() -> None:
    scan = decode(RawScan("ring-2", b"]d20109521101530001" b"21ABC", received_ns=0))
    assert isinstance(scan, DecodedScan)
    fact = ScanFacts.of(scan, "remove", item="A100")
    assert fact == ScanFacts("ABC", "ring-2", "remove", "]d2", "A100", "09521101530001", "gs1")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"scan_rules": [{"then": [{"accept": True}]}, {"then": [{"accept": True}]},
                         {"when": "dta == 1", "then": [{"accept": True}]}]},
         "scan_rules.2.when: unknown name 'dta' in 'dta == 1'; did you mean 'data'?"),
        ({"scan_rules": [{"when": 'data =~ "["', "then": [{"accept": True}]}]},
         "scan_rules.0.when: invalid regular expression '['"),
        ({"scan_rules": [{"when": "data ==", "then": [{"accept": True}]}]},
         "scan_rules.0.when: invalid condition 'data ==': syntax error"),
        ({"scan_rules": [{"then": []}]}, "scan_rules.0.then: List should have at least 1"),
        ({"scan_rules": [{"then": [{"uppercase": True, "accept": True}]}]},
         "scan_rules.0.then.0: an action needs exactly one of"),
        ({"scan_rules": [{"then": [{"shout": True}]}]}, "scan_rules.0.then.0.shout: Extra"),
        ({"scan_rules": [{"then": [{"extract": {"pattern": "(a"}}]}]},
         "scan_rules.0.then.0.extract: invalid regular expression '(a'"),
        ({"scan_rules": [{"then": [{"extract": {"pattern": "a", "group": 1}}]}]},
         "scan_rules.0.then.0.extract: pattern 'a' has 0 group(s), no group 1"),
        ({"scan_rules": [{"then": [{"replace": {"old": "(a)", "new": r"\2", "regex": True}}]}]},
         "scan_rules.0.then.0.replace: invalid replacement"),
        ({"scan_rules": [{"then": [{"route": {}}]}]},
         "scan_rules.0.then.0.route: route needs an item, a line or both"),
        ({"serial_patterns": {"A100": {"regex": "[z-a]"}}},
         "serial_patterns.A100.regex: invalid regular expression '[z-a]'"),
        ({"serial_patterns": {"A100": {"charset": "emoji"}}},
         "serial_patterns.A100.charset: unknown charset 'emoji'"),
        ({"serial_patterns": {"A100": {"min_length": 9, "max_length": 4}}},
         "serial_patterns.A100: min_length 9 is greater than max_length 4"),
    ],
)
def test_bad_config_is_reported_with_its_path(raw: dict[str, Any], expected: str) -> None:
    lines = config_errors(raw)
    assert any(line.startswith(expected) for line in lines), lines


def test_every_error_is_reported_at_once() -> None:
    lines = config_errors({"scan_rules": [{"when": "nope", "then": [{"accept": True}]},
                                          {"when": "data ==", "then": [{"accept": True}]}]})
    assert [line.split(":")[0] for line in lines] == ["scan_rules.0.when", "scan_rules.1.when"]


def test_evaluation_error_refuses_with_the_rule_named() -> None:
    broken = rules({"name": "item-size", "when": "item.length > 2", "then": [{"accept": True}]})
    assert apply_scan_rules(broken, facts("SN1", item="A100")) == RuleAccepted("SN1", "item-size")
    refused = apply_scan_rules(broken, facts("SN1"))  # no item: null has no length
    assert isinstance(refused, RuleRejected)
    assert refused.rule == "item-size"
    assert "could not be evaluated on 'SN1'" in refused.message


PATTERN = SerialPattern(regex=r"SN\d{6}", length=8, charset="upper-alphanumeric",
                        hint="the serial is on the lid")


@pytest.mark.parametrize(
    ("serial", "words"),
    [
        ("SN123456", None),
        ("SN12345", ["has 7 characters", "must have 8", "(the serial is on the lid)"]),
        ("sn123456", ["contains 's', 'n'", "upper-alphanumeric"]),
        ("SNX23456", ["does not match the pattern SN\\d{6}"]),
    ],
)
def test_serial_pattern(serial: str, words: list[str] | None) -> None:
    message = check_serial(serial, PATTERN, "A100")
    if words is None:
        assert message is None
    else:
        assert message is not None
        assert f"serial {serial!r} for item A100" in message
        for word in words:
            assert word in message


def test_serial_length_bounds_and_custom_characters() -> None:
    bounds = SerialPattern(min_length=3, max_length=5, allowed_chars="0123456789ABCDEF")
    assert check_serial("AB1", bounds, "X") is None
    assert "at least 3" in (check_serial("AB", bounds, "X") or "")
    assert "at most 5" in (check_serial("ABCDEF", bounds, "X") or "")
    assert "contains 'G'" in (check_serial("ABG", bounds, "X") or "")


def test_gs1_charset_rejects_space_and_hash() -> None:
    gs1 = SerialPattern(charset="gs1-82")
    assert check_serial("AB-12/x", gs1, "X") is None
    assert "contains ' ', '#'" in (check_serial("A #1", gs1, "X") or "")


def test_items_without_a_pattern_take_any_serial() -> None:
    patterns = {"A100": SerialPattern(length=4)}
    assert check_item_serial("anything at all", "B200", patterns) is None
    assert check_item_serial("12345", "A100", patterns) is not None


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=30), st.sampled_from(["add", "remove"]))
def test_data_no_rule_matches_passes_unchanged(data: str, mode: str) -> None:
    never = rules({"when": 'scanner == "no-such-scanner"', "then": [{"reject": "x"}]},
                  {"when": "length > 1000", "then": [{"uppercase": True}]})
    assert apply_scan_rules(never, facts(data, mode=mode)) == RuleAccepted(data)
