"""What a newly stored message means beyond itself.

- An outbound message (not a draft) in a lead's conversation: the lead is contacted
  (crm_core.leads.progress).
- An inbound message: an inactive customer who writes again becomes active, so the
  default customer list shows them. A blocked customer's mail never gets this far:
  ingestion records it as skipped (crm_core.customers.mail_policy).
- A draft moves nothing: it is not contact (create_email_message leaves last contact
  alone for drafts).

create_email_message applies these itself; set-based ingestion, which inserts its
messages in one statement, calls ``messages_filed`` for the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_core.identity import expire_if_loaded
from crm_core.leads.progress import leads_contacted_in
from crm_core.models import Conversation, Customer
from crm_core.statuses import CustomerStatus, Direction, MessageStatus
from crm_core.webhooks.events import emit_for_customers


@dataclass(frozen=True, slots=True)
class FiledMessage:
    conversation_id: str
    direction: Direction
    status: MessageStatus = MessageStatus.SENT


def messages_filed(session: Session, filed: Sequence[FiledMessage]) -> None:
    """Apply the module's rules to messages just stored (drafts are ignored)."""
    real = [message for message in filed if message.status != MessageStatus.DRAFT]
    outbound = {m.conversation_id for m in real if m.direction == Direction.OUTBOUND}
    inbound = {m.conversation_id for m in real if m.direction == Direction.INBOUND}
    leads_contacted_in(session, outbound)
    if inbound:
        reactivate_writers(session, inbound)


def reactivate_writers(session: Session, conversation_ids: set[str]) -> None:
    """Inactive customers of these conversations become active (merged ones stay)."""
    writers = sorted(
        {
            customer_id
            for customer_id in session.execute(
                select(Conversation.customer_id).where(
                    Conversation.id.in_(sorted(conversation_ids))
                )
            ).scalars()
            if customer_id
        }
    )
    if not writers:
        return
    reactivated = session.execute(
        update(Customer)
        .where(
            Customer.id.in_(writers),
            Customer.status == CustomerStatus.INACTIVE,
            Customer.merged_into_id.is_(None),
        )
        .values(status=CustomerStatus.ACTIVE)
        .returning(Customer.id)
        .execution_options(synchronize_session=False)
    ).scalars()
    ids = list(reactivated)
    emit_for_customers(session, "customer.updated", ids, dict.fromkeys(ids, ("status",)))
    for customer_id in writers:
        expire_if_loaded(session, Customer, customer_id, ["status", "updated_at"])
