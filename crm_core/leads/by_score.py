"""Leads best first: by their score (crm_core.scoring), unscored leads last."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.leads.listing import LeadFilter, filter_leads
from crm_core.models import Lead, LeadScore
from crm_core.paging import DEFAULT_LIMIT, checked_limit
from crm_core.scoring.model import Reason


def list_leads_by_score(
    session: Session, wanted: LeadFilter = LeadFilter(), *, limit: int = DEFAULT_LIMIT
) -> list[tuple[Lead, int | None, list[Reason]]]:
    """Leads with their score and reasons, highest score first, newest first among equals."""
    statement = filter_leads(
        select(Lead, LeadScore.score, LeadScore.reasons).outerjoin(
            LeadScore, LeadScore.lead_id == Lead.id
        ),
        wanted,
    )
    statement = statement.order_by(
        LeadScore.score.desc().nulls_last(), Lead.created_at.desc(), Lead.id
    ).limit(checked_limit(limit))
    return [
        (lead, score, [Reason.from_dict(reason) for reason in reasons or []])
        for lead, score, reasons in session.execute(statement)
    ]
