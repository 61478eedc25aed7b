"""``crm report …``: the specification's analytics queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from crm_core.analytics import (
    MonthTrend,
    ai_emails_page,
    monthly_trends,
    response_ratio_page,
    top_customers_page,
)
from crm_core.customers import get_customer
from crm_core.paging import DEFAULT_LIMIT
from worker.cli.context import CliError, session_for, settings_of
from worker.cli.customers import customer_json
from worker.cli.output import (
    JsonFlag,
    emit,
    format_datetime,
    format_kr,
    heading,
    plural,
    print_json,
    table,
    text_or_empty,
)
from worker.cli.paging import AllOption, page_footer

app = typer.Typer(no_args_is_help=True)


@app.command("top-customers")
def top_customers(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="How many customers.")] = 10,
    show_all: AllOption = False,
    as_json: JsonFlag = False,
) -> None:
    """Active customers with the highest revenue (accepted quotes)."""
    with session_for(ctx) as session:
        page = top_customers_page(session, limit=None if show_all else limit)
        customers = page.items
        if as_json:
            print_json([customer_json(customer) for customer in customers])
            return
        rows = [
            [
                str(rank),
                customer.name,
                text_or_empty(customer.email),
                str(customer.total_bookings),
                format_kr(customer.total_revenue),
            ]
            for rank, customer in enumerate(customers, start=1)
        ]
    emit(
        [
            heading(f"Top {len(rows)} customers by revenue"),
            *table(["#", "Name", "Email", "Bookings", "Revenue"], rows),
            *page_footer(page, "active customer"),
        ]
    )


@app.command("response-ratio")
def response_ratio(
    ctx: typer.Context,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's conversations.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = DEFAULT_LIMIT,
    show_all: AllOption = False,
    as_json: JsonFlag = False,
) -> None:
    """Replies per conversation as outbound/inbound messages, e.g. 3/2, most recently
    active first."""
    with session_for(ctx) as session:
        if customer is not None:
            get_customer(session, customer)
        page = response_ratio_page(session, customer_id=customer, limit=None if show_all else limit)
        ratios = page.items
    if as_json:
        print_json(
            [
                {
                    "conversation_id": item.conversation_id,
                    "subject": item.subject,
                    "customer_id": item.customer_id,
                    "customer_name": item.customer_name,
                    "outbound": item.outbound,
                    "inbound": item.inbound,
                    "ratio": item.ratio,
                }
                for item in ratios
            ]
        )
        return
    rows = [
        [
            text_or_empty(item.subject),
            text_or_empty(item.customer_name),
            f"{item.outbound}/{item.inbound}",
        ]
        for item in ratios
    ]
    emit(
        [
            *table(["Subject", "Customer", "Response ratio (out/in)"], rows),
            *page_footer(page, "conversation"),
        ]
    )


@app.command("ai-emails")
def ai_emails(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="At most this many models.")] = DEFAULT_LIMIT,
    show_all: AllOption = False,
    as_json: JsonFlag = False,
) -> None:
    """AI-generated emails by model ("unknown" when no model was recorded)."""
    with session_for(ctx) as session:
        page = ai_emails_page(session, limit=None if show_all else limit)
        counts = page.items
    if as_json:
        print_json([{"model": item.model, "count": item.count} for item in counts])
        return
    total = sum(item.count for item in counts)
    footer = (
        [f"Total: {plural(total, 'AI-generated email')}"]
        if page.complete
        else page_footer(page, "model")
    )
    emit([*table(["Model", "Emails"], [[item.model, str(item.count)] for item in counts]), *footer])


def _month_arg(value: str | None) -> datetime | None:
    """ "2025-11" as a moment in that month (the report covers that month whole)."""
    if value is None:
        return None
    try:
        first = datetime.strptime(value.strip(), "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise CliError(
            f"--until {value!r} is not a month: give it as YYYY-MM, e.g. 2025-11"
        ) from None
    return first + timedelta(days=14)  # mid-month: the same month in any time zone


def _duration(wait: object) -> str:
    """A median wait as "35 min", "4.5 h" or "2.0 days"."""
    if not isinstance(wait, timedelta):
        return "-"
    minutes = wait.total_seconds() / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _trend_json(trend: MonthTrend) -> dict[str, object]:
    wait = trend.median_first_reply
    return {
        "month": trend.month,
        "leads": trend.leads,
        "leads_by_source": trend.leads_by_source,
        "quotes_sent": trend.quotes_sent,
        "quotes_accepted": trend.quotes_accepted,
        "bookings": trend.bookings,
        "revenue": str(trend.revenue),
        "median_first_reply_minutes": (
            round(wait.total_seconds() / 60, 1) if wait is not None else None
        ),
        "unanswered": trend.unanswered,
    }


@app.command("trends")
def trends(
    ctx: typer.Context,
    months: Annotated[
        int, typer.Option(min=1, max=120, help="How many months, up to this one.")
    ] = 12,
    until: Annotated[
        str | None, typer.Option("--until", help="The last month, e.g. 2025-11. Default: this one.")
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Also draw the figures to this .png or .svg file."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Month by month: leads by source, quotes sent and accepted, bookings, revenue and
    the median time to our first reply (calendar months in the display time zone)."""
    from zoneinfo import ZoneInfo

    last = _month_arg(until)
    zone = ZoneInfo(settings_of(ctx).display.time_zone)
    with session_for(ctx) as session:
        rows = monthly_trends(session, months, now=last, zone=zone)
    if chart is not None:
        from worker.cli.trend_chart import draw_trends

        draw_trends(rows, chart)
    if as_json:
        print_json({"months": [_trend_json(row) for row in rows], "chart": str(chart or "")})
        return
    sources = sorted({source for row in rows for source in row.leads_by_source})
    headers = ["Month", "Leads", *sources, "Quotes sent", "Accepted", "Bookings", "Revenue"]
    headers.append("Median reply")
    body = [
        [
            row.month,
            str(row.leads),
            *(str(row.leads_by_source.get(source, 0)) for source in sources),
            str(row.quotes_sent),
            str(row.quotes_accepted),
            str(row.bookings),
            format_kr(row.revenue),
            _duration(row.median_first_reply),
        ]
        for row in rows
    ]
    lines = [heading(f"Trends, last {plural(len(rows), 'month')}"), *table(headers, body)]
    total_leads = sum(row.leads for row in rows)
    revenue = sum((row.revenue for row in rows), start=rows[0].revenue * 0)
    lines.append(f"Total: {plural(total_leads, 'lead')}, {format_kr(revenue)} revenue")
    if chart is not None:
        lines.append(f"Chart written to {chart}")
    emit(lines)


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%} ({part}/{whole})" if whole else "-"


def _short(text: str | None, width: int = 60) -> str:
    clean = " ".join((text or "").split())
    return clean if len(clean) <= width else clean[: width - 1] + "…"


@app.command("templates")
def templates(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only uses on or after this date, e.g. 01.10.2025."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many templates.")] = DEFAULT_LIMIT,
    show_all: AllOption = False,
    as_json: JsonFlag = False,
) -> None:
    """Templates of outbound mail (used twice or more, or named): uses, reply rate
    (answered within 7 days) and conversion (accepted quote or booking)."""
    from crm_core.insight.reports import example_texts, template_report_page
    from worker.cli.conversations import parse_since

    start = parse_since(since)
    with session_for(ctx) as session:
        page = template_report_page(session, since=start, limit=None if show_all else limit)
        texts = example_texts(session, (t.example_message_id for t in page.items))
    examples = {t.template_id: texts.get(t.example_message_id or "") for t in page.items}
    if as_json:
        print_json(
            [
                {
                    "template_id": t.template_id,
                    "name": t.name,
                    "example": examples[t.template_id],
                    "uses": t.uses,
                    "replied_within_7_days": t.replied,
                    "reply_rate": round(t.reply_rate, 4),
                    "conversations": t.conversations,
                    "converted": t.converted,
                    "conversion_rate": round(t.conversion_rate, 4),
                    "last_used": t.last_used,
                }
                for t in page.items
            ]
        )
        return
    rows = [
        [
            t.template_id,
            _short(t.name or examples[t.template_id], 48),
            str(t.uses),
            _percent(t.replied, t.uses),
            _percent(t.converted, t.conversations),
            format_datetime(t.last_used),
        ]
        for t in page.items
    ]
    emit(
        [
            heading("Templates of outbound mail"),
            *table(["ID", "Name or example", "Uses", "Replied", "Quote/booking", "Last"], rows),
            *page_footer(page, "template"),
            *(
                ['Name one: crm template name ID "Tilbud flytterengøring"']
                if any(t.name is None for t in page.items)
                else []
            ),
        ]
    )


@app.command("sentiment")
def sentiment(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="At most this many customers.")] = DEFAULT_LIMIT,
    show_all: AllOption = False,
    as_json: JsonFlag = False,
) -> None:
    """Customers whose latest mail is negative (the follow-up list), most negative first."""
    from crm_core.insight.reports import follow_up_page

    with session_for(ctx) as session:
        page = follow_up_page(session, limit=None if show_all else limit)
    if as_json:
        print_json(
            [
                {
                    "customer_id": f.customer_id,
                    "name": f.name,
                    "email": f.email,
                    "message_id": f.message_id,
                    "sent_at": f.sent_at,
                    "score": f.score,
                    "previous_score": f.previous_score,
                    "preview": f.preview,
                }
                for f in page.items
            ]
        )
        return
    rows = [
        [
            f.name,
            text_or_empty(f.email),
            format_datetime(f.sent_at),
            f"{f.score:+.2f}",
            "-" if f.previous_score is None else f"{f.previous_score:+.2f}",
            _short(f.preview, 50),
        ]
        for f in page.items
    ]
    emit(
        [
            heading("Follow up: the latest mail is negative"),
            *table(["Customer", "Email", "Latest mail", "Score", "Before", "Preview"], rows),
            *page_footer(page, "customer"),
        ]
    )
