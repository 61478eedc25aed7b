"""``crm conversation …``: list, read (show), close, reopen and archive conversations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.text import Text
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.conversations import message_counts
from crm_core.errors import ValidationError
from crm_core.messages import latest_conversation_messages
from crm_core.models import Conversation, Customer, EmailMessage
from crm_core.statuses import MessageStatus
from worker.cli.context import session_for
from worker.cli.customers import find_customer
from worker.cli.display import size
from worker.cli.note_views import note_lines, notes_json
from worker.cli.output import (
    JsonFlag,
    Line,
    block,
    emit,
    format_datetime,
    model_dict,
    parse_local_datetime,
    print_json,
    printable,
    rule,
    success,
    table,
    text_or_empty,
)
from worker.cli.paging import showing

app = typer.Typer(no_args_is_help=True)

ConversationId = Annotated[str, typer.Argument(help="Conversation ID.", show_default=False)]
Limit = Annotated[int, typer.Option(min=1, help="Show at most this many.")]


def parse_since(value: str | None, option: str = "--since") -> Any:
    if value is None:
        return None
    try:
        return parse_local_datetime(value)
    except ValueError as exc:
        raise ValidationError(f"{option}: {exc}") from None


def _customer_label(customer: Customer | None) -> str:
    if customer is None:
        return "-"
    return f"{customer.name} <{customer.email}>" if customer.email else customer.name


def _customers(session: Session, conversations: list[Conversation]) -> dict[str, Customer]:
    ids = {c.customer_id for c in conversations if c.customer_id}
    found = (services.get_customer_by_id(session, customer_id) for customer_id in sorted(ids))
    return {customer.id: customer for customer in found if customer is not None}


@app.command("list")
def list_conversations(
    ctx: typer.Context,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Customer email or ID.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="active, closed or archived.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Last contact on or after this date, e.g. 01.10.2025."),
    ] = None,
    limit: Limit = 50,
    as_json: JsonFlag = False,
) -> None:
    """Conversations, most recently active first."""
    start = parse_since(since)
    with session_for(ctx) as session:
        customer_id = find_customer(session, customer).id if customer else None
        filters: dict[str, Any] = {"customer_id": customer_id, "status": status, "since": start}
        found = services.list_conversations(session, limit=limit, **filters)
        total = services.count_conversations(session, **filters)
        counts = message_counts(session, [c.id for c in found])
        customers = _customers(session, found)
        if as_json:
            print_json(
                {
                    "total": total,
                    "conversations": [
                        {**model_dict(c), "message_count": counts.get(c.id, 0)} for c in found
                    ],
                }
            )
            return
        rows = [
            [
                format_datetime(c.last_contact_at),
                customers[c.customer_id].name if c.customer_id in customers else "-",
                printable(text_or_empty(c.subject))[:60],
                text_or_empty(c.status),
                str(counts.get(c.id, 0)),
                c.id,
            ]
            for c in found
        ]
    headers = ["Last contact", "Customer", "Subject", "Status", "Messages", "ID"]
    emit([*table(headers, rows), showing(len(rows), total, "conversation")])


def _message_lines(number: int, message: EmailMessage) -> list[Line]:
    flags = [text_or_empty(message.direction), format_datetime(message.sent_at)]
    if message.status != MessageStatus.SENT:
        flags.append(message.status.value.upper())
    if message.is_ai_generated:
        flags.append(f"AI-written ({message.ai_model})" if message.ai_model else "AI-written")
    fields = [
        ("From", printable(message.from_address)),
        ("To", printable(message.to_address)),
    ]
    if message.cc_address:
        fields.append(("Cc", printable(message.cc_address or "")))
    fields.append(("Subject", printable(text_or_empty(message.subject))))
    for attachment in message.attachments or []:
        name = printable(str(attachment.get("filename") or "(no name)"))
        fields.append(("Attachment", f"{name} ({size(int(attachment.get('size') or 0))})"))
    width = max(len(label) for label, _ in fields) + 2
    return [
        Text(f"#{number}  " + " · ".join(flags), style="bold"),
        *(f"{label + ':':<{width}}{value}" for label, value in fields),
        "",
        *(printable(line) for line in message.body.rstrip().splitlines()),
        rule(),
    ]


def message_json(message: EmailMessage) -> dict[str, Any]:
    return model_dict(message, exclude={"body_preview"})


@app.command("show")
def show(
    ctx: typer.Context,
    conversation_id: ConversationId,
    limit: Annotated[
        int, typer.Option(min=1, help="Show at most this many messages (the newest).")
    ] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Read a conversation: every message, oldest first, with its notes."""
    with session_for(ctx) as session:
        conversation = services.get_conversation(session, conversation_id)
        messages, total = latest_conversation_messages(session, conversation.id, limit)
        customer = (
            services.get_customer_by_id(session, conversation.customer_id)
            if conversation.customer_id
            else None
        )
        notes = services.list_notes(session, "conversation", conversation.id)
        note_total = services.count_notes(session, "conversation", conversation.id)
        if as_json:
            print_json(
                {
                    **model_dict(conversation),
                    "message_count": total,
                    "messages": [message_json(m) for m in messages],
                    **notes_json(notes, note_total),
                }
            )
            return
        details = [
            ("ID", conversation.id),
            ("Customer", _customer_label(customer)),
            ("Lead", text_or_empty(conversation.lead_id)),
            ("Status", text_or_empty(conversation.status)),
            ("Channel", text_or_empty(conversation.channel)),
            ("Last contact", format_datetime(conversation.last_contact_at)),
            ("Messages", str(total)),
        ]
        title = printable(conversation.subject or "(no subject)")
        lines: list[Line] = [*block(f"Conversation: {title}", details)]
        lines += [*note_lines(notes, note_total), ""] if notes else []
        if total > len(messages):
            lines.append(f"The newest {len(messages)} of {total} messages (--limit to see more).")
        first = total - len(messages) + 1
        for offset, message in enumerate(messages):
            lines += _message_lines(first + offset, message)
    emit(lines)


def _set_status(
    ctx: typer.Context,
    conversation_id: str,
    action: Callable[[Session, str], Conversation],
    as_json: bool,
) -> None:
    with session_for(ctx) as session:
        conversation = action(session, conversation_id)
        data = model_dict(conversation)
        title = f"Conversation {conversation.id} is {conversation.status.value}."
    if as_json:
        print_json(data)
    else:
        emit(success(title))


@app.command("close")
def close(ctx: typer.Context, conversation_id: ConversationId, as_json: JsonFlag = False) -> None:
    """Close a conversation (new mail in it is still filed there)."""
    _set_status(ctx, conversation_id, services.close_conversation, as_json)


@app.command("reopen")
def reopen(ctx: typer.Context, conversation_id: ConversationId, as_json: JsonFlag = False) -> None:
    """Make a closed or archived conversation active again."""
    _set_status(ctx, conversation_id, services.reopen_conversation, as_json)


@app.command("archive")
def archive(ctx: typer.Context, conversation_id: ConversationId, as_json: JsonFlag = False) -> None:
    """Archive a conversation: kept, out of the way."""
    _set_status(ctx, conversation_id, services.archive_conversation, as_json)
