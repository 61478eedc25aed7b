"""How a lead's status moves by itself as the work goes on.

| event                                                   | lead becomes | only from             |
| ------------------------------------------------------- | ------------ | --------------------- |
| first outbound message (not a draft) in its conversation | contacted    | new                   |
| one of its quotes is sent (or accepted)                 | quoted       | new, contacted        |
| a booking is made for it (or for one of its quotes)     | won          | any but won           |
| its quote is rejected and it has no other live quote    | lost         | new, contacted, quoted |

A lead that becomes contacted is scored again at once (crm_core.scoring): the time to
our first reply is one of the facts its score weighs.

A lead never moves backwards by itself (a won lead stays won whatever mail follows);
``set_lead_status`` sets any status by hand. The moves live here, in the services,
so every path (the CLI, the Python API, ingestion) gets them.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_core.identity import expire_if_loaded
from crm_core.leads.listing import OPEN_STATUSES
from crm_core.models import Conversation, Lead, Quote
from crm_core.scoring.service import score_leads
from crm_core.statuses import LeadStatus, QuoteStatus
from crm_core.webhooks.events import emit_many

_BEFORE_QUOTED = (LeadStatus.NEW, LeadStatus.CONTACTED)


def _move(
    session: Session, lead_ids: Collection[str], to: LeadStatus, only_from: Collection[LeadStatus]
) -> list[str]:
    """Move the leads that are in one of ``only_from`` to ``to``; the ids moved."""
    ids = sorted({lead_id for lead_id in lead_ids if lead_id})
    if not ids:
        return []
    session.flush()
    moved = session.execute(
        update(Lead)
        .where(Lead.id.in_(ids), Lead.status.in_(list(only_from)))
        .values(status=to)
        .returning(Lead.id, Lead.customer_id)
        .execution_options(synchronize_session=False)
    ).all()
    emit_many(
        session,
        "lead.status_changed",
        (
            ({"id": lead_id, "customer_id": customer_id, "status": to}, customer_id)
            for lead_id, customer_id in sorted(moved)
        ),
    )
    for lead_id in ids:
        expire_if_loaded(session, Lead, lead_id, ["status", "updated_at"])
    return sorted(lead_id for lead_id, _ in moved)


def leads_contacted_in(session: Session, conversation_ids: Collection[str]) -> None:
    """Outbound mail went out in these conversations: their new leads are contacted."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return
    lead_ids = session.execute(
        select(Conversation.lead_id).where(
            Conversation.id.in_(ids), Conversation.lead_id.is_not(None)
        )
    ).scalars()
    linked = [lead_id for lead_id in lead_ids if lead_id]
    answered = _move(session, linked, LeadStatus.CONTACTED, [LeadStatus.NEW])
    # Our first reply is a fact the score weighs: score these leads again at once.
    score_leads(session, answered)


def lead_quoted(session: Session, lead_id: str | None) -> None:
    if lead_id is not None:
        _move(session, [lead_id], LeadStatus.QUOTED, _BEFORE_QUOTED)


def lead_won(session: Session, lead_id: str | None) -> None:
    if lead_id is not None:
        others = [status for status in LeadStatus if status != LeadStatus.WON]
        _move(session, [lead_id], LeadStatus.WON, others)


def lead_lost_unless_other_quotes(session: Session, lead_id: str | None) -> None:
    """A rejected quote loses the lead, unless another of its quotes is still alive."""
    if lead_id is None:
        return
    session.flush()
    alive = session.execute(
        select(Quote.id)
        .where(
            Quote.lead_id == lead_id,
            Quote.status.in_([QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.ACCEPTED]),
        )
        .limit(1)
    ).first()
    if alive is None:
        _move(session, [lead_id], LeadStatus.LOST, OPEN_STATUSES)
