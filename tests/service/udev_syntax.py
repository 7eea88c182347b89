"""A small checker for udev rule syntax: known keys, operators that fit them, labels.

It does not replace udevadm (which tests/service/test_udev_rules.py also runs where
it can); it catches the typos udev only logs and ignores at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MATCH_ONLY = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER",
              "DRIVERS", "ATTRS", "CONST", "TAGS", "TEST", "PROGRAM", "RESULT"}
ASSIGN_ONLY = {"OWNER", "GROUP", "MODE", "SECLABEL", "RUN", "LABEL", "GOTO", "IMPORT",
               "OPTIONS"}
BOTH = {"NAME", "SYMLINK", "ATTR", "SYSCTL", "ENV", "TAG"}
NEEDS_ATTR = {"ATTR", "ATTRS", "SYSCTL", "ENV", "IMPORT", "SECLABEL", "CONST"}
MATCH_OPS = {"==", "!="}
ASSIGN_OPS = {"=", "+=", "-=", ":="}

_PAIR = re.compile(
    r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[^}]*)\})?\s*(?P<op>==|!=|\+=|-=|:=|=)\s*'
    r'"(?P<value>(?:[^"\\]|\\.)*)"\s*(?P<sep>,|$)'
)


@dataclass(frozen=True)
class Pair:
    key: str
    attr: str | None
    op: str
    value: str


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Rule lines with their first line number; comments and blanks dropped."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        line, pending = pending + line, ""
        if line.strip() and not line.lstrip().startswith("#"):
            out.append((start, line))
    return out


def parse_rule(line: str) -> list[Pair]:
    """The key-operator-value pairs of one rule; ValueError naming what is wrong."""
    pairs, pos = [], 0
    while pos < len(line):
        m = _PAIR.match(line, pos)
        if m is None:
            raise ValueError(f"cannot read a KEY==\"value\" pair at: {line[pos:]!r}")
        pairs.append(Pair(m["key"], m["attr"], m["op"], m["value"]))
        pos = m.end()
        if m["sep"] == "" and line[pos:].strip():
            raise ValueError(f"missing comma before: {line[pos:]!r}")
    return pairs


def check_rules(text: str) -> list[str]:
    """Every problem as ``line N: problem``; empty when the file looks right."""
    problems: list[str] = []
    labels, gotos = set(), []
    for number, line in logical_lines(text):
        try:
            pairs = parse_rule(line)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        for p in pairs:
            problems += [f"line {number}: {msg}" for msg in _check_pair(p)]
            if p.key == "LABEL":
                labels.add(p.value)
            if p.key == "GOTO":
                gotos.append((number, p.value))
    problems += [f"line {n}: GOTO {target!r} has no LABEL" for n, target in gotos
                 if target not in labels]
    return problems


def _check_pair(p: Pair) -> list[str]:
    known = MATCH_ONLY | ASSIGN_ONLY | BOTH
    if p.key not in known:
        return [f"unknown key {p.key}"]
    problems = []
    if p.key in NEEDS_ATTR and not p.attr:
        problems.append(f"{p.key} needs {{name}}")
    if p.op in MATCH_OPS and p.key in ASSIGN_ONLY:
        problems.append(f"{p.key} cannot be matched with {p.op}")
    if p.op in ASSIGN_OPS and p.key in MATCH_ONLY:
        problems.append(f"{p.key} cannot be assigned with {p.op}")
    if p.key == "MODE" and not re.fullmatch(r"0[0-7]{3}", p.value):
        problems.append(f"MODE {p.value!r} is not an octal mode like 0660")
    return problems
