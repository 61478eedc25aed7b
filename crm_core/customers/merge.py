"""Merging two customers that are one person, and the aliases that result.

``merge_customers(keep, duplicate)`` moves the duplicate's leads, conversations,
quotes, bookings and notes to the kept customer, fills the kept customer's empty
phone, address and company from the duplicate, joins their tags, keeps the later
last contact, and recomputes both customers' figures. The duplicate's row stays,
marked ``merged_into_id`` (and inactive): its address is from then on an **alias**
of the kept customer. Because aliases are those rows, one unique index keeps every
address, alias or not, on at most one customer (any letter case), and
find-or-create (single and batch) gives the kept customer for mail from an alias.
A note on the kept customer records the merge.

Both customers are locked FOR UPDATE (in id order) first; ingestion reads the
customers it files mail for FOR KEY SHARE (crm_core.customers.bulk), so mail from
the duplicate's address that arrives during a merge ends on the kept customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_core.errors import ConflictError, NotFoundError, ValidationError
from crm_core.ids import new_id
from crm_core.models import Booking, Conversation, Customer, Lead, Note, Quote
from crm_core.models.types import utcnow
from crm_core.normalize import normalize_tags
from crm_core.stats import update_customers_stats
from crm_core.statuses import CustomerStatus
from crm_core.webhooks.events import emit

MOVED = (
    ("leads", Lead),
    ("conversations", Conversation),
    ("quotes", Quote),
    ("bookings", Booking),
    ("notes", Note),
)


@dataclass(slots=True)
class MergeResult:
    """What a merge moves (or, for a dry run, would move)."""

    keep_id: str
    duplicate_id: str
    alias: str | None
    moved: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


def _locked_pair(session: Session, keep_id: str, duplicate_id: str) -> tuple[Customer, Customer]:
    if keep_id == duplicate_id:
        raise ValidationError("a customer cannot be merged into itself")
    rows = {
        customer.id: customer
        for customer in session.execute(
            select(Customer)
            .where(Customer.id.in_([keep_id, duplicate_id]))
            .order_by(Customer.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalars()
    }
    for wanted in (keep_id, duplicate_id):
        if wanted not in rows:
            raise NotFoundError("customer", wanted)
        if rows[wanted].merged_into_id is not None:
            raise ConflictError(
                f"customer {wanted} was merged into {rows[wanted].merged_into_id} already"
            )
    return rows[keep_id], rows[duplicate_id]


def merge_customers(
    session: Session, keep_id: str, duplicate_id: str, *, dry_run: bool = False
) -> MergeResult:
    """Merge ``duplicate_id`` into ``keep_id`` (see the module doc); ``dry_run`` only
    counts what would move."""
    keep, duplicate = _locked_pair(session, keep_id, duplicate_id)
    result = MergeResult(keep.id, duplicate.id, duplicate.email, dry_run=dry_run)
    for name, model in MOVED:
        owned = model.customer_id == duplicate.id
        result.moved[name] = int(
            session.execute(select(func.count()).select_from(model).where(owned)).scalar_one()
        )
    if dry_run:
        return result
    session.flush()
    for _, model in MOVED:
        session.execute(
            update(model)
            .where(model.customer_id == duplicate.id)
            .values(customer_id=keep.id)
            .execution_options(synchronize_session=False)
        )
    # Earlier merges into the duplicate now point at the kept customer: one step always.
    session.execute(
        update(Customer)
        .where(Customer.merged_into_id == duplicate.id)
        .values(merged_into_id=keep.id)
        .execution_options(synchronize_session=False)
    )
    _absorb(keep, duplicate)
    duplicate.merged_into_id = keep.id
    duplicate.merged_at = utcnow()
    duplicate.status = CustomerStatus.INACTIVE
    session.add(Note(id=new_id(), customer_id=keep.id, body=_record(duplicate, result)))
    session.flush()
    session.expire_all()  # the bulk updates above changed rows the session may hold
    update_customers_stats(session, [keep.id, duplicate.id])
    # The event belongs to the kept customer: it outlives the duplicate's erasure.
    emit(
        session,
        "customer.merged",
        {
            "id": keep.id,
            "merged_id": duplicate.id,
            "merged_email": duplicate.email,
            "moved": dict(result.moved),
        },
        customer_id=keep.id,
    )
    return result


def _absorb(keep: Customer, duplicate: Customer) -> None:
    """What the kept customer lacks and the duplicate knows."""
    keep.phone = keep.phone or duplicate.phone
    keep.address = keep.address or duplicate.address
    keep.company_name = keep.company_name or duplicate.company_name
    keep.tags = normalize_tags([*(keep.tags or []), *(duplicate.tags or [])])
    times = [t for t in (keep.last_contact_at, duplicate.last_contact_at) if t is not None]
    keep.last_contact_at = max(times) if times else None
    if keep.status == CustomerStatus.INACTIVE and duplicate.status == CustomerStatus.ACTIVE:
        keep.status = CustomerStatus.ACTIVE
    if duplicate.status == CustomerStatus.BLOCKED:
        keep.status = CustomerStatus.BLOCKED  # a block on either address holds for both


def _record(duplicate: Customer, result: MergeResult) -> str:
    moved = ", ".join(
        f"{count} {name if count != 1 else name.removesuffix('s')}"
        for name, count in result.moved.items()
    )
    address = f" <{duplicate.email}>" if duplicate.email else ""
    return (
        f"Merged {duplicate.name}{address} ({duplicate.id}) into this customer: moved {moved}."
        + (f" {duplicate.email} is now an alias." if duplicate.email else "")
    )


def aliases_of(session: Session, customer_id: str) -> list[str]:
    """The addresses of the customers merged into this one."""
    return [
        email
        for email in session.execute(
            select(Customer.email)
            .where(Customer.merged_into_id == customer_id, Customer.email.is_not(None))
            .order_by(Customer.email_normalized)
        ).scalars()
        if email
    ]
