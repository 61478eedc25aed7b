"""``crm lead list|show|update|unlink`` (``crm lead create`` is in worker/cli/sales.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from crm_core import services
from crm_core.customers import customer_names, get_customer
from crm_core.leads import LeadFilter
from crm_core.models import Lead
from crm_core.scoring import Reason
from worker.cli.context import session_for
from worker.cli.conversations import parse_since
from worker.cli.note_views import note_lines, notes_json
from worker.cli.outcomes import outcome_session
from worker.cli.output import (
    JsonFlag,
    Line,
    block,
    emit,
    format_datetime,
    format_kr,
    heading,
    model_dict,
    plural,
    print_json,
    printable,
    success,
    table,
    text_or_empty,
)
from worker.cli.paging import showing
from worker.cli.sales import lead_app as app

LeadId = Annotated[str, typer.Argument(help="Lead ID.", show_default=False)]
SOURCE_EMAIL_LINES = 40  # of the lead email's body shown by `lead show`


@app.command("list")
def list_leads(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="new, contacted, quoted, won or lost.")] = None,
    source: Annotated[str | None, typer.Option(help="e.g. rengoring.nu, leadpoint.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Leads dated on or after this, e.g. 01.10.2025.")
    ] = None,
    unlinked: Annotated[
        bool, typer.Option("--unlinked", help="Only leads without a customer.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 50,
    by_score: Annotated[
        bool,
        typer.Option(
            "--by-score",
            help="Best first: by score, with the reasons that weigh most. Open leads "
            "(new, contacted, quoted) unless --status says otherwise.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Leads, newest first, dated by the email they came in (or best first: --by-score)."""
    wanted = LeadFilter(
        status=status,
        source=source,
        since=parse_since(since),
        unlinked=unlinked,
        # Which leads to call first: those still to be won, unless a status is asked for.
        open_only=by_score and status is None,
    )
    if by_score:
        _list_by_score(ctx, wanted, limit, as_json)
        return
    with session_for(ctx) as session:
        leads = services.list_leads(session, wanted, limit=limit)
        total = services.count_leads(session, wanted)
        if as_json:
            print_json({"total": total, "leads": [model_dict(lead) for lead in leads]})
            return
        names = customer_names(session, [lead.customer_id for lead in leads if lead.customer_id])
        rows = [
            [
                format_datetime(lead.created_at)[:10],
                lead.source,
                text_or_empty(lead.name),
                names.get(lead.customer_id or "", "-"),
                text_or_empty(lead.status),
                lead.id,
            ]
            for lead in leads
        ]
    headers = ["Date", "Source", "Name", "Customer", "Status", "ID"]
    emit([*table(headers, rows), showing(len(rows), total, "lead")])


def _list_by_score(ctx: typer.Context, wanted: LeadFilter, limit: int, as_json: bool) -> None:
    with session_for(ctx) as session:
        found = services.list_leads_by_score(session, wanted, limit=limit)
        total = services.count_leads(session, wanted)
        if as_json:
            leads = [
                {**model_dict(lead), **score_json(score, reasons)} for lead, score, reasons in found
            ]
            print_json({"total": total, "leads": leads})
            return
        rows = [
            [
                text_or_empty(score),
                format_datetime(lead.created_at)[:10],
                lead.source,
                text_or_empty(lead.name),
                text_or_empty(lead.status),
                "; ".join(reason.text() for reason in reasons) or "-",
                lead.id,
            ]
            for lead, score, reasons in found
        ]
    headers = ["Score", "Date", "Source", "Name", "Status", "Why", "ID"]
    shown = "open leads (new, contacted, quoted)" if wanted.open_only else "leads"
    emit(
        [
            heading(f"Best first: {shown}"),
            *table(headers, rows),
            showing(len(rows), total, "lead"),
        ]
    )


def score_json(score: int | None, reasons: list[Reason]) -> dict[str, Any]:
    return {
        "score": score,
        "score_reasons": [{**reason.as_dict(), "text": reason.text()} for reason in reasons],
    }


@app.command("rescore")
def rescore(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Rebuild the scoring model from the history of bookings and revenue; rescore every lead."""
    with session_for(ctx) as session:
        summary = services.rebuild_scores(session)
    if as_json:
        print_json(
            {
                "trained_on": summary.trained_on,
                "converted": summary.converted,
                "base_rate": round(summary.base_rate, 4),
                "scored": summary.scored,
                "changed": summary.changed,
            }
        )
        return
    emit(
        success(
            f"Scored {plural(summary.scored, 'lead')} ({summary.changed} changed).",
            [
                ("Learned from", f"{plural(summary.trained_on, 'decided lead')}"),
                ("Converted", str(summary.converted)),
                ("Base rate", f"{summary.base_rate:.0%}"),
            ],
        )
    )


def _lead_fields(lead: Lead, customer_label: str) -> list[tuple[str, str]]:
    fields = [
        ("ID", lead.id),
        ("Date", format_datetime(lead.created_at)),
        ("Source", lead.source),
        ("Status", text_or_empty(lead.status)),
        ("Customer", customer_label),
        ("Name", text_or_empty(lead.name)),
        ("Email", text_or_empty(lead.email)),
        ("Phone", text_or_empty(lead.phone)),
        ("Address", text_or_empty(lead.address)),
        ("Task", text_or_empty(lead.task_type)),
        ("Size", f"{lead.size_m2} m²" if lead.size_m2 else "-"),
        ("Dates wanted", text_or_empty(lead.preferred_dates)),
    ]
    return [(label, printable(value)) for label, value in fields]


@app.command("show")
def show(ctx: typer.Context, lead_id: LeadId, as_json: JsonFlag = False) -> None:
    """A lead with its customer, quotes, notes and the email it came from."""
    with session_for(ctx) as session:
        lead = services.get_lead(session, lead_id)
        customer = get_customer(session, lead.customer_id) if lead.customer_id else None
        source = services.lead_source_message(session, lead)
        quotes = services.list_quotes(session, lead_id=lead.id)
        notes = services.list_notes(session, "lead", lead.id)
        note_total = services.count_notes(session, "lead", lead.id)
        score, reasons = services.lead_score(session, lead.id) or (None, [])
        if as_json:
            data: dict[str, Any] = {
                **model_dict(lead),
                **score_json(score, reasons),
                "quotes": [model_dict(quote) for quote in quotes],
                "source_email": model_dict(source) if source else None,
                **notes_json(notes, note_total),
            }
            print_json(data)
            return
        label = f"{customer.name} <{customer.email}> ({customer.id})" if customer else "-"
        fields = [*_lead_fields(lead, label), ("Score", text_or_empty(score))]
        lines: list[Line] = block(f"Lead: {printable(lead.name or lead.id)}", fields)
        if reasons:
            lines += ["", heading("Why this score"), *(printable(r.text()) for r in reasons)]
        if lead.message:
            lines += [
                "",
                heading("Request"),
                *(printable(line) for line in lead.message.splitlines()),
            ]
        if quotes:
            rows = [
                [q.id, format_kr(q.total), q.status.value, format_datetime(q.created_at)]
                for q in quotes
            ]
            lines += ["", heading(f"Quotes ({len(quotes)})")]
            lines += table(["ID", "Total", "Status", "Created"], rows)
        lines += note_lines(notes, note_total)
        if source is not None:
            body = [printable(line) for line in source.body.rstrip().splitlines()]
            lines += [
                "",
                heading("The email it came from"),
                f"From:    {printable(source.from_address)}",
                f"Date:    {format_datetime(source.sent_at)}",
                f"Subject: {printable(text_or_empty(source.subject))}",
                "",
                *body[:SOURCE_EMAIL_LINES],
            ]
            if len(body) > SOURCE_EMAIL_LINES:
                lines.append(f"… (`crm conversation show {source.conversation_id}` for all)")
    emit(lines)


@app.command("update")
def update(
    ctx: typer.Context,
    lead_id: LeadId,
    status: Annotated[
        str, typer.Option(help="new, contacted, quoted, won or lost.", show_default=False)
    ],
    as_json: JsonFlag = False,
) -> None:
    """Set a lead's status by hand."""
    with outcome_session(ctx) as session:
        lead = services.set_lead_status(session, lead_id, status)
        data = model_dict(lead)
        title = f"Lead {lead.id} is {lead.status.value}."
    if as_json:
        print_json(data)
    else:
        emit(success(title))


@app.command("unlink")
def unlink(ctx: typer.Context, lead_id: LeadId, as_json: JsonFlag = False) -> None:
    """Undo a link: the lead belongs to no customer (its conversations stay)."""
    with session_for(ctx) as session:
        before = services.get_lead(session, lead_id).customer_id
        lead = services.unlink_lead(session, lead_id)
        data = model_dict(lead)
        if before is None:
            lines = success(f"Lead {lead.id} was not linked to a customer.")
        else:
            customer = get_customer(session, before)
            lines = success(f"Lead {lead.id} unlinked from {customer.name}.")
            lines.append(f"{customer.name} now has {customer.total_leads} leads.")
    if as_json:
        print_json(data)
    else:
        emit(lines)
