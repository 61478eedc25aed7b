"""Find-or-create for the conversations of many Gmail threads at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.ids import new_id
from crm_core.models import Conversation
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key
from crm_core.statuses import Channel, ConversationStatus
from crm_core.upsert import insert_many_ignore
from crm_core.webhooks.events import conversation_data, emit_many


@dataclass(frozen=True, slots=True)
class ThreadSeed:
    """What a new conversation starts with (and what an existing one lacks gets)."""

    customer_id: str | None = None
    lead_id: str | None = None
    subject: str | None = None


def find_or_create_conversations(
    session: Session, mailbox: str, threads: Mapping[str, ThreadSeed]
) -> dict[str, Conversation]:
    """``{gmail thread id: seed}`` -> ``{gmail thread id: Conversation}``.

    Atomic like find_or_create_conversation; existing conversations without a
    customer or lead get the seed's.
    """
    key = mailbox_key(mailbox)
    if not threads:
        return {}

    def load(ids: list[str]) -> dict[str, Conversation]:
        rows = session.execute(
            select(Conversation)
            .where(Conversation.mailbox == key, Conversation.gmail_thread_id.in_(ids))
            .execution_options(populate_existing=True)
        ).scalars()
        return {row.gmail_thread_id: row for row in rows if row.gmail_thread_id}

    found = load(sorted(threads))
    missing = sorted(thread for thread in threads if thread not in found)
    new_ids = {thread: new_id() for thread in missing}
    if missing:
        now = utcnow()
        insert_many_ignore(
            session,
            Conversation.__table__,  # type: ignore[arg-type]
            [
                {
                    "id": new_ids[thread],
                    "customer_id": threads[thread].customer_id,
                    "lead_id": threads[thread].lead_id,
                    "subject": threads[thread].subject,
                    "channel": Channel.EMAIL.value,
                    "status": ConversationStatus.ACTIVE.value,
                    "mailbox": key,
                    "gmail_thread_id": thread,
                    "created_at": now,
                    "updated_at": now,
                }
                for thread in missing
            ],
            conflict=["mailbox", "gmail_thread_id"],
        )
        found.update(load(missing))
    for thread, conversation in found.items():
        seed = threads[thread]
        if seed.customer_id and conversation.customer_id is None:
            conversation.customer_id = seed.customer_id
        if seed.lead_id and conversation.lead_id is None:
            conversation.lead_id = seed.lead_id
    created = (found[t] for t in missing if t in found and found[t].id == new_ids[t])
    emit_many(
        session, "conversation.created", ((conversation_data(c), c.customer_id) for c in created)
    )
    return found
