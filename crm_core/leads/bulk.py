"""Creating many leads at once, each already linked to its customer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.ids import new_id
from crm_core.leads.service import LEAD_FIELDS
from crm_core.models import Lead
from crm_core.models.types import utcnow
from crm_core.scoring.service import score_leads
from crm_core.stats import update_customers_stats
from crm_core.statuses import LeadStatus
from crm_core.upsert import insert_many_ignore
from crm_core.webhooks.events import emit_many, lead_data


def create_linked_leads(session: Session, leads: Sequence[Mapping[str, Any]]) -> dict[str, Lead]:
    """Idempotent bulk create_lead + link_lead_to_customer; returns leads by idempotency key.

    Each mapping holds ``idempotency_key``, ``customer_id``, ``source``, optionally
    ``created_at`` (the lead email's date; now when missing) and any of the lead
    fields. A lead that exists already (same key) is left as it is, except that
    an unlinked one is linked. The customers' figures are recomputed once, together,
    and the leads are scored with the stored model.
    """
    if not leads:
        return {}
    now = utcnow()
    rows = [
        {
            **{name: lead.get(name) for name in LEAD_FIELDS},
            "id": new_id(),
            "source": lead["source"],
            "status": LeadStatus.NEW.value,
            "idempotency_key": lead["idempotency_key"],
            "customer_id": lead["customer_id"],
            "created_at": lead.get("created_at") or now,
            "updated_at": now,
        }
        for lead in sorted(leads, key=lambda lead: str(lead["idempotency_key"]))
    ]
    insert_many_ignore(session, Lead.__table__, rows, conflict=["idempotency_key"])  # type: ignore[arg-type]
    keys = [row["idempotency_key"] for row in rows]
    found = {
        lead.idempotency_key: lead
        for lead in session.execute(
            select(Lead)
            .where(Lead.idempotency_key.in_(keys))
            .execution_options(populate_existing=True)
        ).scalars()
        if lead.idempotency_key
    }
    wanted = {row["idempotency_key"]: row["customer_id"] for row in rows}
    created_ids = {row["id"] for row in rows}
    created = [lead for lead in found.values() if lead.id in created_ids]
    owners: set[str] = set()
    for key, lead in found.items():
        if lead.customer_id is None:
            lead.customer_id = wanted[key]
        if lead.customer_id:
            owners.add(lead.customer_id)
    update_customers_stats(session, owners)
    score_leads(session, [lead.id for lead in found.values()])
    emit_many(
        session,
        "lead.created",
        ((lead_data(lead), lead.customer_id) for lead in sorted(created, key=lambda x: x.id)),
    )
    return found
