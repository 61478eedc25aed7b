"""``crm lead``, ``crm quote`` and ``crm booking``: the workflow from request to job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.customers import get_customer
from crm_core.errors import ValidationError
from crm_core.models import Booking, Quote
from crm_core.normalize import normalize_email
from crm_core.quotes import quote_total
from crm_core.stats.service import owner_of
from worker.cli.context import session_for
from worker.cli.customers import find_customer
from worker.cli.outcomes import outcome_session
from worker.cli.output import (
    JsonFlag,
    Line,
    emit,
    format_datetime,
    format_kr,
    model_dict,
    parse_local_datetime,
    plural,
    print_json,
    success,
    text_or_empty,
)
from worker.cli.unlinked_leads import unlinked_leads

lead_app = typer.Typer(no_args_is_help=True)
lead_app.command("unlinked")(unlinked_leads)
quote_app = typer.Typer(no_args_is_help=True)
booking_app = typer.Typer(no_args_is_help=True)

Id = Annotated[str, typer.Argument(help="ID.", show_default=False)]
OptionalText = Annotated[str | None, typer.Option(show_default=False)]


def _show(as_json: bool, data: dict[str, Any], lines: list[Line]) -> None:
    if as_json:
        print_json(data)
    else:
        emit(lines)


def _owner_line(session: Session, lead_id: str | None, customer_id: str | None) -> list[Line]:
    """The customer a quote or booking counts for, with its figures now."""
    owner = owner_of(session, lead_id=lead_id, customer_id=customer_id)
    if owner is None:
        return ["Not linked to a customer yet: it counts once its lead is linked."]
    customer = get_customer(session, owner)
    return [
        f"{customer.name}: {plural(customer.total_bookings, 'booking')}, "
        f"{format_kr(customer.total_revenue)} revenue"
    ]


def _customer_id(session: Session, key: str | None) -> str | None:
    """A customer named by email is looked up here; an ID goes to the service as it is,
    which checks the rest of the input before it looks the customer up."""
    if key is None or "@" not in key:
        return key
    return find_customer(session, key).id


# --- leads ------------------------------------------------------------------------


@lead_app.command("create")
def create_lead(
    ctx: typer.Context,
    source: Annotated[str, typer.Option(help="Where the lead came from.")] = "manual",
    name: OptionalText = None,
    email: OptionalText = None,
    phone: OptionalText = None,
    address: OptionalText = None,
    message: Annotated[str | None, typer.Option(help="What the customer asked for.")] = None,
    link: Annotated[
        bool,
        typer.Option(
            "--link", help="Find or create the customer with this email and link the lead."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a lead (not linked to a customer unless --link is given)."""
    if email:
        normalize_email(email)  # refuse a malformed address with a clear message
    if link and not email:
        raise ValidationError("--link needs --email")
    with session_for(ctx) as session:
        lead = services.create_lead(
            session,
            source=source,
            name=name,
            email=email,
            phone=phone,
            address=address,
            message=message,
        )
        fields = [
            ("ID", lead.id),
            ("Source", lead.source),
            ("Name", text_or_empty(lead.name)),
            ("Email", text_or_empty(lead.email)),
            ("Phone", text_or_empty(lead.phone)),
            ("Status", text_or_empty(lead.status)),
        ]
        if link and email:
            customer = services.find_or_create_customer(session, email, name)
            lead = services.link_lead_to_customer(session, lead.id, customer.id)
            fields.append(("Customer", f"{customer.name} ({customer.id})"))
        data = model_dict(lead)
    _show(as_json, data, success("Lead created.", fields))


# --- quotes -----------------------------------------------------------------------


def _quote_fields(quote: Quote) -> list[tuple[str, str]]:
    return [
        ("ID", quote.id),
        ("Lead", text_or_empty(quote.lead_id)),
        ("Customer", text_or_empty(quote.customer_id)),
        ("Total", format_kr(quote.total)),
        ("Status", text_or_empty(quote.status)),
    ]


@quote_app.command("create")
def create_quote(
    ctx: typer.Context,
    total: Annotated[str, typer.Option(help="Total in kr, e.g. 3450.50.", show_default=False)],
    lead: Annotated[str | None, typer.Option("--lead", help="Lead ID.")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Customer email or ID.")
    ] = None,
    description: OptionalText = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a draft quote for a lead, a customer (email or ID), or both."""
    quote_total(total)  # a total that cannot be one is the first thing to hear about
    with session_for(ctx) as session:
        customer_id = _customer_id(session, customer)
        quote = services.create_quote(
            session, total=total, lead_id=lead, customer_id=customer_id, description=description
        )
        data, lines = model_dict(quote), success("Quote created.", _quote_fields(quote))
    _show(as_json, data, lines)


def _quote_step(
    ctx: typer.Context, quote_id: str, action: Callable[[Session, str], Quote], as_json: bool
) -> None:
    with outcome_session(ctx) as session:
        quote = action(session, quote_id)
        title = f"Quote {quote.id} is {text_or_empty(quote.status)} ({format_kr(quote.total)})."
        lines = success(title) + _owner_line(session, quote.lead_id, quote.customer_id)
        data = model_dict(quote)
    _show(as_json, data, lines)


@quote_app.command("send")
def send_quote(ctx: typer.Context, quote_id: Id, as_json: JsonFlag = False) -> None:
    """Mark a draft quote as sent."""
    _quote_step(ctx, quote_id, services.send_quote, as_json)


@quote_app.command("accept")
def accept_quote(ctx: typer.Context, quote_id: Id, as_json: JsonFlag = False) -> None:
    """Accept a quote: its total counts as the customer's revenue."""
    _quote_step(ctx, quote_id, services.accept_quote, as_json)


@quote_app.command("reject")
def reject_quote(ctx: typer.Context, quote_id: Id, as_json: JsonFlag = False) -> None:
    """Reject a quote."""
    _quote_step(ctx, quote_id, services.reject_quote, as_json)


# --- bookings ---------------------------------------------------------------------


def _booking_fields(booking: Booking) -> list[tuple[str, str]]:
    return [
        ("ID", booking.id),
        ("Scheduled", format_datetime(booking.scheduled_at)),
        ("Quote", text_or_empty(booking.quote_id)),
        ("Lead", text_or_empty(booking.lead_id)),
        ("Customer", text_or_empty(booking.customer_id)),
        ("Status", text_or_empty(booking.status)),
    ]


@booking_app.command("create")
def create_booking(
    ctx: typer.Context,
    at: Annotated[
        str,
        typer.Option(
            "--at",
            help="When: 2025-10-01T09:00 or 01.10.2025 09:00 (Copenhagen time unless an "
            "offset is given).",
            show_default=False,
        ),
    ],
    quote: Annotated[str | None, typer.Option("--quote", help="Quote ID.")] = None,
    lead: Annotated[str | None, typer.Option("--lead", help="Lead ID.")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Customer email or ID.")
    ] = None,
    notes: OptionalText = None,
    allow_second: Annotated[
        bool,
        typer.Option("--allow-second", help="Book a quote that has a booking already."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Book a job for a quote, a lead or a customer (a quote brings its lead and customer).

    A quote gets one booking unless --allow-second is given.
    """
    try:
        scheduled_at = parse_local_datetime(at)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    with outcome_session(ctx) as session:
        booking = services.create_booking(
            session,
            scheduled_at=scheduled_at,
            quote_id=quote,
            lead_id=lead,
            customer_id=_customer_id(session, customer),
            notes=notes,
            allow_second=allow_second,
        )
        lines = success("Booking created.", _booking_fields(booking))
        lines += _owner_line(session, booking.lead_id, booking.customer_id)
        data = model_dict(booking)
    _show(as_json, data, lines)


@booking_app.command("cancel")
def cancel_booking(ctx: typer.Context, booking_id: Id, as_json: JsonFlag = False) -> None:
    """Cancel a booking; it no longer counts for the customer."""
    with outcome_session(ctx) as session:
        booking = services.cancel_booking(session, booking_id)
        lines = success(f"Booking {booking.id} cancelled.")
        lines += _owner_line(session, booking.lead_id, booking.customer_id)
        data = model_dict(booking)
    _show(as_json, data, lines)
