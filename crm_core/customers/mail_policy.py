"""Whether mail from a customer is taken in: a blocked customer's mail is not.

Ingestion asks before it files an inbound message: mail from a blocked customer (or
from an alias of one) is recorded in the ledger as skipped with the reason
``blocked:customer`` and changes nothing else: no message, lead, conversation, last
contact or figure. Mail we send to a blocked customer is still filed.

Mail from an address on the suppression list (erased with ``--suppress``, see
crm_core.privacy.suppression) is skipped the same way with the reason ``suppressed``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import Customer
from crm_core.normalize import normalize_email
from crm_core.privacy.keys import AddressHasher
from crm_core.privacy.suppression import SUPPRESSED_REASON, suppressed_addresses
from crm_core.statuses import CustomerStatus

BLOCKED_REASON = "blocked:customer"


def mail_refusals(
    session: Session, emails: Iterable[str], hasher: AddressHasher | None = None
) -> dict[str, str]:
    """``{address as given: reason}`` for the addresses whose mail is refused.

    ``hasher`` recognises suppressed addresses; it is needed (and the key read) only
    once the suppression list holds any."""
    given = list(emails)
    refused = dict.fromkeys(suppressed_addresses(session, given, hasher), SUPPRESSED_REASON)
    wanted: dict[str, list[str]] = {}
    for email in given:
        try:
            wanted.setdefault(normalize_email(email), []).append(email)
        except ValueError:
            continue  # not an address a customer can have
    if not wanted:
        return refused
    rows = session.execute(
        select(Customer.email_normalized, Customer.status, Customer.merged_into_id).where(
            Customer.email_normalized.in_(sorted(wanted))
        )
    ).all()
    kept_ids = sorted({merged for _, _, merged in rows if merged})
    kept_status = dict(
        session.execute(select(Customer.id, Customer.status).where(Customer.id.in_(kept_ids))).all()
        if kept_ids
        else []
    )
    for normalized, status, merged in rows:
        effective = kept_status.get(merged, status) if merged else status
        if effective == CustomerStatus.BLOCKED and normalized:
            for email in wanted[normalized]:
                refused.setdefault(email, BLOCKED_REASON)
    return refused


def mail_refusal(session: Session, email: str, hasher: AddressHasher | None = None) -> str | None:
    """The reason mail from this address is refused, or None when it is taken in."""
    return mail_refusals(session, [email], hasher).get(email)
