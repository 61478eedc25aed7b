"""How many AI-written messages each model has, kept as the messages come and go.

The AI-emails report counted the AI-written messages through a partial index: 100,000
of them took 11 ms at a million customers, and the time grows with the mail. It now
reads one row per model from ``ai_message_counts``, which the services that store
and delete messages keep in the same transaction:

- ``crm_core.messages.create_email_message`` and ``crm_core.replies`` (a reply's
  draft) count the message they insert;
- ``crm_core.messages.store_new_messages`` stores mail as it arrives, which is never
  AI-written (it sets ``is_ai_generated`` false), so it counts nothing;
- erasure (``crm_core.privacy``) subtracts the messages it deletes. No other path
  deletes messages; merging customers moves conversations, not messages.

Rows are written in the order of their model, so two transactions that count
several models cannot deadlock on them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import Table, delete, func, insert, select, true
from sqlalchemy.orm import Session

from crm_core.models import AiMessageCount, EmailMessage
from crm_core.upsert import insert_or_add

UNKNOWN_MODEL = "unknown"
CHUNK = 500  # ids per IN list when subtracting deleted messages


def model_name(ai_model: str | None) -> str:
    """The model as the report names it."""
    return UNKNOWN_MODEL if ai_model is None else ai_model


def count_ai_messages(session: Session, models: Iterable[str | None], sign: int = 1) -> None:
    """Add (``sign`` -1: subtract) one message of each model given; None is unknown."""
    tally = Counter(model_name(model) for model in models)
    table = AiMessageCount.__table__
    assert isinstance(table, Table)
    insert_or_add(
        session,
        table,
        [{"model": model, "messages": sign * tally[model]} for model in sorted(tally)],
        conflict=["model"],
        add=["messages"],
    )


def forget_ai_messages(session: Session, message_ids: Sequence[str]) -> None:
    """Subtract the AI-written messages among ``message_ids``, which are about to be
    deleted (call it before the delete, in the same transaction)."""
    models: list[str | None] = []
    for start in range(0, len(message_ids), CHUNK):
        rows = session.execute(
            select(EmailMessage.ai_model, func.count())
            .where(EmailMessage.id.in_(message_ids[start : start + CHUNK]))
            .where(EmailMessage.is_ai_generated == true())
            .group_by(EmailMessage.ai_model)
        )
        for model, count in rows:
            models.extend([model] * int(count))
    if models:
        count_ai_messages(session, models, sign=-1)


def recount_ai_messages(session: Session) -> None:
    """Count every stored AI-written message again (a repair, and for messages loaded
    in bulk without the services, such as bench/dataset.py's)."""
    session.execute(delete(AiMessageCount))
    model = func.coalesce(EmailMessage.ai_model, UNKNOWN_MODEL)
    session.execute(
        insert(AiMessageCount).from_select(
            ["model", "messages"],
            select(model, func.count())
            .where(EmailMessage.is_ai_generated == true())
            .group_by(model),
        )
    )
