"""Notes: dated remarks on a customer, a lead or a conversation, only ever added."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.errors import NotFoundError, ValidationError
from crm_core.ids import new_id
from crm_core.models import Conversation, Customer, Lead, Note
from crm_core.models.types import utcnow
from crm_core.paging import checked_limit

NoteSubject = Literal["customer", "lead", "conversation"]
SUBJECTS: dict[str, type[Customer] | type[Lead] | type[Conversation]] = {
    "customer": Customer,
    "lead": Lead,
    "conversation": Conversation,
}
MAX_NOTE_CHARS = 10_000
DEFAULT_LIMIT = 20


def _column(subject: str):  # type: ignore[no-untyped-def]
    if subject not in SUBJECTS:
        raise ValidationError(
            f"unknown note subject {subject!r}; expected one of: {', '.join(SUBJECTS)}"
        )
    return getattr(Note, f"{subject}_id")


def add_note(session: Session, subject: str, subject_id: str, text: str) -> Note:
    """Add a dated note to a customer, lead or conversation. Notes cannot be changed."""
    column = _column(subject)
    body = text.strip()
    if not body:
        raise ValidationError("a note needs some text")
    if len(body) > MAX_NOTE_CHARS:
        raise ValidationError(f"a note is at most {MAX_NOTE_CHARS} characters")
    if session.get(SUBJECTS[subject], subject_id) is None:
        raise NotFoundError(subject, subject_id)
    note = Note(id=new_id(), body=body, created_at=utcnow(), **{column.key: subject_id})
    session.add(note)
    session.flush()
    return note


def list_notes(
    session: Session, subject: str, subject_id: str, *, limit: int = DEFAULT_LIMIT
) -> list[Note]:
    """The newest ``limit`` notes of a subject, newest first."""
    column = _column(subject)
    return list(
        session.execute(
            select(Note)
            .where(column == subject_id)
            .order_by(Note.created_at.desc(), Note.id)
            .limit(checked_limit(limit))
        ).scalars()
    )


def count_notes(session: Session, subject: str, subject_id: str) -> int:
    column = _column(subject)
    return int(
        session.execute(
            select(func.count()).select_from(Note).where(column == subject_id)
        ).scalar_one()
    )
