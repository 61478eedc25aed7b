"""``crm note add customer|lead|conversation ID TEXT``, and how notes are shown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from crm_core import services
from crm_core.models import Note
from worker.cli.context import session_for
from worker.cli.output import (
    JsonFlag,
    Line,
    emit,
    format_datetime,
    heading,
    model_dict,
    print_json,
    success,
)

app = typer.Typer(no_args_is_help=True)

Subject = Annotated[str, typer.Argument(help="customer, lead or conversation.")]
SubjectId = Annotated[
    str, typer.Argument(help="Its ID (a customer's email works too).", show_default=False)
]


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


@app.command("add")
def add(
    ctx: typer.Context,
    subject: Subject,
    subject_id: SubjectId,
    text: Annotated[str, typer.Argument(help="The note.", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Add a dated note to a customer, lead or conversation. Notes are never changed."""
    from worker.cli.customers import find_customer  # customers.py shows notes: no cycle

    kind = subject.strip().lower()
    with session_for(ctx) as session:
        if kind == "customer":
            subject_id = find_customer(session, subject_id).id
        note = services.add_note(session, kind, subject_id, text)
        data = model_dict(note)
        when = format_datetime(note.created_at)
    if as_json:
        print_json(data)
    else:
        emit(success(f"Note added to {kind} {subject_id} ({when})."))


@app.command("list")
def list_notes(
    ctx: typer.Context,
    subject: Subject,
    subject_id: SubjectId,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """The notes of a customer, lead or conversation, newest first."""
    kind = subject.strip().lower()
    with session_for(ctx) as session:
        notes = services.list_notes(session, kind, subject_id, limit=limit)
        total = services.count_notes(session, kind, subject_id)
        if as_json:
            print_json(notes_json(notes, total))
            return
        lines = note_lines(notes, total) or ["No notes."]
    emit(lines)
