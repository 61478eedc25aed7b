"""Leads: requests for work, from lead platforms, the website form or by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.errors import NotFoundError
from crm_core.ids import new_id
from crm_core.leads.listing import LeadFilter, count_leads, list_leads
from crm_core.models import Lead
from crm_core.models.types import utcnow
from crm_core.paging import Page, checked_limit, first_page
from crm_core.scoring.service import request_rescore, score_leads
from crm_core.statuses import LeadStatus, parse_status
from crm_core.upsert import insert_ignore
from crm_core.webhooks.events import emit, lead_data

LEAD_FIELDS = (
    "name",
    "email",
    "phone",
    "address",
    "property_type",
    "task_type",
    "size_m2",
    "rooms",
    "preferred_dates",
    "message",
    "email_thread_id",
)


def create_lead(
    session: Session,
    *,
    source: str = "manual",
    idempotency_key: str | None = None,
    status: str | LeadStatus = LeadStatus.NEW,
    created_at: datetime | None = None,
    **fields: Any,
) -> Lead:
    """Create a lead (not yet linked to a customer: see link_lead_to_customer).

    With an ``idempotency_key`` (e.g. "<mailbox>:<gmail message id>") the lead is
    created once: later calls with the same key return the first lead unchanged.
    ``created_at`` is the lead's date: for a lead email, the email's date (so "leads
    this month" counts the month the request came, not the month of an import).
    A new lead is scored at once with the stored model (crm_core.scoring).
    """
    unknown = set(fields) - set(LEAD_FIELDS)
    if unknown:
        raise TypeError(f"unknown lead fields: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {name: fields.get(name) for name in LEAD_FIELDS}
    values.update(
        id=new_id(),
        source=source,
        status=parse_status(LeadStatus, status).value,
        idempotency_key=idempotency_key,
        created_at=created_at or utcnow(),
        updated_at=utcnow(),
    )
    if idempotency_key is None:
        lead = Lead(**{**values, "status": parse_status(LeadStatus, status)})
        session.add(lead)
        session.flush()
        score_leads(session, [lead.id])
        emit(session, "lead.created", lead_data(lead), customer_id=lead.customer_id)
        return lead
    created = insert_ignore(session, Lead.__table__, values, conflict=["idempotency_key"])  # type: ignore[arg-type]
    found = get_lead_by_idempotency_key(session, idempotency_key)
    assert found is not None
    if created:
        score_leads(session, [found.id])
        emit(session, "lead.created", lead_data(found), customer_id=found.customer_id)
    return found


def get_lead(session: Session, lead_id: str) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError("lead", lead_id)
    return lead


def get_lead_by_idempotency_key(session: Session, key: str) -> Lead | None:
    return session.execute(select(Lead).where(Lead.idempotency_key == key)).scalar_one_or_none()


def customer_leads_page(session: Session, customer_id: str, limit: int | None = 20) -> Page[Lead]:
    """The customer's leads, newest first, with how many there are."""
    statement = (
        select(Lead)
        .where(Lead.customer_id == customer_id)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
    )
    return first_page(session, statement, limit=limit)


def set_lead_status(session: Session, lead_id: str, status: str | LeadStatus) -> Lead:
    """Set a lead's status by hand (any status; see crm_core.leads.progress for the
    moves that happen by themselves)."""
    lead = get_lead(session, lead_id)
    previous = lead.status
    lead.status = parse_status(LeadStatus, status)
    session.flush()
    if lead.status != previous:
        emit(
            session,
            "lead.status_changed",
            {
                "id": lead.id,
                "customer_id": lead.customer_id,
                "status": lead.status,
                "previous_status": previous,
            },
            customer_id=lead.customer_id,
        )
        request_rescore(session)
    return lead


def customer_leads(session: Session, customer_id: str) -> list[Lead]:
    """The customer's leads, newest first."""
    return list(
        session.execute(
            select(Lead)
            .where(Lead.customer_id == customer_id)
            .order_by(Lead.created_at.desc(), Lead.id)
        ).scalars()
    )


def linked_leads(session: Session, limit: int | None = None) -> list[Lead]:
    """Leads linked to a customer, oldest first."""
    statement = select(Lead).where(Lead.customer_id.is_not(None)).order_by(Lead.created_at)
    if checked_limit(limit) is not None:
        statement = statement.limit(limit)
    return list(session.execute(statement).scalars())


def list_unlinked_leads(session: Session, limit: int = 50) -> tuple[int, list[Lead]]:
    """Leads without a customer, newest first: how many there are in all, and up to
    ``limit`` of them (the ``crm lead list --unlinked`` query)."""
    wanted = LeadFilter(unlinked=True)
    return count_leads(session, wanted), list_leads(session, wanted, limit=limit)
