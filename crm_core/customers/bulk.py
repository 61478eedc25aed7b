"""Find-or-create for many customers at once: a few statements instead of one per email."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crm_core.ids import new_id
from crm_core.models import Customer
from crm_core.models.types import utcnow
from crm_core.normalize import normalize_email
from crm_core.statuses import CustomerStatus
from crm_core.upsert import insert_many_ignore
from crm_core.webhooks.events import customer_data, emit_many

_NAME_PARTS = re.compile(r"[._-]+")


def placeholder_name(normalized_email: str) -> str:
    """The name of a customer known only by address: a readable form of its local part.

    "soren.odegaard@…" -> "Soren Odegaard" when the local part is two or more words of
    letters; otherwise the local part as it is ("anna", "bo1984", "info").
    """
    local = normalized_email.split("@", 1)[0]
    words = [word for word in _NAME_PARTS.split(local) if word]
    if len(words) >= 2 and all(word.isalpha() and len(word) >= 2 for word in words):
        return " ".join(word.capitalize() for word in words)
    return local


def _is_placeholder(name: str, normalized_email: str) -> bool:
    """The name given when only the address was known (the bare local part, as before)."""
    return name in (placeholder_name(normalized_email), normalized_email.split("@", 1)[0])


def find_or_create_customers(
    session: Session, people: Mapping[str, str | None]
) -> dict[str, Customer]:
    """``{email: name}`` -> ``{normalised email: Customer}``, creating the missing ones.

    The same guarantees as find_or_create_customer (atomic, any letter case, a real
    name replaces a placeholder), for a batch of mail in a few statements.
    Rows are inserted in key order, so concurrent batches lock in the same order.

    An address that belongs to a customer merged into another (an alias) gives the
    kept customer. On PostgreSQL the rows are read FOR KEY SHARE, in id order, the
    lock that storing a conversation or lead for them takes anyway: a merge running
    at the same time (it locks both customers FOR UPDATE) either waits for this
    transaction, or finishes first and this read then sees the merged row.
    """
    wanted: dict[str, tuple[str, str | None]] = {}
    for email, name in people.items():
        normalized = normalize_email(email)
        real_name = " ".join(name.split())[:200] if name and name.strip() else None
        if normalized not in wanted or (real_name and not wanted[normalized][1]):
            wanted[normalized] = (email.strip(), real_name)
    if not wanted:
        return {}

    def load(keys: list[str]) -> dict[str, Customer]:
        rows = session.execute(
            locked_for_reference(
                session, select(Customer).where(Customer.email_normalized.in_(keys))
            )
        ).scalars()
        return {row.email_normalized: row for row in rows if row.email_normalized}

    found = load(sorted(wanted))
    missing = sorted(key for key in wanted if key not in found)
    new_ids = {key: new_id() for key in missing}
    if missing:
        now = utcnow()
        insert_many_ignore(
            session,
            Customer.__table__,  # type: ignore[arg-type]
            [
                {
                    "id": new_ids[key],
                    "name": wanted[key][1] or placeholder_name(key),
                    "email": wanted[key][0],
                    "email_normalized": key,
                    "status": CustomerStatus.ACTIVE.value,
                    "tags": [],
                    "total_leads": 0,
                    "total_bookings": 0,
                    "total_revenue": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for key in missing
            ],
            conflict=["email_normalized"],
        )
        found.update(load(missing))
    # Those this call inserted (another transaction may have won the race for a key).
    created = [found[key] for key in missing if key in found and found[key].id == new_ids[key]]
    emit_many(session, "customer.created", ((customer_data(c), c.id) for c in created))
    found = follow_merges(session, found)
    renamed: list[Customer] = []
    for key, customer in found.items():
        real_name = wanted[key][1]
        is_own_address = customer.email_normalized == key  # not an alias
        if (
            is_own_address
            and real_name
            and _is_placeholder(customer.name, key)
            and not _is_placeholder(real_name, key)
        ):
            customer.name = real_name
            renamed.append(customer)
    emit_many(
        session,
        "customer.updated",
        (({**customer_data(c), "changed": ["name"]}, c.id) for c in renamed),
    )
    return found


def locked_for_reference(session: Session, statement: Select[Customer]) -> Select[Customer]:
    """Customers read to be referred to: FOR KEY SHARE in id order on PostgreSQL."""
    statement = statement.order_by(Customer.id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(read=True, key_share=True)
    return statement


def follow_merges(session: Session, found: dict[str, Customer]) -> dict[str, Customer]:
    """Replace customers merged into another by the customer they were merged into."""
    for _ in range(10):  # a merge re-points older merges, so one step is the rule
        targets = sorted({c.merged_into_id for c in found.values() if c.merged_into_id})
        if not targets:
            return found
        kept = {
            customer.id: customer
            for customer in session.execute(
                locked_for_reference(session, select(Customer).where(Customer.id.in_(targets)))
            ).scalars()
        }
        if not kept:
            return found
        found = {
            key: kept.get(customer.merged_into_id or "", customer)
            for key, customer in found.items()
        }
    return found
