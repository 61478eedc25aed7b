"""The outbox: every change worth telling a webhook about becomes one row, written in the
transaction of the change itself, so a change never commits without its event and an
event never describes a change that was rolled back.

The services call ``emit`` (or ``emit_many`` from the bulk paths: one INSERT for a batch).
An event no endpoint subscribes to is not written at all (``subscribed``).
Nothing per endpoint happens here: the fan-out to the subscribed endpoints runs after
the commit (crm_core/webhooks/deliveries.py), so the cost on the ingestion path is one
insert. ``session.info[EMITTED]`` tells the caller's unit of work that a fan-out is due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crm_core.ids import new_id
from crm_core.models import Booking, Conversation, Customer, EmailMessage, Lead, Quote
from crm_core.models.types import utcnow
from crm_core.models.webhook import WebhookEndpoint, WebhookEvent
from crm_core.stats.service import owner_of

EVENT_TYPES: tuple[str, ...] = (
    "customer.created",
    "customer.updated",
    "customer.merged",
    "customer.erased",
    "lead.created",
    "lead.status_changed",
    "conversation.created",
    "conversation.closed",
    "message.received",
    "message.sent",
    "message.bounced",
    "quote.sent",
    "quote.accepted",
    "quote.rejected",
    "booking.created",
    "booking.cancelled",
    "booking.completed",
)
# Sent by `crm webhook test` to one endpoint only; never fanned out.
PING = "webhook.ping"
# Set on a session that wrote events: its unit of work sends the fan-out after commit.
EMITTED = "webhook_events_emitted"

Data = dict[str, Any]


# An endpoint subscribed to this takes every type.
ALL = "*"


def subscribed(session: Session, type: str) -> bool:
    """Does an endpoint (enabled or not: a disabled one gets its events when enabled)
    take events of ``type``? Without one, nothing is written: the common case, a
    company without webhooks, pays one read of a tiny table per transaction, and an
    endpoint added later gets the events committed after it was added (the
    fan-out's rule in any case)."""
    types = _subscribed_types(session)
    return ALL in types or type in types


# session.info: (the transaction, the event types its endpoints take), read once per
# transaction; the endpoint services drop it when they change an endpoint.
_SUBSCRIBED = "webhook_subscribed_types"


def _subscribed_types(session: Session) -> frozenset[str]:
    transaction = session.get_transaction()
    cached = session.info.get(_SUBSCRIBED)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]  # type: ignore[no-any-return]
    types = frozenset(
        t for ts in session.execute(select(WebhookEndpoint.event_types)).scalars() for t in ts
    )
    session.info[_SUBSCRIBED] = (session.get_transaction(), types)
    return types


def forget_subscriptions(session: Session) -> None:
    """An endpoint changed: the next ``subscribed`` reads the endpoints again."""
    session.info.pop(_SUBSCRIBED, None)


def emit(session: Session, type: str, data: Data, *, customer_id: str | None = None) -> None:
    """Record that ``type`` happened, in the caller's transaction."""
    emit_many(session, type, [(data, customer_id)])


def emit_many(session: Session, type: str, items: Iterable[tuple[Data, str | None]]) -> None:
    """Record many events of one type in a single INSERT (the bulk paths). ``items`` is
    read only when an endpoint subscribes: a generator builds no payload for nobody."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    if not subscribed(session, type):
        return
    now = utcnow()
    rows = [
        {
            "id": f"evt_{new_id()}",
            "type": type,
            "customer_id": customer_id,
            "payload": _plain(data),
            "fanned_out": False,
            "created_at": now,
        }
        for data, customer_id in items
    ]
    if not rows:
        return
    session.execute(insert(WebhookEvent), rows)
    session.info[EMITTED] = True


def _plain(value: Any) -> Any:
    """JSON types only: times as ISO 8601 UTC, amounts as strings (exact), enums as values."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


# What each kind of record tells in its events: ids and fields, never free text
# written by the customer (mail bodies, lead messages, notes).


def customer_data(customer: Customer) -> Data:
    return {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "address": customer.address,
        "company_name": customer.company_name,
        "status": customer.status,
        "tags": list(customer.tags or []),
    }


_CHUNK = 1000


def emit_for_customers(
    session: Session,
    type: str,
    customer_ids: Sequence[str],
    changed: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """``type`` for each of these customers (read back after a set-based change), a
    thousand per INSERT; ``changed`` names each one's changed fields."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    if not customer_ids or not subscribed(session, type):
        return  # (without reading the customers back)
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), _CHUNK):
        customers = session.execute(
            select(Customer)
            .where(Customer.id.in_(ids[start : start + _CHUNK]))
            .order_by(Customer.id)
            .execution_options(populate_existing=True)
        ).scalars()
        items = []
        for customer in customers:
            data = customer_data(customer)
            if changed is not None:
                data["changed"] = sorted(changed.get(customer.id, ()))
            items.append((data, customer.id))
        emit_many(session, type, items)


def lead_data(lead: Lead) -> Data:
    return {
        "id": lead.id,
        "customer_id": lead.customer_id,
        "source": lead.source,
        "status": lead.status,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "address": lead.address,
        "task_type": lead.task_type,
        "property_type": lead.property_type,
        "size_m2": lead.size_m2,
    }


def conversation_data(conversation: Conversation) -> Data:
    return {
        "id": conversation.id,
        "customer_id": conversation.customer_id,
        "lead_id": conversation.lead_id,
        "subject": conversation.subject,
        "status": conversation.status,
        "mailbox": conversation.mailbox,
        "gmail_thread_id": conversation.gmail_thread_id,
    }


_MESSAGE_FIELDS = {
    "id": "id",
    "conversation_id": "conversation_id",
    "direction": "direction",
    "from": "from_address",
    "to": "to_address",
    "cc": "cc_address",
    "subject": "subject",
    "status": "status",
    "sent_at": "sent_at",
    "gmail_message_id": "gmail_message_id",
    "gmail_thread_id": "gmail_thread_id",
}


def message_data(message: EmailMessage, customer_id: str | None) -> Data:
    """The body is left out: an endpoint that opted in gets it added at delivery."""
    data = {key: getattr(message, column) for key, column in _MESSAGE_FIELDS.items()}
    return {**data, "customer_id": customer_id}


def message_row_data(row: Mapping[str, Any], customer_id: str | None) -> Data:
    """``message_data`` of a row about to be inserted (the bulk path)."""
    data = {key: row.get(column) for key, column in _MESSAGE_FIELDS.items()}
    return {**data, "customer_id": customer_id}


def message_event(direction: str) -> str:
    return "message.received" if direction == "inbound" else "message.sent"


def emit_quote(session: Session, type: str, quote: Quote) -> None:
    owner = owner_of(session, lead_id=quote.lead_id, customer_id=quote.customer_id)
    emit(session, type, {**quote_data(quote), "customer_id": owner}, customer_id=owner)


def emit_booking(session: Session, type: str, booking: Booking) -> None:
    owner = owner_of(session, lead_id=booking.lead_id, customer_id=booking.customer_id)
    emit(session, type, {**booking_data(booking), "customer_id": owner}, customer_id=owner)


def quote_data(quote: Quote) -> Data:
    return {
        "id": quote.id,
        "customer_id": quote.customer_id,
        "lead_id": quote.lead_id,
        "total": quote.total,
        "status": quote.status,
    }


def booking_data(booking: Booking) -> Data:
    return {
        "id": booking.id,
        "customer_id": booking.customer_id,
        "lead_id": booking.lead_id,
        "quote_id": booking.quote_id,
        "scheduled_at": booking.scheduled_at,
        "status": booking.status,
    }
