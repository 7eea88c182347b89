"""Scan rules: site-specific clean-up of scan data before the serial rules see it.

Modelled on Zebra DataWedge's advanced data formatting: an ordered list of
rules, the first whose condition holds is applied, and when none holds the data
passes unchanged. Conditions are ``rule-engine`` expressions (safe, typed, with
``=~`` regex matching) that warehouse IT writes in the station config::

    scan_rules:
      - name: vendor-labels
        when: 'symbology == "]C0" and data =~ "^S/N:"'
        then:
          - strip_prefix: "S/N:"
          - strip_leading_zeros: true
      - when: 'length < 4'
        then:
          - reject: "too short: scan the serial label, not the lot"

Per-item serial patterns are checked after the rules, on the final data.
Pure code: the station builds ``ScanFacts`` and acts on the outcome.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import rule_engine  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator
from pydantic import model_validator as _model_validator

from gateway.barcodes.charsets import NAMED_CHARSETS
from gateway.decoding import DecodedScan

_STRING = rule_engine.DataType.STRING
_SYMBOL_TYPES = {
    "data": _STRING,
    "length": rule_engine.DataType.FLOAT,
    "symbology": _STRING,
    "scanner": _STRING,
    "mode": _STRING,
    "item": _STRING,
    "gtin": _STRING,
    "kind": _STRING,
}
_CONTEXT = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(_SYMBOL_TYPES))


@dataclass(frozen=True, slots=True)
class ScanFacts:
    """What a condition can look at. ``symbology``, ``item`` and ``gtin`` may be null."""

    data: str
    scanner: str
    mode: str
    """``add`` or ``remove`` (R6)."""
    symbology: str | None = None
    item: str | None = None
    """The item of the order line the station has selected, if any."""
    gtin: str | None = None
    kind: str = "plain"

    @classmethod
    def of(cls, scan: DecodedScan, mode: str, item: str | None = None) -> ScanFacts:
        """Facts of a decoded scan in the station's current mode and line."""
        return cls(scan.text, scan.scanner, str(mode), scan.symbology, item, scan.gtin,
                   scan.kind.value)

    def as_symbols(self) -> dict[str, Any]:
        """The names a condition may use, with ``length`` derived from ``data``."""
        return {
            "data": self.data, "length": len(self.data), "symbology": self.symbology,
            "scanner": self.scanner, "mode": self.mode, "item": self.item,
            "gtin": self.gtin, "kind": self.kind,
        }


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc


def compile_condition(expression: str) -> Any:
    """Compile a condition, or raise ValueError saying what is wrong and how to fix it."""
    try:
        return rule_engine.Rule(expression, context=_CONTEXT)
    except rule_engine.errors.SymbolResolutionError as exc:
        known = ", ".join(sorted(_SYMBOL_TYPES))
        hint = f"; did you mean {exc.suggestion!r}?" if exc.suggestion else ""
        raise ValueError(
            f"unknown name {exc.symbol_name!r} in {expression!r}{hint} (known: {known})"
        ) from exc
    except rule_engine.errors.RegexSyntaxError as exc:
        raise ValueError(
            f"invalid regular expression {exc.value!r} in {expression!r}: {exc.error}"
        ) from exc
    except rule_engine.errors.EngineError as exc:
        raise ValueError(f"invalid condition {expression!r}: {exc.message}") from exc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Replace(_Strict):
    """Replace ``old`` with ``new`` everywhere; ``regex: true`` reads ``old`` as a regex."""

    old: str = Field(min_length=1)
    new: str = ""
    regex: bool = False

    @_model_validator(mode="after")
    def _valid_regex(self) -> Replace:
        if self.regex:
            try:
                _regex(self.old).sub(self.new, "")  # parses the template's group references
            except (re.error, IndexError) as exc:
                raise ValueError(
                    f"invalid replacement {self.new!r} for {self.old!r}: {exc}"
                ) from exc
        return self


class Extract(_Strict):
    """Keep only one group of the first match of ``pattern`` (number or name)."""

    pattern: str
    group: int | str = 1

    @_model_validator(mode="after")
    def _group_exists(self) -> Extract:
        compiled = _regex(self.pattern)
        if isinstance(self.group, int):
            if not 0 <= self.group <= compiled.groups:
                raise ValueError(
                    f"pattern {self.pattern!r} has {compiled.groups} group(s), "
                    f"no group {self.group}"
                )
        elif self.group not in compiled.groupindex:
            raise ValueError(f"pattern {self.pattern!r} has no group named {self.group!r}")
        return self


class Route(_Strict):
    """Send the scan to an item or an order line instead of the selected one."""

    item: str | None = Field(default=None, min_length=1)
    line: int | None = Field(default=None, ge=1)

    @_model_validator(mode="after")
    def _has_target(self) -> Route:
        if self.item is None and self.line is None:
            raise ValueError("route needs an item, a line or both, e.g. {item: A100}")
        return self


ACTION_KEYS = ("accept", "reject", "strip_prefix", "strip_leading_zeros", "replace",
               "uppercase", "extract", "route")


class RuleAction(_Strict):
    """One step of a rule; exactly one key is set."""

    accept: Literal[True] | None = None
    reject: str | None = Field(default=None, min_length=1)
    strip_prefix: str | None = Field(default=None, min_length=1)
    strip_leading_zeros: Literal[True] | None = None
    replace: Replace | None = None
    uppercase: Literal[True] | None = None
    extract: Extract | None = None
    route: Route | None = None

    @_model_validator(mode="after")
    def _exactly_one(self) -> RuleAction:
        given = [key for key in ACTION_KEYS if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(
                f"an action needs exactly one of {', '.join(ACTION_KEYS)}; "
                f"got {', '.join(given) or 'none'}"
            )
        return self


class ScanRule(_Strict):
    """A condition and what to do when it holds."""

    name: str | None = None
    when: str = Field(default="true", description="rule-engine expression; 'true' always holds")
    then: list[RuleAction] = Field(min_length=1)
    _condition: Any = PrivateAttr(default=None)

    @field_validator("when")
    @classmethod
    def _compiles(cls, value: str) -> str:
        compile_condition(value)
        return value

    def model_post_init(self, context: Any, /) -> None:
        """Compile once at load so each scan only evaluates."""
        self._condition = compile_condition(self.when)

    def matches(self, facts: ScanFacts) -> bool:
        """Whether the condition holds; evaluation errors propagate as EngineError."""
        return bool(self._condition.matches(facts.as_symbols()))


class SerialPattern(_Strict):
    """What a valid serial of one item looks like; checked after the scan rules."""

    regex: str | None = Field(default=None, description="the whole serial must match")
    length: int | None = Field(default=None, ge=1)
    min_length: int | None = Field(default=None, ge=1)
    max_length: int | None = Field(default=None, ge=1)
    charset: str | None = Field(
        default=None, description=f"one of {', '.join(NAMED_CHARSETS)}",
    )
    allowed_chars: str | None = Field(default=None, min_length=1,
                                      description="explicit set of allowed characters")
    hint: str | None = Field(default=None, description="told to the operator on refusal",
                             examples=["the serial is on the label inside the lid"])

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            _regex(value)
        return value

    @field_validator("charset")
    @classmethod
    def _known_charset(cls, value: str | None) -> str | None:
        if value is not None and value not in NAMED_CHARSETS:
            raise ValueError(f"unknown charset {value!r}; use one of {', '.join(NAMED_CHARSETS)}")
        return value

    @_model_validator(mode="after")
    def _lengths_agree(self) -> SerialPattern:
        low, high = self.min_length, self.max_length
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_length {low} is greater than max_length {high}")
        if self.length is not None and (low is not None or high is not None):
            raise ValueError("give either length or min_length/max_length, not both")
        return self


class ScanRulesConfig(_Strict):
    """The station config keys this module reads (merge into the station model)."""

    scan_rules: list[ScanRule] = Field(default_factory=list)
    serial_patterns: dict[str, SerialPattern] = Field(
        default_factory=dict, description="per item id",
    )


@dataclass(frozen=True, slots=True)
class RuleAccepted:
    """The scan goes on with ``data``; ``item``/``line`` set when a rule routed it."""

    data: str
    rule: str | None = None
    """Label of the rule that matched (its name or ``scan_rules.N``); None when none did."""
    item: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RuleRejected:
    """A rule refused the scan; ``message`` is for the operator."""

    message: str
    rule: str


def apply_scan_rules(rules: Sequence[ScanRule], facts: ScanFacts) -> RuleAccepted | RuleRejected:
    """Apply the first rule whose condition holds; no match: data unchanged."""
    for index, rule in enumerate(rules):
        label = rule.name or f"scan_rules.{index}"
        try:
            matched = rule.matches(facts)
        except rule_engine.errors.EngineError as exc:
            return RuleRejected(
                f"rule {label} could not be evaluated on {facts.data!r}: {exc.message}; "
                "fix the rule's condition in the station config", label,
            )
        if matched:
            return _run_actions(rule.then, facts.data, label)
    return RuleAccepted(facts.data)


def _run_actions(
    actions: Sequence[RuleAction], data: str, label: str,
) -> RuleAccepted | RuleRejected:
    item: str | None = None
    line: int | None = None
    original = data
    for action in actions:
        if action.reject is not None:
            return RuleRejected(action.reject, label)
        if action.accept:
            break
        if action.route is not None:
            item = action.route.item or item
            line = action.route.line or line
            continue
        if action.extract is not None:
            extracted = _extract(action.extract, data)
            if extracted is None:
                return RuleRejected(
                    f"{data!r} does not match the pattern {action.extract.pattern} "
                    f"(rule {label})", label,
                )
            data = extracted
            continue
        data = _transform(action, data)
    if not data:
        return RuleRejected(f"rule {label} left nothing of {original!r}", label)
    return RuleAccepted(data, label, item, line)


def _extract(extract: Extract, data: str) -> str | None:
    """The wanted group of the first match; None when there is none (or it is empty)."""
    found = re.search(extract.pattern, data)
    group = found.group(extract.group) if found else None
    return group or None


def _transform(action: RuleAction, data: str) -> str:
    """One transform step."""
    if action.strip_prefix is not None:
        return data.removeprefix(action.strip_prefix)
    if action.strip_leading_zeros:
        return data.lstrip("0")
    if action.uppercase:
        return data.upper()
    if action.replace is not None:
        step = action.replace
        return re.sub(step.old, step.new, data) if step.regex else data.replace(step.old, step.new)
    return data


def check_serial(serial: str, pattern: SerialPattern, item: str) -> str | None:
    """The refusal message when ``serial`` does not fit ``item``'s pattern, else None."""
    hint = f" ({pattern.hint})" if pattern.hint else ""
    allowed = pattern.allowed_chars or (
        NAMED_CHARSETS[pattern.charset] if pattern.charset else None
    )
    if allowed is not None:
        bad = list(dict.fromkeys(c for c in serial if c not in allowed))
        if bad:
            shown = ", ".join(repr(c) for c in bad)
            name = pattern.charset or "the allowed characters"
            return f"serial {serial!r} for item {item} contains {shown}, not in {name}{hint}"
    size = len(serial)
    if pattern.length is not None and size != pattern.length:
        return (f"serial {serial!r} for item {item} has {size} characters; "
                f"it must have {pattern.length}{hint}")
    if pattern.min_length is not None and size < pattern.min_length:
        return (f"serial {serial!r} for item {item} has {size} characters; "
                f"it needs at least {pattern.min_length}{hint}")
    if pattern.max_length is not None and size > pattern.max_length:
        return (f"serial {serial!r} for item {item} has {size} characters; "
                f"it may have at most {pattern.max_length}{hint}")
    if pattern.regex is not None and re.fullmatch(pattern.regex, serial) is None:
        return f"serial {serial!r} for item {item} does not match the pattern {pattern.regex}{hint}"
    return None


def check_item_serial(
    serial: str, item: str, patterns: Mapping[str, SerialPattern],
) -> str | None:
    """``check_serial`` against the item's pattern; items without one accept any serial."""
    pattern = patterns.get(item)
    return None if pattern is None else check_serial(serial, pattern, item)


def error_lines(error: ValidationError) -> list[str]:
    """Pydantic errors as ``scan_rules.2.when: problem`` lines, one per error."""
    lines = []
    for problem in error.errors():
        path = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {message}" if path else message)
    return lines
