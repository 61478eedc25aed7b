"""The one way into ingestion: stage raw messages, then send their ingest jobs.

Whatever brings mail (a Gmail sync, an mbox import, a thread replay) stages it here,
and whatever sends staged mail to ingestion again (the resume, a quarantine retry, a
sync that finds a message still pending) sends it here. Both run inside the caller's
unit of work (``worker.runtime.unit_of_work``): the jobs go out after it commits, so
a crash anywhere leaves either nothing or staged rows that are pending, which the next
sync or the resume sends again. Staging is idempotent on (mailbox, Gmail id) and so is
ingestion, so sending twice is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from crm_core.inbox import LedgerRef, StagedMessage, stage_messages, still_pending
from crm_core.normalize import mailbox_key
from worker.intake.packing import pack_jobs
from worker.runtime import enqueue


@dataclass
class Handoff:
    new: list[str] = field(default_factory=list)  # Gmail ids staged for the first time
    sent: list[str] = field(default_factory=list)  # Gmail ids whose jobs were enqueued


def stage_and_send(
    session: Session, messages: Sequence[StagedMessage], *, send: bool = True
) -> Handoff:
    """Stage ``messages`` (oldest first) and enqueue ingest jobs for every one still
    pending: the new ones, and those staged before but not yet filed (a crashed run may
    have staged them without sending). ``send=False`` only stages, for a caller that
    sends the whole set right after (a thread replay)."""
    if not messages:
        return Handoff()
    new = stage_messages(session, messages)
    handoff = Handoff(new=new)
    if not send:
        return handoff
    pending: set[tuple[str, str]] = set()
    for mailbox, ids in _ids_by_mailbox(messages).items():
        fresh = {gmail_id for gmail_id in new if gmail_id in ids}
        # What was staged just now is pending; only messages seen before need asking.
        if len(fresh) < len(ids):
            fresh = still_pending(session, mailbox, list(ids))
        pending.update((mailbox, gmail_id) for gmail_id in fresh)
    refs = [
        LedgerRef(mailbox_key(m.mailbox), m.gmail_message_id, len(m.raw), m.gmail_thread_id)
        for m in messages
        if (mailbox_key(m.mailbox), m.gmail_message_id) in pending
    ]
    handoff.sent = list(dict.fromkeys(ref.gmail_message_id for ref in refs))
    send_staged(refs)
    return handoff


def send_staged(refs: Iterable[LedgerRef]) -> int:
    """Enqueue ingest jobs for messages already in the ledger; returns how many."""
    count = 0
    for mailbox, job in pack_jobs(refs):
        enqueue("ingest_batch", mailbox, job)
        count += len(job)
    return count


def _ids_by_mailbox(messages: Sequence[StagedMessage]) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = {}
    for m in messages:
        ids.setdefault(mailbox_key(m.mailbox), set()).add(m.gmail_message_id)
    return ids
