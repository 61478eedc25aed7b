"""``crm quote list``, ``crm booking list`` and ``crm booking complete`` (creating and
moving quotes and bookings is in worker/cli/sales.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.customers import customer_names
from crm_core.errors import ValidationError
from crm_core.models import Booking, Quote
from crm_core.stats.service import owners_of
from worker.cli.context import session_for
from worker.cli.conversations import parse_since
from worker.cli.customers import find_customer
from worker.cli.output import (
    JsonFlag,
    emit,
    format_datetime,
    format_kr,
    model_dict,
    print_json,
    success,
    table,
    text_or_empty,
)
from worker.cli.paging import showing
from worker.cli.sales import booking_app, quote_app

Limit = Annotated[int, typer.Option(min=1, help="Show at most this many.")]


def _owner_names(session: Session, items: Sequence[Quote | Booking]) -> dict[str, str]:
    """The name of the customer each quote or booking counts for, by its id."""
    owners = owners_of(session, [(item.lead_id, item.customer_id) for item in items])
    names = customer_names(session, [owner for owner in owners if owner])
    return {item.id: names.get(owners[at] or "", "-") for at, item in enumerate(items)}


@quote_app.command("list")
def list_quotes(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="draft, sent, accepted or rejected.")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Customer email or ID.")
    ] = None,
    limit: Limit = 50,
    as_json: JsonFlag = False,
) -> None:
    """Quotes, newest first, with the customer each counts for."""
    with session_for(ctx) as session:
        customer_id = find_customer(session, customer).id if customer else None
        quotes = services.list_quotes(session, status=status, customer_id=customer_id, limit=limit)
        total = services.count_quotes(session, status=status, customer_id=customer_id)
        if as_json:
            print_json({"total": total, "quotes": [model_dict(q) for q in quotes]})
            return
        names = _owner_names(session, quotes)
        rows = [
            [
                format_datetime(q.created_at)[:10],
                names[q.id],
                format_kr(q.total),
                q.status.value,
                text_or_empty(q.description)[:40],
                q.id,
            ]
            for q in quotes
        ]
    headers = ["Created", "Customer", "Total", "Status", "Description", "ID"]
    emit([*table(headers, rows), showing(len(rows), total, "quote")])


@booking_app.command("list")
def list_bookings(
    ctx: typer.Context,
    start: Annotated[
        str | None, typer.Option("--from", help="Scheduled on or after, e.g. 01.10.2025.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Scheduled before, e.g. 01.11.2025.")
    ] = None,
    status: Annotated[str | None, typer.Option(help="scheduled, completed or cancelled.")] = None,
    limit: Limit = 50,
    as_json: JsonFlag = False,
) -> None:
    """Bookings, soonest first."""
    period = {"start": parse_since(start, "--from"), "end": parse_since(end, "--to")}
    with session_for(ctx) as session:
        bookings = services.list_bookings(session, status=status, limit=limit, **period)
        total = services.count_bookings(session, status=status, **period)
        if as_json:
            print_json({"total": total, "bookings": [model_dict(b) for b in bookings]})
            return
        names = _owner_names(session, bookings)
        rows = [
            [
                format_datetime(b.scheduled_at)[:16],
                names[b.id],
                b.status.value,
                text_or_empty(b.quote_id),
                b.id,
            ]
            for b in bookings
        ]
    headers = ["Scheduled", "Customer", "Status", "Quote", "ID"]
    emit([*table(headers, rows), showing(len(rows), total, "booking")])


@booking_app.command("complete")
def complete(
    ctx: typer.Context,
    booking_id: Annotated[str, typer.Argument(help="Booking ID.", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Mark a booking as done (a cancelled booking cannot be completed)."""
    with session_for(ctx) as session:
        booking = services.complete_booking(session, booking_id)
        data = model_dict(booking)
        title = f"Booking {booking.id} completed ({format_datetime(booking.scheduled_at)})."
    if as_json:
        print_json(data)
    else:
        emit(success(title))


__all__ = ["ValidationError", "booking_app", "quote_app"]
