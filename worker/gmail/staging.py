"""Handing fetched Gmail messages to the one way into ingestion (worker.intake)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from crm_core.inbox import StagedMessage
from worker.gmail.fetch import RawMessage
from worker.intake import stage_and_send
from worker.runtime import Runtime, unit_of_work

SOURCE = "gmail"


def to_staged(mailbox: str, message: RawMessage) -> StagedMessage:
    received_at = None
    if message.internal_date_ms is not None:
        received_at = datetime.fromtimestamp(message.internal_date_ms / 1000, UTC)
    return StagedMessage(
        mailbox=mailbox,
        gmail_message_id=message.id,
        raw=message.raw,
        source=SOURCE,
        gmail_thread_id=message.thread_id,
        label_ids=message.label_ids,
        received_at=received_at,
    )


def stage_fetched(
    runtime: Runtime, mailbox: str, messages: Sequence[RawMessage], *, send: bool = True
) -> list[str]:
    """Stage one fetched batch in one transaction, oldest first (so that a reply is
    filed after what it answers), and send its ingest jobs after the commit. Returns
    the Gmail ids staged for the first time."""
    if not messages:
        return []
    ordered = sorted(messages, key=lambda m: m.internal_date_ms or 0)
    with unit_of_work(runtime.sessions) as session:
        handoff = stage_and_send(session, [to_staged(mailbox, m) for m in ordered], send=send)
    return handoff.new
