"""``crm note add customer|lead|conversation ID TEXT``, and how notes are shown."""

from __future__ import annotations

from typing import Annotated

import typer

from crm_core import services
from worker.cli.context import session_for
from worker.cli.customers import find_customer
from worker.cli.note_views import note_lines, notes_json
from worker.cli.output import (
    JsonFlag,
    emit,
    format_datetime,
    model_dict,
    print_json,
    success,
)

app = typer.Typer(no_args_is_help=True)

Subject = Annotated[str, typer.Argument(help="customer, lead or conversation.")]
SubjectId = Annotated[
    str, typer.Argument(help="Its ID (a customer's email works too).", show_default=False)
]


@app.command("add")
def add(
    ctx: typer.Context,
    subject: Subject,
    subject_id: SubjectId,
    text: Annotated[str, typer.Argument(help="The note.", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Add a dated note to a customer, lead or conversation. Notes are never changed."""
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
