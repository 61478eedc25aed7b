"""``crm demo``: the main job on the embedded default, with the shipped sample mailbox.

Imports worker/samples/rendetalje.mbox into the configured database with the jobs
run in-process, then shows the customers with their leads, conversations and figures.
Running it again changes nothing (the import is idempotent).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from crm_core import services
from crm_core.analytics import activity_by_customer
from crm_core.leads import linked_leads
from worker.cli.context import CliState, settings_of
from worker.cli.customers import LIST_WIDTHS
from worker.cli.imports import summary_lines
from worker.cli.jobs import runtime_for
from worker.cli.output import emit, format_datetime, format_kr, heading, plural, table
from worker.config import BrokerSettings
from worker.importers.run import import_takeout

NEVER = datetime.min.replace(tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "rendetalje.mbox"
HISTORY_END = "2025-11"  # the last month of the sample and of its history


def demo(
    ctx: typer.Context,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Also load a year of sales history (lead emails, replies, quotes, bookings) "
            "for lead scores and trends.",
        ),
    ] = False,
) -> None:
    """Ingest the sample mailbox (jobs in-process) and show the customers it yields."""
    state = ctx.ensure_object(CliState)
    settings = settings_of(ctx)
    # The demo never needs a worker: whatever broker is configured, run inline.
    state._settings = settings.model_copy(update={"broker": BrokerSettings(url="inline")})
    settings = state.settings
    runtime = runtime_for(ctx)
    emit([heading(f"Importing the sample mailbox into {settings.database.url}")])
    summary = import_takeout(runtime, SAMPLE, settings.company.mailbox)
    emit(summary_lines(summary, SAMPLE.name))
    if history:
        from worker.cli.demo_history import load_history
        from worker.samples.build_history import HISTORY_MBOX

        past, recorded, model = load_history(runtime, settings.company.mailbox)
        emit(summary_lines(past, HISTORY_MBOX.name))
        emit(
            [
                f"Outcomes recorded: {recorded} (quotes sent, accepted or rejected; bookings)",
                f"Lead scores: learned from {model.trained_on} leads, "
                f"{model.converted} converted; {model.scored} leads scored",
            ]
        )

    with runtime.sessions() as session:
        customers = sorted(
            services.query_customers(session, status="active"),
            key=lambda c: c.last_contact_at or NEVER,
            reverse=True,
        )
        activity = activity_by_customer(session)
        rows = [
            [
                c.name,
                c.email or "",
                str(c.total_leads),
                str(activity.get(c.id, (0, 0))[0]),
                str(activity.get(c.id, (0, 0))[1]),
                str(c.total_bookings),
                format_kr(c.total_revenue),
                format_datetime(c.last_contact_at),
            ]
            for c in customers
        ]
        leads = linked_leads(session)
        by_id = {c.id: c for c in customers}
        lead_rows = [
            [
                lead.source,
                by_id[lead.customer_id].name if lead.customer_id in by_id else "",
                lead.phone or "",
                lead.task_type or "",
                f"{lead.size_m2} m²" if lead.size_m2 else "",
            ]
            for lead in leads
        ]
    emit(
        [
            heading("Customers"),
            *table(
                [
                    "Name",
                    "Email",
                    "Leads",
                    "Conversations",
                    "Messages",
                    "Bookings",
                    "Revenue",
                    "Last contact",
                ],
                rows,
                LIST_WIDTHS,
            ),
            f"Total: {plural(len(rows), 'customer')}",
            heading("Leads"),
            *table(["Source", "Customer", "Phone", "Task", "Size"], lead_rows),
            "Next: `crm conversation list`, `crm lead list`, `crm customer get EMAIL`, "
            "`crm quarantine list`, `crm report top-customers`.",
            *(
                [
                    "History: `crm lead list --by-score`, "
                    f"`crm report trends --until {HISTORY_END} --chart trends.png`."
                ]
                if history
                else []
            ),
        ]
    )
