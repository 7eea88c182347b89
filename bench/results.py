"""What a scenario hands back: its figures, or null with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field

Figure = float | int | None


@dataclass
class Outcome:
    """Figures by JSON key; ``notes`` explain how they came about (shown in the table)."""

    figures: dict[str, Figure] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)
    """Why a figure is null although the scenario ran (e.g. no such backend yet)."""
    failure: str | None = None
    """Why the figures are null (timeout, crash, a check that failed)."""

    def to_json(self) -> dict[str, object]:
        return {"figures": self.figures, "notes": self.notes, "why": self.why,
                "failure": self.failure}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Outcome:
        figures = data.get("figures")
        notes = data.get("notes")
        failure = data.get("failure")
        why = data.get("why")
        return cls(
            figures=dict(figures) if isinstance(figures, dict) else {},
            notes=[str(n) for n in notes] if isinstance(notes, list) else [],
            why={str(k): str(v) for k, v in why.items()} if isinstance(why, dict) else {},
            failure=None if failure is None else str(failure),
        )
