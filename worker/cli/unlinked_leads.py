"""``crm lead unlinked``: leads kept without a customer, with the reason.

A lead email that names no address of the customer (not in the lead, not in its
Reply-To) becomes a lead without a customer; the ledger row of its email says why.
Link one by hand once the customer is known (``crm lead create --link`` makes new
ones; ``link_lead_to_customer`` links existing ones).
"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_core.inbox import ledger_reasons
from crm_core.leads import lead_source_ref, list_unlinked_leads
from worker.cli.context import session_for
from worker.cli.output import JsonFlag, emit, format_datetime, plural, print_json, printable, table

# The classifier's reasons, for people.
_REASONS = {
    "lead:unlinked": "no address of the customer in the lead or its Reply-To",
}


def unlinked_leads(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Leads without a customer (lead emails that named no address), newest first."""
    with session_for(ctx) as session:
        total, leads = list_unlinked_leads(session, limit)
        refs = {lead.id: lead_source_ref(lead) for lead in leads}
        reasons = ledger_reasons(session, [ref for ref in refs.values() if ref])
        rows = [
            {
                "id": lead.id,
                "created_at": lead.created_at.isoformat(),
                "source": lead.source,
                "name": lead.name,
                "email": lead.email,
                "phone": lead.phone,
                "reason": _reason(reasons.get(ref) if (ref := refs[lead.id]) else None),
                "email_message": f"{ref[0]}:{ref[1]}" if ref else None,
            }
            for lead in leads
        ]
        created = {lead.id: format_datetime(lead.created_at) for lead in leads}
    if as_json:
        print_json({"total": total, "leads": rows})
        return
    cells = [
        [
            row["id"] or "",
            created[str(row["id"])],
            printable(row["source"] or ""),
            printable(row["name"] or "-"),
            printable(row["phone"] or "-"),
            row["reason"] or "-",
        ]
        for row in rows
    ]
    shown = f" (showing {len(rows)}; --limit N for more)" if total > len(rows) else ""
    emit(
        [
            *table(["ID", "Created", "Source", "Name", "Phone", "Reason"], cells),
            f"Total: {plural(total, 'unlinked lead')}{shown}",
            "The email of each: crm explain --gmail-id ID --mailbox MAILBOX (--json shows them).",
        ]
    )


def _reason(ledger_reason: str | None) -> str | None:
    if ledger_reason is None:
        return None
    prefix = ledger_reason.rpartition(":")[0]
    return _REASONS.get(prefix, ledger_reason)
