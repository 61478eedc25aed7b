"""Erasure in the webhook outbox: what was stored about a person to be sent is scrubbed.

``crm privacy erase`` calls ``forget_customer`` in its transaction, then
``customer_erased`` to tell the endpoints. Every stored event of those customers, and
every event naming one of their addresses (a lead not linked to them, say), keeps only
its type, its ids and ``"erased": true``; the receivers' answers stored for those events
are dropped too, since a receiver may echo what it was sent. Pending deliveries then
send the scrubbed payload; delivered ones can no longer be replayed with the data.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.orm import Session

from crm_core.models.webhook import WebhookDelivery, WebhookEvent
from crm_core.webhooks.events import emit

# The keys kept in a scrubbed payload: ids only, no personal data.
_KEPT = ("id", "customer_id", "lead_id", "conversation_id", "quote_id", "merged_id", "status")


def forget_customer(
    session: Session, customer_ids: Collection[str], addresses: Collection[str] = ()
) -> int:
    """Scrub these customers' data (and these addresses) from stored events and the
    delivery log. Returns the number of events scrubbed."""
    conditions: list[Any] = []
    if customer_ids:
        conditions.append(WebhookEvent.customer_id.in_(set(customer_ids)))
    for address in {a.strip().lower() for a in addresses if a.strip()}:
        # Addresses as written in the payload, in any letter case.
        escaped = address.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(cast(WebhookEvent.payload, Text).ilike(f"%{escaped}%", escape="\\"))
    if not conditions:
        return 0
    events = list(session.execute(select(WebhookEvent).where(or_(*conditions))).scalars())
    for event in events:
        kept = {key: event.payload[key] for key in _KEPT if key in event.payload}
        event.payload = {**kept, "erased": True}
    if events:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.event_seq.in_([event.seq for event in events]))
            .values(response_body=None)
            .execution_options(synchronize_session="fetch")
        )
    session.flush()
    return len(events)


def customer_erased(session: Session, customer_id: str) -> None:
    """Tell the endpoints that this customer's data is gone (after ``forget_customer``)."""
    emit(session, "customer.erased", {"id": customer_id}, customer_id=customer_id)
