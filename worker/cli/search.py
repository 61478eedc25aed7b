"""``crm search TEXT``: customers from any fragment and messages by their text."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.text import Text
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.errors import ValidationError
from crm_core.search import CustomerHit, MessageHit, SearchResults, Snippet
from crm_core.statuses import Direction
from worker.cli.context import session_for
from worker.cli.output import (
    JsonFlag,
    Line,
    emit,
    format_datetime,
    heading,
    jsonable,
    parse_local_datetime,
    plural,
    print_json,
    printable,
)

DEFAULT_LIMIT = 10
HIGHLIGHT = "bold yellow"
FIELD_LABELS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "company_name": "company",
    "address": "address",
}


class DirectionChoice(StrEnum):
    IN = "in"
    OUT = "out"


def highlighted(snippet: Snippet, indent: str = "    ") -> Text:
    """The snippet with its matches styled; each piece made printable on its own, so
    the spans still fit whatever the mail held."""
    line = Text(indent)
    position = 0
    for start, end in snippet.highlights:
        line.append(printable(snippet.text[position:start]))
        line.append(printable(snippet.text[start:end]), style=HIGHLIGHT)
        position = end
    line.append(printable(snippet.text[position:]))
    return line


def _count(results: SearchResults[Any], noun: str) -> str:
    if not results.hits:
        return "none"
    more = "+" if results.total_is_lower_bound else ""
    total = f"{results.total:,}{more}"
    if len(results.hits) == results.total:
        return plural(results.total, noun)
    return f"{len(results.hits)} of {total} {noun}s"


def customer_lines(results: SearchResults[CustomerHit]) -> list[Line]:
    lines: list[Line] = [heading(f"Customers ({_count(results, 'customer')})")]
    for hit in results.hits:
        details = [printable(value) for value in (hit.email, hit.phone) if value]
        lines.append(f"  {' · '.join([printable(hit.name), *details])}   {hit.customer_id}")
        label = FIELD_LABELS.get(hit.matched_field, hit.matched_field)
        lines.append(highlighted(hit.snippet, f"    {label}: "))
    if not results.hits:
        lines.append("  No customer matches.")
    return lines


def message_lines(results: SearchResults[MessageHit]) -> list[Line]:
    lines: list[Line] = [heading(f"Messages ({_count(results, 'message')})")]
    for hit in results.hits:
        arrow = "in " if hit.direction is Direction.INBOUND else "out"
        who = printable(hit.customer_name or "") or "no customer"
        subject = printable(hit.subject or "") or "(no subject)"
        lines.append(f"  {format_datetime(hit.sent_at)}  {arrow}  {who} — {subject}")
        lines.append(highlighted(hit.snippet))
        lines.append(f"    message {hit.message_id} · conversation {hit.conversation_id}")
    if not results.hits:
        lines.append("  No message matches.")
    return lines


def results_json(results: SearchResults[Any]) -> dict[str, Any]:
    def hit_json(hit: CustomerHit | MessageHit) -> dict[str, Any]:
        data = {key: jsonable(value) for key, value in vars(hit).items() if key != "snippet"}
        data["snippet"] = hit.snippet.text  # print_json escapes what a terminal obeys
        data["highlights"] = [list(span) for span in hit.snippet.highlights]
        return data

    return {
        "total": results.total,
        "total_is_lower_bound": results.total_is_lower_bound,
        "hits": [hit_json(hit) for hit in results.hits],
    }


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_local_datetime(value)
    except ValueError as exc:
        raise ValidationError(f"--since: {exc}") from None


def search(
    ctx: typer.Context,
    text: Annotated[
        str,
        typer.Argument(
            help='What to look for: words, a "phrase", -excluded, OR; a name, an email, '
            "a phone number in any spelling.",
            show_default=False,
        ),
    ],
    customers_only: Annotated[
        bool, typer.Option("--customers", help="Search customers only.")
    ] = False,
    messages_only: Annotated[
        bool, typer.Option("--messages", help="Search messages only.")
    ] = False,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's messages (ID).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only messages sent since this date (2025-10-01 or 01.10.2025)."),
    ] = None,
    direction: Annotated[
        DirectionChoice | None, typer.Option(help="Only messages in or out.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=500, help="Show at most this many of each kind.")
    ] = DEFAULT_LIMIT,
    as_json: JsonFlag = False,
) -> None:
    """Search customers (name, email, phone, company, address; small typos forgiven)
    and the text of every message (Danish stemming on PostgreSQL), best first."""
    if customers_only and messages_only:
        raise ValidationError("give --customers or --messages, not both (neither searches both)")
    filtered = customer is not None or since is not None or direction is not None
    if customers_only and filtered:
        raise ValidationError(
            "--customer, --since and --direction filter messages; leave out --customers"
        )
    want_customers = customers_only or not (messages_only or filtered)
    want_messages = not customers_only
    since_at = _since(since)
    output: dict[str, Any] = {}
    lines: list[Line] = []
    with session_for(ctx) as session:
        if want_customers:
            found_customers = services.search_customers(session, text, limit=limit)
            output["customers"] = results_json(found_customers)
            lines += customer_lines(found_customers)
        if want_messages:
            found_messages = services.search_messages(
                session,
                text,
                customer_id=customer,
                since=since_at,
                direction=(
                    None
                    if direction is None
                    else Direction.INBOUND
                    if direction is DirectionChoice.IN
                    else Direction.OUTBOUND
                ),
                limit=limit,
            )
            output["messages"] = results_json(found_messages)
            lines += ([""] if lines else []) + message_lines(found_messages)
    if as_json:
        print_json(output)
    else:
        emit(lines)


SUGGESTIONS = 3


def not_found_with_suggestions(session: Session, kind: str, key: str) -> str:
    """``customer not found: KEY``, and on the same line the closest few customers."""
    message = f"{kind} not found: {key}"
    try:
        found = services.search_customers(session, key, limit=SUGGESTIONS)
    except ValidationError:
        return message
    if not found.hits:
        return message
    closest = "; ".join(
        f"{printable(hit.name)} ({hit.email or hit.customer_id})" for hit in found.hits
    )
    return f"{message}; closest: {closest} (give the email or ID)"
