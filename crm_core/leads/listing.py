"""Finding leads: filtered lists with their total, and the email a lead came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm_core.models import EmailMessage, Lead
from crm_core.paging import DEFAULT_LIMIT, checked_limit
from crm_core.statuses import LeadStatus, parse_status

S = TypeVar("S", bound=Select[Any])


@dataclass(frozen=True, slots=True)
class LeadFilter:
    """Filters combine with AND; None means any."""

    status: str | LeadStatus | None = None
    source: str | None = None
    since: datetime | None = None  # the lead's date (the email's date) on or after this
    unlinked: bool = False
    customer_id: str | None = None
    open_only: bool = False  # new, contacted or quoted: still to be won


OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUOTED)


def _filtered(statement: S, wanted: LeadFilter) -> S:
    if wanted.status is not None:
        statement = statement.where(Lead.status == parse_status(LeadStatus, wanted.status))
    if wanted.source is not None:
        statement = statement.where(func.lower(Lead.source) == wanted.source.strip().lower())
    if wanted.since is not None:
        statement = statement.where(Lead.created_at >= wanted.since)
    if wanted.unlinked:
        statement = statement.where(Lead.customer_id.is_(None))
    if wanted.customer_id is not None:
        statement = statement.where(Lead.customer_id == wanted.customer_id)
    if wanted.open_only:
        statement = statement.where(Lead.status.in_(OPEN_STATUSES))
    return statement


def filter_leads(statement: S, wanted: LeadFilter) -> S:
    """``statement`` (over Lead) narrowed to the leads ``wanted`` names."""
    return _filtered(statement, wanted)


def list_leads(
    session: Session, wanted: LeadFilter = LeadFilter(), *, limit: int = DEFAULT_LIMIT
) -> list[Lead]:
    """Leads, newest first (by the date of the email they came in)."""
    statement = _filtered(select(Lead), wanted)
    statement = statement.order_by(Lead.created_at.desc(), Lead.id).limit(checked_limit(limit))
    return list(session.execute(statement).scalars())


def count_leads(session: Session, wanted: LeadFilter = LeadFilter()) -> int:
    statement = _filtered(select(func.count()).select_from(Lead), wanted)
    return int(session.execute(statement).scalar_one())


def lead_source_ref(lead: Lead) -> tuple[str, str] | None:
    """The (mailbox, Gmail id) of the email a lead came from: its key is "<mailbox>:<gmail id>"."""
    if not lead.idempotency_key or ":" not in lead.idempotency_key:
        return None
    mailbox, _, gmail_id = lead.idempotency_key.rpartition(":")
    return mailbox, gmail_id


def lead_source_message(session: Session, lead: Lead) -> EmailMessage | None:
    """The stored email a lead was made from."""
    ref = lead_source_ref(lead)
    if ref is None:
        return None
    mailbox, gmail_id = ref
    return session.execute(
        select(EmailMessage)
        .where(EmailMessage.mailbox == mailbox, EmailMessage.gmail_message_id == gmail_id)
        .limit(1)
    ).scalar()
