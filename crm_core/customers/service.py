"""Customers: creation, lookup, search, updates and the lead link."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TypedDict, Unpack

from sqlalchemy import ColumnElement, Select, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from crm_core.customers.bulk import find_or_create_customers
from crm_core.customers.filters import TagMatch, tag_condition
from crm_core.errors import ConflictError, NotFoundError, ValidationError
from crm_core.identity import advance_last_contact, expire_if_loaded
from crm_core.ids import new_id
from crm_core.models import Conversation, Customer, Lead
from crm_core.normalize import checked_phone, normalize_email, normalize_tags
from crm_core.paging import DEFAULT_LIMIT, Page, checked_limit, checked_offset, paginate
from crm_core.scoring.service import score_leads
from crm_core.stats import update_customer_stats
from crm_core.statuses import CustomerStatus, parse_status
from crm_core.webhooks.events import customer_data, emit


class CustomerChanges(TypedDict, total=False):
    """Fields ``update_customer`` accepts; an omitted key is left as it is."""

    name: str
    email: str | None
    phone: str | None
    address: str | None
    company_name: str | None
    notes: str | None
    status: str | CustomerStatus
    tags: Sequence[str]


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationError("customer name must not be empty")
    if len(cleaned) > 200:
        raise ValidationError("customer name is longer than 200 characters")
    return cleaned


def create_customer(
    session: Session,
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    company_name: str | None = None,
    notes: str | None = None,
    tags: Sequence[str] | None = None,
) -> Customer:
    """Create a customer. Raises ConflictError when the email already belongs to one.

    Prefer ``find_or_create_customer`` for anything that arrives by mail.
    """
    normalized = normalize_email(email) if email else None
    customer = Customer(
        id=new_id(),
        name=_clean_name(name),
        email=email.strip() if email else None,
        email_normalized=normalized,
        phone=checked_phone(phone),
        address=address,
        company_name=company_name,
        notes=notes,
        tags=normalize_tags(tags),
        status=CustomerStatus.ACTIVE,
    )
    try:
        with session.begin_nested():
            session.add(customer)
    except IntegrityError:
        raise ConflictError(f"a customer with email {normalized} already exists") from None
    emit(session, "customer.created", customer_data(customer), customer_id=customer.id)
    return customer


def get_customer_by_id(
    session: Session, customer_id: str, include_relations: bool = False
) -> Customer | None:
    """The customer, optionally with its leads and conversations loaded."""
    statement = select(Customer).where(Customer.id == customer_id)
    if include_relations:
        statement = statement.options(
            selectinload(Customer.leads), selectinload(Customer.conversations)
        )
    return session.execute(statement).scalar_one_or_none()


def customer_names(session: Session, customer_ids: Collection[str]) -> dict[str, str]:
    """The names of these customers by id, in one query (ids that do not exist are left out)."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(Customer.id, Customer.name).where(Customer.id.in_(set(customer_ids)))
    )
    return {customer_id: name for customer_id, name in rows}


def get_customer(session: Session, customer_id: str) -> Customer:
    """Like get_customer_by_id, but a missing customer raises NotFoundError."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFoundError("customer", customer_id)
    return customer


def get_customer_by_email(session: Session, email: str) -> Customer | None:
    """Look a customer up by email, ignoring letter case; an alias (the address of a
    customer merged into another) gives the kept customer."""
    normalized = normalize_email(email)
    customer = session.execute(
        select(Customer).where(Customer.email_normalized == normalized)
    ).scalar_one_or_none()
    if customer is not None and customer.merged_into_id is not None:
        return session.get(Customer, customer.merged_into_id) or customer
    return customer


def update_customer(
    session: Session, customer_id: str, **changes: Unpack[CustomerChanges]
) -> Customer:
    """Change the given fields. Stats are derived and cannot be set here."""
    customer = get_customer(session, customer_id)
    try:
        # The savepoint opens before any change so that a duplicate email rolls back
        # only this update, leaving the caller's transaction usable.
        with session.begin_nested():
            _apply_changes(customer, changes)
            session.flush()
    except IntegrityError:
        taken = normalize_email(str(changes.get("email")))
        raise ConflictError(f"a customer with email {taken} already exists") from None
    if changes:
        data = {**customer_data(customer), "changed": sorted(changes)}
        emit(session, "customer.updated", data, customer_id=customer.id)
    return customer


def _apply_changes(customer: Customer, changes: CustomerChanges) -> None:
    for key, value in changes.items():
        if key == "name":
            customer.name = _clean_name(str(value))
        elif key == "email":
            email = str(value).strip() if value else None
            customer.email = email
            customer.email_normalized = normalize_email(email) if email else None
        elif key == "status":
            customer.status = parse_status(CustomerStatus, str(value))
        elif key == "tags":
            customer.tags = normalize_tags(value)  # type: ignore[arg-type]
        elif key == "phone":
            customer.phone = checked_phone(str(value) if value else None)
        elif key in {"address", "company_name", "notes"}:
            setattr(customer, key, value)
        else:
            raise ValidationError(f"unknown customer field {key!r}")


def query_customers(
    session: Session,
    *,
    status: str | CustomerStatus | None = None,
    tags: Sequence[str] | None = None,
    email: str | None = None,
    match: TagMatch = "all",
    limit: int | None = None,
    offset: int = 0,
) -> list[Customer]:
    """Search customers; filters combine with AND. Newest first (ties: higher id first).

    ``tags`` match exactly after trimming and lower-casing. By default a customer
    must carry **all** the given tags (``match="all"``); ``match="any"`` returns
    customers with at least one of them. ``email`` is an exact, case-insensitive match.
    The order is the one of the index on (status, created_at DESC, id DESC), so a
    first page reads only its own rows; ``customer_page`` adds the total and a cursor.
    """
    statement = _customers_matching(session, status, tags, email, match)
    statement = statement.order_by(Customer.created_at.desc(), Customer.id.desc())
    statement = statement.offset(checked_offset(offset))
    if checked_limit(limit) is not None:
        statement = statement.limit(limit)
    return list(session.execute(statement).scalars())


def customer_page(
    session: Session,
    *,
    status: str | CustomerStatus | None = None,
    tags: Sequence[str] | None = None,
    match: TagMatch = "all",
    limit: int | None = DEFAULT_LIMIT,
    after: str | None = None,
) -> Page[Customer]:
    """A page of ``query_customers``'s list, with the total and the next page's cursor."""
    statement = _customers_matching(session, status, tags, None, match)
    return paginate(
        session, statement, keys=[Customer.created_at, Customer.id], limit=limit, after=after
    )


def _customers_matching(
    session: Session,
    status: str | CustomerStatus | None,
    tags: Sequence[str] | None,
    email: str | None,
    match: TagMatch,
) -> Select[Customer]:
    # Customers merged into another are left out: their address is the kept one's alias.
    statement = select(Customer).where(Customer.merged_into_id.is_(None))
    if status is not None:
        statement = statement.where(Customer.status == parse_status(CustomerStatus, status))
    if email is not None:
        statement = statement.where(Customer.email_normalized == normalize_email(email))
    wanted = normalize_tags(tags)
    if wanted:
        statement = statement.where(tag_condition(session, wanted, match))
    return statement


def delete_customer(session: Session, customer_id: str) -> bool:
    """Soft delete: the customer becomes inactive; nothing is removed."""
    customer = get_customer(session, customer_id)
    if customer.status != CustomerStatus.INACTIVE:
        customer.status = CustomerStatus.INACTIVE
        session.flush()
        data = {**customer_data(customer), "changed": ["status"]}
        emit(session, "customer.updated", data, customer_id=customer.id)
    return True


def find_or_create_customer(session: Session, email: str, name: str | None = None) -> Customer:
    """The customer with this email (any letter case), created when there is none.

    Atomic: many threads and processes calling it at once for the same address get
    the same customer and no error (INSERT … ON CONFLICT DO NOTHING, then read).
    When an existing customer only has the placeholder name taken from its address
    and a real name is given now, the real name is stored.
    """
    return find_or_create_customers(session, {email: name})[normalize_email(email)]


def link_lead_to_customer(session: Session, lead_id: str, customer_id: str) -> Lead:
    """Link a lead to a customer and update the figures of both old and new owner.

    Relinking moves the lead's conversations along (those on the old customer, or on
    none), and the new customer's last contact follows theirs.
    """
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError("lead", lead_id)
    customer = get_customer(session, customer_id)
    if customer.merged_into_id is not None:
        raise ConflictError(
            f"customer {customer_id} was merged into {customer.merged_into_id}; link to that one"
        )
    previous = lead.customer_id
    lead.customer_id = customer_id
    session.flush()
    if previous != customer_id:
        _move_lead_conversations(session, lead_id, previous, customer_id)
    for owner in sorted({customer_id, previous or customer_id}):
        update_customer_stats(session, owner)
    score_leads(session, [lead_id])  # the customer's history now counts
    return lead


def _move_lead_conversations(
    session: Session, lead_id: str, previous: str | None, customer_id: str
) -> None:
    owner: ColumnElement[bool] = Conversation.customer_id.is_(None)
    if previous is not None:
        owner = or_(owner, Conversation.customer_id == previous)
    moved = session.execute(
        update(Conversation)
        .where(Conversation.lead_id == lead_id, owner)
        .values(customer_id=customer_id)
        .returning(Conversation.id, Conversation.last_contact_at)
        .execution_options(synchronize_session=False)
    ).all()
    for conversation_id, _ in moved:
        expire_if_loaded(session, Conversation, conversation_id, ["customer_id"])
    latest = max((at for _, at in moved if at is not None), default=None)
    if latest is not None:
        touch_last_contact(session, customer_id, latest)


def unlink_lead(session: Session, lead_id: str) -> Lead:
    """Undo a link: the lead belongs to no customer, whose figures drop it.

    Its conversations stay with the customer: the mail in them is still that
    customer's mail. Linking the lead again moves them to wherever it goes.
    """
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError("lead", lead_id)
    previous = lead.customer_id
    if previous is None:
        return lead
    lead.customer_id = None
    session.flush()
    update_customer_stats(session, previous)
    return lead


def touch_last_contact(session: Session, customer_id: str, at: datetime) -> None:
    """Move the customer's last contact time forward to ``at`` (never backwards)."""
    advance_last_contact(session, Customer, customer_id, at)
