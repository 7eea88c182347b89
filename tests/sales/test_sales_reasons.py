"""The reason-code catalogue: one place, every code documented, codes stable."""

from __future__ import annotations

import ast
import inspect
import itertools

from hypothesis import given
from hypothesis import strategies as st

from scangw.sales import LineView, Reason, ScanMode, decide_scan
from scangw.sales import reasons as reasons_module


def test_every_reason_code_has_a_docstring() -> None:
    tree = ast.parse(inspect.getsource(reasons_module))
    (reason_class,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Reason"]
    documented = set()
    body = reason_class.body
    for node, after in itertools.pairwise(body):
        if (isinstance(node, ast.Assign) and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
            documented.add(node.targets[0].id)  # type: ignore[attr-defined]
    assert documented == {member.name for member in Reason}


def test_reason_codes_are_snake_case_values_of_their_names() -> None:
    for member in Reason:
        assert member.value == member.name.lower()


@given(
    serials=st.lists(st.one_of(st.none(), st.sampled_from(["A", "B", "C"])), max_size=4),
    quantity=st.integers(0, 4),
    serial=st.one_of(st.none(), st.sampled_from(["A", "B", "D"])),
    mode=st.sampled_from(ScanMode),
    elsewhere=st.booleans(),
)
def test_decide_scan_answers_only_with_catalogued_codes(
    serials: list[str | None], quantity: int, serial: str | None, mode: ScanMode,
    elsewhere: bool,
) -> None:
    line = LineView("SO-1", 1, "TV", quantity, tuple(serials))
    decision = decide_scan(line, serial, mode, registered_elsewhere=elsewhere)
    assert decision.reason in set(Reason)
    assert decision.accepted == (decision.reason in {Reason.ADDED, Reason.REMOVED})
