"""Retention walks the ledger in id order, one bounded chunk per statement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_core.errors import ConflictError
from crm_core.inbox import (
    StagedMessage,
    reopen_skipped,
    reset_for_retry,
    stage_messages,
    thread_received_ids,
)
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


def test_a_dropped_row_never_goes_back_to_pending(session: Session) -> None:
    raw = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"
    box = "info@rendetalje.dk"
    stage_messages(
        session,
        [StagedMessage(box, gmail_id, raw, "gmail", gmail_thread_id="t1") for gmail_id in "ab"],
    )
    old = utcnow() - timedelta(days=91)
    session.execute(
        update(ReceivedMessage).values(
            outcome=IngestOutcome.SKIPPED, reason="noise", processed_at=old, staged_at=old
        )
    )
    session.execute(
        update(ReceivedMessage)
        .where(ReceivedMessage.gmail_message_id == "b")
        .values(processed_at=utcnow())
    )
    session.commit()
    assert drop_processed_raw(session, 90, utcnow()).rows == 1
    session.commit()
    dropped, held = (
        session.scalars(
            select(ReceivedMessage.id).where(ReceivedMessage.gmail_message_id == gmail_id)
        ).one()
        for gmail_id in "ab"
    )

    assert thread_received_ids(session, box, "t1") == [held]  # a replay leaves it out
    assert not reopen_skipped(session, box, "a")  # a label rescue leaves it skipped
    with pytest.raises(ConflictError, match="retention dropped its raw mail"):
        reset_for_retry(session, [held, dropped])
    session.rollback()
    outcomes = dict(
        session.execute(select(ReceivedMessage.gmail_message_id, ReceivedMessage.outcome)).all()
    )
    assert outcomes == {"a": IngestOutcome.SKIPPED, "b": IngestOutcome.SKIPPED}
    assert reopen_skipped(session, box, "b")
