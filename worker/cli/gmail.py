"""Gmail from the command line.

- ``crm gmail auth ADDRESS``: authorise read access to a mailbox (writes its token file).
- ``crm gmail status``: the mailboxes, their sync state and last error.
- ``crm sync [--mailbox ADDRESS] [--full]``: run one sync now, in this process.
- ``crm replay-thread THREAD_ID``: bring a thread completely in and ingest it again.
- ``crm audit [--mailbox ADDRESS]``: is every message in Gmail accounted for?
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from googleapiclient.errors import HttpError

from crm_core.db import transaction
from crm_core.inbox import thread_outcomes
from crm_core.mailboxes import list_mailboxes, mark_active
from worker.cli.context import CliError, prepare_embedded_database, session_for, settings_of
from worker.cli.jobs import is_inline, runtime_for
from worker.cli.output import (
    EMPTY,
    JsonFlag,
    Line,
    block,
    emit,
    format_datetime,
    heading,
    plural,
    print_error,
    print_json,
    success,
    table,
)
from worker.cli.values import seconds
from worker.config import Settings
from worker.gmail.audit import AuditResult, audit_mailbox
from worker.gmail.auth_flow import FlowOptions, authorise
from worker.gmail.calls import describe
from worker.gmail.errors import GmailError
from worker.gmail.report import SyncReport
from worker.gmail.sync import sync_mailbox
from worker.gmail.threads import stage_thread
from worker.runtime import Runtime, enqueue, sending

app = typer.Typer(no_args_is_help=True)

MailboxOption = Annotated[
    str | None,
    typer.Option(
        "--mailbox",
        help="Mailbox address. Default: every configured mailbox, else company.mailbox.",
        show_default=False,
    ),
]


def _mailboxes(settings: Settings, wanted: str | None) -> list[str]:
    if wanted:
        return [wanted.strip().lower()]
    configured = [m.address.strip().lower() for m in settings.mailboxes]
    return configured or [settings.company.mailbox.strip().lower()]


def _gmail_failure(exc: Exception) -> CliError:
    return CliError(str(exc) if isinstance(exc, GmailError) else f"Gmail: {describe(exc)}")


# --- crm gmail auth / status -----------------------------------------------------------


@app.command("auth")
def auth(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="The mailbox, e.g. info@rendetalje.dk")],
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the address instead of opening a browser.")
    ] = False,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Local port for Google's redirect (0: any).")
    ] = 0,
) -> None:
    """Authorise read-only access to a Gmail mailbox and save its token file (mode 0600)."""
    settings = settings_of(ctx)
    try:
        path = authorise(settings, address, FlowOptions(open_browser=not no_browser, port=port))
    except GmailError as exc:
        raise CliError(str(exc)) from None
    prepare_embedded_database(settings.database)
    with session_for(ctx) as session:
        mark_active(session, address)
    emit(success(f"Authorised {address.strip().lower()}", [("Token file", str(path))]))


@app.command("status")
def status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Connected mailboxes: status, sync cursor, last syncs and last error."""
    with session_for(ctx) as session:
        rows = list_mailboxes(session)
        data = [
            {
                "address": m.address,
                "status": m.status.value,
                "history_id": m.history_id,
                "last_sync_at": m.last_sync_at,
                "last_full_sync_at": m.last_full_sync_at,
                "last_error": m.last_error,
                "syncing": m.lease_owner is not None,
            }
            for m in rows
        ]
    if as_json:
        print_json(data)
        return
    emit(
        table(
            ["Mailbox", "Status", "History id", "Last sync", "Last error"],
            [
                [
                    str(d["address"]),
                    str(d["status"]),
                    str(d["history_id"] or EMPTY),
                    format_datetime(m.last_sync_at),
                    str(d["last_error"] or EMPTY),
                ]
                for d, m in zip(data, rows, strict=True)
            ],
        )
    )


# --- crm sync -------------------------------------------------------------------------


def sync(
    ctx: typer.Context,
    mailbox: MailboxOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="List every message instead of reading the history.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Sync Gmail into the ledger now, in this process (ingest jobs go to the broker)."""
    runtime = runtime_for(ctx)
    reports: list[SyncReport] = []
    for address in _mailboxes(runtime.settings, mailbox):
        try:
            reports.append(sync_mailbox(runtime, address, full=full))
        except (GmailError, HttpError) as exc:
            raise _gmail_failure(exc) from None
    if as_json:
        print_json([r.as_dict() for r in reports])
    else:
        for report in reports:
            emit(_sync_lines(report))
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


def _sync_lines(report: SyncReport) -> list[Line]:
    if report.status == "already_running":
        return [f"A sync of {report.mailbox} is already running; nothing to do."]
    if report.status == "lease_lost":
        return [f"Another sync of {report.mailbox} took over; it carries on from here."]
    if report.status != "ok":
        print_error(f"{report.mailbox}: {report.error or report.status}")
        return []
    per_message = report.units_per_fetched
    kind = report.kind + (" (history had expired)" if report.history_expired else "")
    return success(
        f"Synced {report.mailbox}: {kind}",
        [
            ("Listed", str(report.listed)),
            ("Fetched", str(report.fetched)),
            ("Staged", f"{report.staged} (ingest jobs sent)"),
            ("Already known", str(report.known)),
            ("Pending resent", str(report.resent)),
            ("Gone", f"{report.gone} (deleted before they could be fetched)"),
            ("Labels updated", str(report.labels_updated)),
            ("Deleted in Gmail", str(report.deleted)),
            ("Out of spam/trash", str(report.reopened)),
            ("History id", f"{report.history_from or EMPTY} → {report.history_to or EMPTY}"),
            (
                "Quota units",
                f"{report.total_units}"
                + (f" ({per_message:.2f} per fetched message)" if per_message else ""),
            ),
            ("Retries", str(report.retries)),
            ("Seconds", f"{report.seconds:.1f}"),
        ],
    )


# --- crm replay-thread ------------------------------------------------------------------


def _thread_rows(runtime: Runtime, mailbox: str, thread_id: str) -> dict[str, tuple[str, str]]:
    with transaction(runtime.sessions) as session:
        rows = thread_outcomes(session, mailbox, thread_id)
    return {gmail_id: (outcome.value, reason or "") for gmail_id, (outcome, reason) in rows.items()}


def replay_thread(
    ctx: typer.Context,
    thread_id: Annotated[str, typer.Argument(help="The Gmail thread id (hexadecimal).")],
    mailbox: Annotated[
        str | None, typer.Option(help="Mailbox of the thread. Default: company.mailbox.")
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            help="With a Redis broker: seconds to wait for the workers.", callback=seconds
        ),
    ] = 60,
    as_json: JsonFlag = False,
) -> None:
    """Fetch a thread's messages missing from the ledger, then ingest the whole thread again."""
    runtime = runtime_for(ctx)
    address = (mailbox or runtime.settings.company.mailbox).strip().lower()
    before = _thread_rows(runtime, address, thread_id)
    try:
        staging = stage_thread(runtime, address, thread_id)
    except (GmailError, HttpError) as exc:
        raise _gmail_failure(exc) from None
    with sending():
        enqueue("replay_thread", address, thread_id)
    deadline = time.monotonic() + (0 if is_inline(ctx) else wait)
    after = _thread_rows(runtime, address, thread_id)
    while any(o == "pending" for o, _ in after.values()) and time.monotonic() < deadline:
        time.sleep(0.25)
        after = _thread_rows(runtime, address, thread_id)
    ids = list(dict.fromkeys([*staging.message_ids, *before, *after]))
    changes = [
        {
            "gmail_message_id": gmail_id,
            "before": before.get(gmail_id, ("", ""))[0] or None,
            "after": after.get(gmail_id, ("", ""))[0] or None,
            "reason": after.get(gmail_id, ("", ""))[1] or None,
        }
        for gmail_id in ids
    ]
    if as_json:
        print_json(
            {
                "thread_id": thread_id,
                "mailbox": address,
                "messages_before": len(before),
                "messages_after": len(after),
                "fetched": staging.fetched,
                "staged": staging.staged,
                "units": staging.units,
                "messages": changes,
            }
        )
        return
    emit(
        [
            *success(
                f"Replayed thread {thread_id}",
                [
                    ("Messages", f"{len(before)} → {len(after)} in the ledger"),
                    ("Fetched", f"{staging.fetched} ({staging.units} quota units)"),
                ],
            ),
            *table(
                ["Gmail id", "Before", "After", "Reason"],
                [
                    [
                        str(c[key] or EMPTY)
                        for key in ("gmail_message_id", "before", "after", "reason")
                    ]
                    for c in changes
                ],
            ),
        ]
    )


# --- crm audit --------------------------------------------------------------------------


def audit(ctx: typer.Context, mailbox: MailboxOption = None, as_json: JsonFlag = False) -> None:
    """Check that every message in Gmail has a final outcome in the ledger.

    Exits with 1 when a message is missing from the ledger.
    """
    runtime = runtime_for(ctx)
    results: list[AuditResult] = []
    for address in _mailboxes(runtime.settings, mailbox):
        try:
            results.append(audit_mailbox(runtime, address))
        except (GmailError, HttpError) as exc:
            raise _gmail_failure(exc) from None
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        for result in results:
            emit(_audit_lines(result))
    if any(r.missing for r in results):
        raise typer.Exit(1)


def _audit_lines(result: AuditResult) -> list[Line]:
    outcomes = ", ".join(f"{name} {n}" for name, n in sorted(result.outcomes.items())) or EMPTY
    fields = [
        ("Messages", str(result.listed)),
        ("Outcomes", outcomes),
        ("Missing", str(len(result.missing))),
        ("Pending", str(len(result.pending))),
        ("Deleted in Gmail", f"{result.ledger_only} (still in the ledger)"),
        ("Quota units", str(result.units)),
    ]
    title = f"{result.mailbox}: " + (
        "every message accounted for" if result.clean else "not all accounted for"
    )
    lines: list[Line] = success(title, fields) if result.clean else block(title, fields)
    for label, ids in (
        ("Missing from the ledger", result.missing),
        ("Still pending", result.pending),
        ("Skipped without a reason", result.unexplained),
    ):
        if ids:
            lines.append(heading(f"{label} ({plural(len(ids), 'message')})"))
            lines += [f"  {gmail_id}" for gmail_id in ids]
    return lines
