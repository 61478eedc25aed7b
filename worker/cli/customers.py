"""``crm customer …``: create, list, get, update, delete, stats, conversations, link-lead."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from crm_core import analytics, services
from crm_core.conversations import customer_conversation_page
from crm_core.customers import CustomerChanges, get_customer
from crm_core.customers.bulk_changes import change_customer_tags
from crm_core.errors import ValidationError
from crm_core.insight.reports import sentiment_trend
from crm_core.leads import customer_leads_page
from crm_core.models import Conversation, Customer, Lead
from crm_core.paging import DEFAULT_LIMIT, Page
from worker.cli.context import CliError, session_for
from worker.cli.insight_views import trend_text
from worker.cli.lazy import Lazy, lazy_group
from worker.cli.note_views import note_lines, notes_json
from worker.cli.output import (
    JsonFlag,
    Line,
    block,
    emit,
    field_lines,
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
from worker.cli.paging import AfterOption, AllOption, page_footer

# Customer files and bulk changes (worker/cli/customer_transfer.py) load when used.
TRANSFER = "worker.cli.customer_transfer"
app = typer.Typer(
    no_args_is_help=True,
    cls=lazy_group(
        {
            "export": Lazy(TRANSFER, "export", ""),
            "import": Lazy(TRANSFER, "import_file", ""),
            "bulk": Lazy(TRANSFER, "bulk_app", "Change the tags or status of many customers."),
        }
    ),
)

CUSTOMER_ID = Annotated[str, typer.Argument(help="Customer ID.", show_default=False)]
TagOption = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", help="A tag; repeat for several.", show_default=False),
]
LIST_WIDTHS = (26, 31, 9, 11, 10)  # the seed's columns
SHOWN_IN_GET = 20  # leads and conversations in `customer get`; `customer conversations` lists more


# --- rendering --------------------------------------------------------------------


def customer_json(customer: Customer) -> dict[str, Any]:
    return model_dict(customer, exclude={"email_normalized"})


def summary_fields(customer: Customer) -> list[tuple[str, str]]:
    """The seed's ✅ block fields, plus the optional ones that are set."""
    fields = [
        ("ID", customer.id),
        ("Name", customer.name),
        ("Email", text_or_empty(customer.email)),
        ("Phone", text_or_empty(customer.phone)),
    ]
    optional = [
        ("Company", customer.company_name),
        ("Address", customer.address),
        ("Tags", ", ".join(customer.tags or [])),
    ]
    fields += [(label, value) for label, value in optional if value]
    fields += [
        ("Status", text_or_empty(customer.status)),
        ("Created", format_datetime(customer.created_at)),
    ]
    return fields


def list_row(customer: Customer) -> list[str]:
    return [
        customer.name,
        text_or_empty(customer.email),
        str(customer.total_leads),
        str(customer.total_bookings),
        format_kr(customer.total_revenue),
    ]


def stats_fields(customer: Customer) -> list[tuple[str, str]]:
    return [
        ("Leads", str(customer.total_leads)),
        ("Bookings", str(customer.total_bookings)),
        ("Revenue", format_kr(customer.total_revenue)),
        ("Last contact", format_datetime(customer.last_contact_at, "never")),
    ]


def stats_json(customer: Customer) -> dict[str, Any]:
    data = customer_json(customer)
    keys = ("id", "name", "total_leads", "total_bookings", "total_revenue", "last_contact_at")
    return {key: data[key] for key in keys}


def message_counts(session: Session, conversations: Sequence[Conversation]) -> dict[str, int]:
    return analytics.message_counts(session, [conversation.id for conversation in conversations])


def conversation_json(conversation: Conversation, counts: dict[str, int]) -> dict[str, Any]:
    return {**model_dict(conversation), "message_count": counts.get(conversation.id, 0)}


def conversation_table(conversations: Sequence[Conversation], counts: dict[str, int]) -> list[Line]:
    rows = [
        [
            text_or_empty(conversation.subject),
            text_or_empty(conversation.status),
            text_or_empty(conversation.channel),
            str(counts.get(conversation.id, 0)),
            format_datetime(conversation.last_contact_at),
            conversation.id,
        ]
        for conversation in conversations
    ]
    headers = ["Subject", "Status", "Channel", "Messages", "Last contact", "ID"]
    return table(headers, rows)


def lead_table(leads: Sequence[Lead]) -> list[Line]:
    rows = [
        [
            lead.id,
            lead.source,
            text_or_empty(lead.name),
            text_or_empty(lead.status),
            format_datetime(lead.created_at),
        ]
        for lead in leads
    ]
    return table(["ID", "Source", "Name", "Status", "Created"], rows)


def shown(page: Page[Any]) -> str:
    """The count in a heading: "3", or "newest 20 of 345" when not all are shown."""
    return str(page.total) if page.complete else f"newest {len(page)} of {page.total}"


def find_customer(session: Session, key: str) -> Customer:
    """By email (any letter case) when the key has an @, else by ID; when neither
    finds one, the error names the closest customers by search (a name, say)."""
    key = key.strip()
    if not key:
        raise CliError("no customer given: give the customer's email address or ID")
    customer = (
        services.get_customer_by_email(session, key)
        if "@" in key
        else services.get_customer_by_id(session, key)
    )
    if customer is None:
        from worker.cli.search import not_found_with_suggestions

        raise CliError(not_found_with_suggestions(session, "customer", key))
    return customer


# --- commands ---------------------------------------------------------------------


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Full name.", show_default=False)],
    email: Annotated[str | None, typer.Argument(help="Email address (unique).")] = None,
    phone: Annotated[str | None, typer.Argument(help="Phone number.")] = None,
    tag: TagOption = None,
    address: Annotated[str | None, typer.Option(help="Postal address.")] = None,
    company: Annotated[str | None, typer.Option(help="Company name.")] = None,
    notes: Annotated[str | None, typer.Option(help="Free-text notes.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a customer. An email that already belongs to a customer is refused."""
    with session_for(ctx) as session:
        customer = services.create_customer(
            session,
            name=name,
            email=email or None,
            phone=phone or None,
            address=address,
            company_name=company,
            notes=notes,
            tags=tag or [],
        )
        output = customer_json(customer) if as_json else summary_fields(customer)
    if isinstance(output, dict):
        print_json(output)
    else:
        emit(success("Customer created successfully!", output))


@app.command("list")
def list_customers(
    ctx: typer.Context,
    status: Annotated[
        str, typer.Argument(help="Status to list: active, inactive or blocked.")
    ] = "active",
    tag: TagOption = None,
    any_tag: Annotated[
        bool, typer.Option("--any-tag", help="Match customers with any of the tags, not all.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = DEFAULT_LIMIT,
    after: AfterOption = None,
    as_json: JsonFlag = False,
) -> None:
    """List customers with their leads, bookings and revenue, newest first, a page at a
    time (the last line tells how to get the next page)."""
    with session_for(ctx) as session:
        page = services.customer_page(
            session,
            status=status,
            tags=tag or [],
            match="any" if any_tag else "all",
            limit=limit,
            after=after,
        )
        if as_json:
            print_json([customer_json(customer) for customer in page.items])
            return
        rows = [list_row(customer) for customer in page.items]
    headers = ["Name", "Email", "Leads", "Bookings", "Revenue"]
    # Quoted for the shell: a tag may hold spaces or be empty ("Ny kunde", "").
    again = " ".join(
        [
            "crm customer list",
            shlex.quote(status),
            *(f"--tag {printable(shlex.quote(t))}" for t in tag or []),
            *(["--any-tag"] * any_tag),
        ]
        + ([f"--limit {limit}"] if limit != DEFAULT_LIMIT else [])
    )
    footer = page_footer(page, "customer", next_command=again, lift=None)
    emit([*table(headers, rows, LIST_WIDTHS), *footer])


@app.command("get")
def get(
    ctx: typer.Context,
    email_or_id: Annotated[
        str, typer.Argument(help="Email address (any letter case) or customer ID.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Show a customer: details, stats, last contact, tags, leads and conversations."""
    with session_for(ctx) as session:
        customer = find_customer(session, email_or_id)
        lead_page = customer_leads_page(session, customer.id, limit=SHOWN_IN_GET)
        conversation_page = customer_conversation_page(session, customer.id, limit=SHOWN_IN_GET)
        leads, conversations = lead_page.items, conversation_page.items
        counts = message_counts(session, conversations)
        aliases = services.aliases_of(session, customer.id)
        notes = services.list_notes(session, "customer", customer.id)
        note_total = services.count_notes(session, "customer", customer.id)
        trend = sentiment_trend(session, customer.id)
        if as_json:
            print_json(
                {
                    **customer_json(customer),
                    "aliases": aliases,
                    "leads": [model_dict(lead) for lead in leads],
                    "conversations": [conversation_json(c, counts) for c in conversations],
                    **notes_json(notes, note_total),
                    "sentiment_trend": [{"sent_at": when, "score": score} for when, score in trend],
                }
            )
            return
        details = [
            ("ID", customer.id),
            ("Name", customer.name),
            ("Email", text_or_empty(customer.email)),
            *([("Aliases", ", ".join(aliases))] if aliases else []),
            ("Phone", text_or_empty(customer.phone)),
            ("Company", text_or_empty(customer.company_name)),
            ("Address", text_or_empty(customer.address)),
            ("Status", text_or_empty(customer.status)),
            *([("Merged into", customer.merged_into_id)] if customer.merged_into_id else []),
            ("Tags", text_or_empty(customer.tags)),
            ("Notes", text_or_empty(customer.notes)),
            ("Created", format_datetime(customer.created_at)),
            ("Updated", format_datetime(customer.updated_at)),
        ]
        lines: list[Line] = [
            *block(f"Customer: {customer.name}", details),
            *field_lines([*stats_fields(customer), ("Sentiment", trend_text(trend))]),
            *note_lines(notes, note_total),
            "",
            heading(f"Leads ({shown(lead_page)})"),
            *(lead_table(leads) if leads else ["No leads."]),
            "",
            heading(f"Conversations ({shown(conversation_page)})"),
            *(conversation_table(conversations, counts) if conversations else ["None."]),
        ]
    emit(lines)


@app.command("update")
def update(
    ctx: typer.Context,
    customer_id: CUSTOMER_ID,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    email: Annotated[str | None, typer.Option(help="New email; '' removes it.")] = None,
    phone: Annotated[str | None, typer.Option(help="New phone; '' removes it.")] = None,
    address: Annotated[str | None, typer.Option(help="New address; '' removes it.")] = None,
    company: Annotated[str | None, typer.Option(help="New company; '' removes it.")] = None,
    notes: Annotated[
        str | None,
        typer.Option(
            help="Replace the free-text notes ('' removes them); `crm note add` keeps dated notes."
        ),
    ] = None,
    status: Annotated[str | None, typer.Option(help="active, inactive or blocked.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="Replace the tags with these; repeat for several."),
    ] = None,
    clear_tags: Annotated[bool, typer.Option("--clear-tags", help="Remove every tag.")] = False,
    add_tag: Annotated[
        list[str] | None, typer.Option("--add-tag", help="Add this tag, keep the others.")
    ] = None,
    remove_tag: Annotated[
        list[str] | None, typer.Option("--remove-tag", help="Remove this tag, keep the others.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a customer's fields; options not given stay as they are."""
    if (add_tag or remove_tag) and (tag or clear_tags):
        raise ValidationError("give --add-tag/--remove-tag or --tag/--clear-tags, not both")
    changes: CustomerChanges = {}
    if name is not None:
        changes["name"] = name
    if email is not None:
        changes["email"] = email or None
    if status is not None:
        changes["status"] = status
    for key, value in (("phone", phone), ("address", address), ("notes", notes)):
        if value is not None:
            changes[key] = value or None  # type: ignore[literal-required]
    if company is not None:
        changes["company_name"] = company or None
    if tag and clear_tags:
        raise ValidationError("give --tag or --clear-tags, not both")
    if tag or clear_tags:
        changes["tags"] = tag or []
    if not changes and not (add_tag or remove_tag):
        raise ValidationError("nothing to update: give at least one option (see --help)")
    with session_for(ctx) as session:
        customer = services.update_customer(session, customer_id, **changes)
        if add_tag or remove_tag:
            customer = change_customer_tags(session, customer_id, add_tag or [], remove_tag or [])
        output = customer_json(customer) if as_json else summary_fields(customer)
    if isinstance(output, dict):
        print_json(output)
    else:
        emit(success("Customer updated.", output))


@app.command("delete")
def delete(ctx: typer.Context, customer_id: CUSTOMER_ID) -> None:
    """Soft delete: the customer becomes inactive; nothing is removed. For erasure
    under GDPR (article 17) use `crm privacy erase EMAIL|ID`."""
    with session_for(ctx) as session:
        services.delete_customer(session, customer_id)
        customer = get_customer(session, customer_id)
        name = customer.name
    emit(
        [
            success(f"Customer {name} ({customer_id}) is now inactive.")[0],
            "Soft delete: nothing was removed; "
            f"`crm customer update {customer_id} --status active` restores it; "
            "`crm privacy erase` erases a person (GDPR).",
        ]
    )


@app.command("stats")
def stats(
    ctx: typer.Context,
    customer_id: Annotated[str | None, typer.Argument(help="Customer ID.")] = None,
    all_customers: Annotated[
        bool, typer.Option("--all", help="Recompute every customer's stats in one statement.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Recompute a customer's stats (leads, bookings, revenue) from the stored rows."""
    if (customer_id is None) == (not all_customers):
        raise ValidationError("give a customer ID or --all")
    with session_for(ctx) as session:
        if all_customers:
            updated = services.recompute_all_stats(session)
            output: Any = {"updated": updated}
            lines: list[Line] = success(f"Stats recomputed for {plural(updated, 'customer')}.")
        else:
            assert customer_id is not None
            customer = services.update_customer_stats(session, customer_id)
            output = stats_json(customer)
            lines = success(
                f"Stats updated for {customer.name}",
                [("ID", customer.id), *stats_fields(customer)],
            )
    if as_json:
        print_json(output)
    else:
        emit(lines)


@app.command("conversations")
def conversations(
    ctx: typer.Context,
    customer_id: CUSTOMER_ID,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = DEFAULT_LIMIT,
    show_all: AllOption = False,
    as_json: JsonFlag = False,
) -> None:
    """The customer's conversations, most recently active first."""
    with session_for(ctx) as session:
        customer = get_customer(session, customer_id)
        page = customer_conversation_page(session, customer_id, None if show_all else limit)
        found = page.items
        counts = message_counts(session, found)
        if as_json:
            print_json([conversation_json(conversation, counts) for conversation in found])
            return
        lines = [
            heading(f"Conversations of {customer.name}"),
            *conversation_table(found, counts),
            *page_footer(page, "conversation"),
        ]
    emit(lines)


@app.command("link-lead")
def link_lead(
    ctx: typer.Context,
    lead_id: Annotated[str, typer.Argument(help="Lead ID.")],
    customer_id: CUSTOMER_ID,
) -> None:
    """Link a lead to a customer and update the stats of both old and new owner."""
    with session_for(ctx) as session:
        services.link_lead_to_customer(session, lead_id, customer_id)
        customer = get_customer(session, customer_id)
        lines = success(
            f"Lead {lead_id} linked to {customer.name}",
            [("Customer", customer.id), *stats_fields(customer)],
        )
    emit(lines)
