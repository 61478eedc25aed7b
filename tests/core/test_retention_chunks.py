"""Retention walks the ledger in id order, one bounded chunk per statement."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_core.inbox import StagedMessage, stage_messages
from crm_core.inbox.retention import drop_processed_raw, raw_mail_held
from crm_core.models import ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.statuses import IngestOutcome


def test_chunks_walk_the_ledger_once_and_leave_young_and_pending_mail(session: Session) -> None:
    raw = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"
    stage_messages(
        session,
        [StagedMessage("info@rendetalje.dk", f"g{n}", raw, "gmail") for n in range(9)],
    )
    now = utcnow()
    old = now - timedelta(days=91)
    # g0..g6 stored 91 days ago, g7 stored yesterday, g8 still pending (old but unfiled).
    session.execute(
        update(ReceivedMessage)
        .where(ReceivedMessage.gmail_message_id.in_([f"g{n}" for n in range(7)]))
        .values(outcome=IngestOutcome.STORED, processed_at=old, staged_at=old)
    )
    session.execute(
        update(ReceivedMessage)
        .where(ReceivedMessage.gmail_message_id == "g7")
        .values(outcome=IngestOutcome.STORED, processed_at=now - timedelta(days=1), staged_at=old)
    )
    session.execute(
        update(ReceivedMessage)
        .where(ReceivedMessage.gmail_message_id == "g8")
        .values(staged_at=old)
    )
    session.commit()

    sizes, after = [], ""
    while True:
        chunk = drop_processed_raw(session, 90, now, after, chunk=3)
        session.commit()
        if chunk.last_id is None:
            break
        assert chunk.last_id > after
        sizes.append(chunk.rows)
        after = chunk.last_id
    assert sizes == [3, 3, 1]
    held = dict(
        session.execute(
            select(ReceivedMessage.gmail_message_id, func.length(ReceivedMessage.raw))
        ).all()
    )
    assert held == {f"g{n}": 0 for n in range(7)} | {"g7": len(raw), "g8": len(raw)}
    assert raw_mail_held(session).messages == 2
    assert raw_mail_held(session).bytes == 2 * len(raw)
