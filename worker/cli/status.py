"""``crm status``: is everything healthy? Per mailbox and for ingestion as a whole."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from crm_core.analytics import record_counts
from crm_core.inbox import ledger_counts
from crm_core.inbox.retention import raw_mail_held
from crm_core.mailboxes import list_mailboxes
from crm_core.models.types import utcnow
from crm_core.replies import reply_report
from crm_core.statuses import MailboxStatus
from crm_core.webhooks import webhook_health
from worker.cli.context import session_for, settings_of
from worker.cli.output import (
    JsonFlag,
    Line,
    emit,
    format_datetime,
    heading,
    print_json,
    table,
)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _start_of_today() -> datetime:
    now = utcnow()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _counts(session: Session, mailbox: str | None, since: datetime) -> dict[str, int]:
    counts = ledger_counts(session, since, mailbox)
    return {
        "stored_today": counts.stored_since,
        "skipped_today": counts.skipped_since,
        "pending": counts.pending,
        "pending_after_retries": counts.pending_after_retries,
        "quarantined": counts.quarantined,
    }


def mailbox_report(session: Session, configured: list[str]) -> list[dict[str, Any]]:
    rows = {m.address: m for m in list_mailboxes(session)}
    now, today = utcnow(), _start_of_today()
    report = []
    for address in sorted(set(configured) | set(rows)):
        row = rows.get(address)
        lag = (
            (now - row.history_applied_at).total_seconds()
            if row and row.history_applied_at
            else None
        )
        report.append(
            {
                "mailbox": address,
                "configured": address in configured,
                "state": row.status.value if row else "not synced yet",
                "needs_reauth": bool(row and row.status is MailboxStatus.NEEDS_REAUTH),
                "history_id": row.history_id if row else None,
                "last_sync_at": row.last_sync_at if row else None,
                "last_full_sync_at": row.last_full_sync_at if row else None,
                "lag_seconds": lag,
                "watch_expires_at": row.watch_expires_at if row else None,
                "last_error": row.last_error if row else None,
                **_counts(session, address, today),
            }
        )
    return report


def _replies(session: Session) -> dict[str, dict[str, Any]]:
    return {
        mailbox: {
            "counts": r.counts,
            "waiting_reason": r.waiting_reason,
            "failed_reason": r.failed_reason,
        }
        for mailbox, r in sorted(reply_report(session).items())
    }


def _reply_lines(reply_states: dict[str, dict[str, Any]]) -> list[Line]:
    """Replies per mailbox by state, and what a person should do about those stuck."""
    if not reply_states:
        return []
    lines: list[Line] = [heading("Replies")]
    for mailbox, r in reply_states.items():
        counts = ", ".join(f"{state} {count}" for state, count in sorted(r["counts"].items()))
        lines.append(f"{mailbox}: {counts}")
        if r["waiting_reason"]:
            lines.append(f"! {mailbox}: replies wait: {r['waiting_reason']}")
        if r["failed_reason"]:
            lines.append(
                f"! {mailbox}: {r['counts'].get('failed', 0)} failed, the newest: "
                f"{r['failed_reason']} (crm reply list; crm reply approve ID sends one again)"
            )
    return lines


def _webhooks(session: Session) -> dict[str, Any]:
    health = webhook_health(session)
    return {
        "endpoints": health.endpoints,
        "disabled": health.disabled,
        "failing": health.failing,
        "deliveries_pending": health.pending,
        "deliveries_failed": health.failed,
        "events_not_fanned_out": health.not_fanned_out,
        "disabled_reasons": health.disabled_reasons,
    }


def _webhook_lines(hooks: dict[str, Any]) -> list[Line]:
    if not hooks["endpoints"]:
        return []
    lines: list[Line] = [
        heading("Webhooks"),
        f"Endpoints {hooks['endpoints']} ({hooks['disabled']} disabled, {hooks['failing']} "
        f"failing); deliveries pending {hooks['deliveries_pending']}, failed "
        f"{hooks['deliveries_failed']}",
    ]
    for endpoint_id, reason in sorted(hooks["disabled_reasons"].items()):
        lines.append(
            f"! webhook {endpoint_id} disabled: {reason} (crm webhook enable {endpoint_id})"
        )
    if hooks["failing"]:
        lines.append("! failing webhooks: crm webhook deliveries --failed")
    return lines


def _lead_scoring(session: Session) -> dict[str, Any]:
    from crm_core.scoring import scoring_state

    state = scoring_state(session)
    if state is None:
        return {"trained_at": None, "trained_on": 0, "converted": 0, "rescore_waiting": False}
    return {
        "trained_at": state.trained_at,
        "trained_on": state.leads,
        "converted": state.converted,
        "rescore_waiting": state.requested > state.built,
    }


def _lead_scoring_lines(scoring: dict[str, Any]) -> list[Line]:
    if scoring["trained_at"] is None:
        line = "Lead scores: no model yet (prior scores; crm lead rescore builds one)"
    else:
        line = (
            f"Lead scores: model of {format_datetime(scoring['trained_at'])} on "
            f"{scoring['trained_on']} decided lead(s), {scoring['converted']} converted"
        )
    lines: list[Line] = [line]
    if scoring["rescore_waiting"]:
        lines.append(
            "! outcomes wait for a rescore: crm worker / crm watch send it, "
            "crm lead rescore runs it now"
        )
    return lines


def status(
    ctx: typer.Context,
    as_json: JsonFlag = False,
    strict: Annotated[
        bool,
        typer.Option(help="Exit 2 when something needs a person (reauth, quarantine, errors)."),
    ] = False,
) -> None:
    """Per mailbox: state, last sync, lag, counts today, quarantined, needs_reauth."""
    settings = settings_of(ctx)
    configured = [m.address.strip().lower() for m in settings.mailboxes]
    with session_for(ctx) as session:
        mailboxes = mailbox_report(session, configured)
        records = record_counts(session)
        overall = {
            "customers": records.customers,
            "leads": records.leads,
            "messages": records.messages,
            **_counts(session, None, _start_of_today()),
        }
        held = raw_mail_held(session)
        overall |= {"raw_mail_messages": held.messages, "raw_mail_bytes": held.bytes}
        reply_states = _replies(session)
        hooks = _webhooks(session)
        scoring = _lead_scoring(session)
    attention = [m["mailbox"] for m in mailboxes if m["needs_reauth"] or m["last_error"]] + (
        ["quarantine"] if overall["quarantined"] else []
    )
    if any(r["waiting_reason"] or r["failed_reason"] for r in reply_states.values()):
        attention.append("replies")
    # An endpoint disabled by hand is not a problem; one the CRM disabled is.
    if hooks["failing"] or any(
        reason != "disabled by hand" for reason in hooks["disabled_reasons"].values()
    ):
        attention.append("webhooks")
    if as_json:
        print_json(
            {
                "mailboxes": mailboxes,
                "overall": overall,
                "replies": reply_states,
                "webhooks": hooks,
                "lead_scoring": scoring,
                "needs_attention": attention,
            }
        )
    else:
        rows = [
            [
                m["mailbox"],
                m["state"],
                format_datetime(m["last_sync_at"], "never"),
                _duration(m["lag_seconds"]),
                str(m["stored_today"]),
                str(m["skipped_today"]),
                str(m["pending"]),
                str(m["quarantined"]),
            ]
            for m in mailboxes
        ]
        lines = [
            heading("Mailboxes"),
            *table(
                [
                    "Mailbox",
                    "State",
                    "Last sync",
                    "Lag",
                    "Stored today",
                    "Skipped today",
                    "Pending",
                    "Quarantined",
                ],
                rows,
            ),
        ]
        if not mailboxes:
            lines.append("No mailboxes configured ([[mailboxes]] in the config file).")
        for m in mailboxes:
            if m["needs_reauth"]:
                lines.append(f"! {m['mailbox']} needs authorisation: crm gmail auth {m['mailbox']}")
            elif m["last_error"]:
                lines.append(f"! {m['mailbox']}: {m['last_error']}")
        lines += [
            heading("Ingestion"),
            f"Customers {overall['customers']}, leads {overall['leads']}, messages "
            f"{overall['messages']}; today stored {overall['stored_today']}, skipped "
            f"{overall['skipped_today']}; pending {overall['pending']}, quarantined "
            f"{overall['quarantined']}",
            f"Raw mail held: {held.messages} message(s), {held.bytes / 1_000_000:.1f} MB "
            "(crm retention run drops what [retention] no longer keeps)",
        ]
        if overall["pending_after_retries"]:
            lines.append(
                f"! {overall['pending_after_retries']} pending after their jobs ran out of "
                "retries (database or broker failing): the resume sends them again; "
                "crm ingest resume --older-than 0 sends them now"
            )
        if overall["quarantined"]:
            lines.append("! quarantined messages: crm quarantine list")
        lines += _lead_scoring_lines(scoring)
        lines += _reply_lines(reply_states)
        lines += _webhook_lines(hooks)
        emit(lines)
    if strict and attention:
        raise typer.Exit(2)
