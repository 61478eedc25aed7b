"""Lead emails that name no customer address: kept as leads without a customer.

The classifier reports such a message as skipped with ``lead:unlinked:<source>``
and the lead it read (say a name and a phone number). Nothing of it may be lost, so
the lead is stored, unlinked, under the same idempotency key as any lead email (the
mailbox and the Gmail id); the ledger row keeps the reason. ``crm lead unlinked``
lists them, and linking one later (``link_lead_to_customer``) counts it then.
"""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy.orm import Session

from crm_core import services
from worker.mail.message import LeadData

UNLINKED_PREFIX = "lead:unlinked:"
_FIELDS = [f.name for f in fields(LeadData) if f.name != "source"]


def is_unlinked_lead(reason: str | None) -> bool:
    return bool(reason and reason.startswith(UNLINKED_PREFIX))


def keep_unlinked_lead(
    session: Session, lead: LeadData | None, key: str, thread_id: str | None
) -> str | None:
    """Store ``lead`` without a customer (once per ``key``); its id, or None without a lead."""
    if lead is None:
        return None
    stored = services.create_lead(
        session,
        source=lead.source,
        idempotency_key=key,
        email_thread_id=thread_id,
        **{name: getattr(lead, name) for name in _FIELDS},
    )
    return stored.id
