"""``crm demo --history``: a year of sales history for scoring and trends to work on.

Imports ``worker/samples/history.mbox`` (lead emails and our replies, through the same
jobs as any export), then records what came of each lead as ``history.json`` says: a
quote sent a few days later, accepted or rejected, a booking. Everything goes through
the services, dated when it happened. A lead that has a quote already is left as it
is, so running it again changes nothing. Last, the scoring model is rebuilt.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from crm_core import services
from crm_core.leads import get_lead_by_idempotency_key
from crm_core.normalize import mailbox_key
from crm_core.scoring import RescoreSummary
from worker.importers.run import ImportSummary, import_takeout
from worker.importers.takeout import gmail_id_from_decimal
from worker.runtime import Runtime, unit_of_work
from worker.samples.build_history import HISTORY_JSON, HISTORY_MBOX


def load_history(runtime: Runtime, mailbox: str) -> tuple[ImportSummary, int, RescoreSummary]:
    """Import the history mailbox and record its outcomes; (import, outcomes recorded, model)."""
    summary = import_takeout(runtime, HISTORY_MBOX, mailbox)
    outcomes: dict[str, dict[str, Any]] = json.loads(HISTORY_JSON.read_text("utf-8"))["outcomes"]
    recorded = 0
    with unit_of_work(runtime.sessions) as session:
        for gmail_id, outcome in sorted(outcomes.items()):
            key = f"{mailbox_key(mailbox)}:{gmail_id_from_decimal(gmail_id)}"
            lead = get_lead_by_idempotency_key(session, key)
            if lead is None or services.list_quotes(session, lead_id=lead.id):
                continue
            quote = services.create_quote(session, total=outcome["total"], lead_id=lead.id)
            sent = lead.created_at + timedelta(days=outcome["sent_after_days"])
            services.send_quote(session, quote.id, at=sent)
            decided = sent + timedelta(days=2)
            if outcome["accepted"]:
                services.accept_quote(session, quote.id, at=decided)
                if outcome["booked"]:
                    services.create_booking(
                        session,
                        quote_id=quote.id,
                        scheduled_at=decided + timedelta(days=7),
                        booked_at=decided,
                    )
            else:
                services.reject_quote(session, quote.id, at=decided)
            recorded += 1
        model = services.rebuild_scores(session)
    return summary, recorded, model
