"""How notes are shown by `customer get`, `lead show` and `conversation show`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crm_core.models import Note
from worker.cli.output import Line, format_datetime, heading, model_dict


def note_lines(notes: Sequence[Note], total: int) -> list[Line]:
    """``Notes (3)`` and one dated line (or paragraph) per note, newest first."""
    if not notes:
        return []
    lines: list[Line] = ["", heading(f"Notes ({total})")]
    for note in notes:
        first, *rest = note.body.splitlines() or [""]
        lines.append(f"{format_datetime(note.created_at)}  {first}")
        lines += [f"{'':21}{line}" for line in rest]
    if total > len(notes):
        lines.append(f"… and {total - len(notes)} older (crm note list).")
    return lines


def notes_json(notes: Sequence[Note], total: int) -> dict[str, Any]:
    return {"notes": [model_dict(note) for note in notes], "note_count": total}
