"""``crm quarantine list | show ID | retry ID… | retry --all``: messages that could not be
processed."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer

from crm_core.inbox import (
    get_received_message,
    list_received,
    quarantined_ids,
    raw_head,
    reset_for_retry,
)
from crm_core.statuses import IngestOutcome
from worker.cli.context import CliError, session_for
from worker.cli.jobs import runtime_for
from worker.cli.output import (
    JsonFlag,
    block,
    emit,
    format_datetime,
    plural,
    print_json,
    success,
    table,
)
from worker.intake import send_staged
from worker.mail.message import Unparseable
from worker.mail.parse import parse_message
from worker.runtime import unit_of_work

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_quarantined(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Quarantined messages, newest first."""
    with session_for(ctx) as session:
        rows = list_received(session, outcome=IngestOutcome.QUARANTINED, limit=limit)
        data = [row.summary() | {"staged_at": row.staged_at.isoformat()} for row in rows]
        cells = [
            [
                row.id,
                row.mailbox,
                row.gmail_message_id,
                format_datetime(row.staged_at),
                row.reason or "",
            ]
            for row in rows
        ]
    if as_json:
        print_json(data)
        return
    emit(
        [
            *table(["ID", "Mailbox", "Gmail id", "Staged", "Reason"], cells),
            f"Total: {plural(len(cells), 'quarantined message')}",
        ]
    )


@app.command("show")
def show(ctx: typer.Context, received_id: str, as_json: JsonFlag = False) -> None:
    """One quarantined message: why, and its headers (never its body)."""
    with session_for(ctx) as session:
        row = get_received_message(session, received_id)
        data = row.summary()
        parsed = parse_message(raw_head(session, received_id, 65536))
        header_fields = []
        if not isinstance(parsed, Unparseable):
            header_fields = [
                ("From", str(parsed.from_ or "")),
                ("To", ", ".join(str(a) for a in parsed.to)),
                ("Subject", parsed.subject),
                ("Message-ID", parsed.message_id or ""),
            ]
    if as_json:
        print_json(data | {"headers": dict(header_fields)})
        return
    emit(
        block(
            "Quarantined message",
            [
                ("ID", row.id),
                ("Mailbox", row.mailbox),
                ("Gmail id", row.gmail_message_id),
                ("Thread", row.gmail_thread_id or ""),
                ("Outcome", row.outcome.value),
                ("Reason", row.reason or ""),
                ("Attempts", str(row.attempts)),
                ("Size", f"{row.size} bytes"),
                *header_fields,
            ],
        )
    )


@app.command("retry")
def retry(
    ctx: typer.Context,
    received_ids: Annotated[
        list[str] | None, typer.Argument(help="IDs from `crm quarantine list`.")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every quarantined message (after fixing the cause).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Process quarantined messages again (after a fix or a configuration change)."""
    if bool(received_ids) == every:
        raise CliError("name the messages to retry by ID, or give --all")
    runtime = runtime_for(ctx)
    with unit_of_work(runtime.sessions) as session:
        ids = quarantined_ids(session) if every else list(dict.fromkeys(received_ids or []))
        send_staged(reset_for_retry(session, ids))
    with session_for(ctx) as session:
        found = {row.id: row for row in list_received(session, ids=ids, limit=None)}
        retried = [found[received_id].summary() for received_id in ids]
    if as_json:
        print_json(retried)
        return
    if len(retried) == 1:
        (one,) = retried
        fields = [("Outcome", one["outcome"]), ("Reason", one["reason"] or "")]
        emit(success(f"Retried {one['mailbox']}:{one['gmail_message_id']}", fields))
        return
    counts = Counter(str(row["outcome"]) for row in retried)
    emit(
        success(
            f"Retried {plural(len(retried), 'message')}",
            [(outcome.capitalize(), str(n)) for outcome, n in sorted(counts.items())],
        )
    )
