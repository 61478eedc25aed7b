"""``crm reply``: write a reply to a conversation and follow it out through Gmail.

- ``crm reply CONVERSATION_ID --body-file FILE|- [--ai-model M]``: record it and send
  its job (a Gmail draft, a send, or nothing in dry-run, by ``[sending] mode``);
- ``crm reply list [--pending]``; ``crm reply approve ID``; ``crm reply cancel ID``;
- ``crm reply resume``: send the jobs of replies still waiting (after a lost queue).
"""

from __future__ import annotations

import getpass
import sys
from contextlib import suppress
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click import Context
from typer.core import TyperGroup

from crm_core import replies
from crm_core.conversations import get_conversation
from crm_core.normalize import mailbox_key, normalize_email
from crm_core.privacy import is_suppressed
from crm_core.replies import ReplyLine
from crm_core.statuses import ReplyState
from worker.cli.context import CliError, session_for
from worker.cli.jobs import is_inline, runtime_for
from worker.cli.output import (
    EMPTY,
    JsonFlag,
    emit,
    format_datetime,
    plural,
    print_json,
    success,
    table,
)
from worker.gmail.errors import GmailUnavailableError
from worker.jobs.resume import resend_replies
from worker.runtime import Runtime, enqueue, unit_of_work


class ReplyGroup(TyperGroup):
    """``crm reply CONVERSATION_ID …`` writes a reply; a known word is a sub-command."""

    def resolve_command(self, ctx: Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["write", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(cls=ReplyGroup, no_args_is_help=True)


def _job_may_wait() -> suppress:
    """With the inline broker the job runs when the block commits. Gmail busy past
    its retries leaves the reply stored and queued with the reason (shown after),
    for `crm reply resume`: that is an outcome to report, not an error."""
    return suppress(GmailUnavailableError)


def _read_text(path: str, what: str) -> str:
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{what} {path} is not UTF-8 text; save it as UTF-8") from None


def _state_line(line: ReplyLine | None, reply_id: str, inline: bool) -> tuple[str, str]:
    if line is None:
        return ("State", EMPTY)
    if line.state is ReplyState.QUEUED and not inline and not line.reason:
        return ("State", "queued: `crm worker` sends it")
    return ("State", line.state.value + (f": {line.reason}" if line.reason else ""))


def _line(runtime: Runtime, reply_id: str) -> ReplyLine | None:
    with unit_of_work(runtime.sessions) as session:
        rows, _ = replies.list_replies(session, reply_id=reply_id, limit=1)
    return rows[0] if rows else None


def _as_dict(line: ReplyLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "conversation_id": line.conversation_id,
        "mailbox": line.mailbox,
        "to": line.to_address,
        "subject": line.subject,
        "mode": line.mode.value,
        "state": line.state.value,
        "reason": line.reason,
        "author": line.author,
        "is_ai_generated": line.is_ai_generated,
        "ai_model": line.ai_model,
        "gmail_message_id": line.gmail_message_id,
        "created_at": line.created_at,
        "sent_at": line.sent_at,
    }


def _report(ctx: typer.Context, runtime: Runtime, reply_id: str, title: str, as_json: bool) -> None:
    line = _line(runtime, reply_id)
    if as_json:
        print_json(_as_dict(line) if line else {"id": reply_id})
        return
    fields = [("Reply", reply_id), _state_line(line, reply_id, is_inline(ctx))]
    if line is not None:
        fields += [("To", line.to_address), ("Subject", line.subject or EMPTY)]
        if line.gmail_message_id:
            fields.append(("Gmail id", line.gmail_message_id))
    emit(success(title, fields))


@app.command("write", hidden=True)
def write(
    ctx: typer.Context,
    conversation_id: Annotated[str, typer.Argument(help="The conversation to reply in.")],
    body_file: Annotated[
        str, typer.Option("--body-file", help="The reply's text (UTF-8), or - for stdin.")
    ],
    ai_model: Annotated[
        str | None,
        typer.Option("--ai-model", help="The model that wrote it (marks it AI-generated)."),
    ] = None,
    html_file: Annotated[
        str | None, typer.Option("--html-file", help="An HTML version to send beside the text.")
    ] = None,
    author: Annotated[
        str | None, typer.Option("--author", help="Who wrote or approved it. Default: you.")
    ] = None,
    template: Annotated[
        str | None, typer.Option("--template", help="Template it came from.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Reply in a conversation: a Gmail draft, a send or a dry run, by [sending] mode."""
    body = _read_text(body_file, "body file")
    html = _read_text(html_file, "HTML file") if html_file else None
    runtime = runtime_for(ctx)
    settings = runtime.settings
    with _job_may_wait(), unit_of_work(runtime.sessions) as session:
        conversation = get_conversation(session, conversation_id)
        mailbox = conversation.mailbox or mailbox_key(settings.company.mailbox)
        mode, _ = settings.sending_of(mailbox)
        reply = replies.reply(
            session,
            conversation_id,
            body,
            author=author or getpass.getuser(),
            is_ai_generated=ai_model is not None,
            ai_model=ai_model,
            template=template,
            mode=mode,
            html=html,
            sender=mailbox,
        )
        recipient = normalize_email(_recipient(session, reply.id))
        if runtime.rules.is_own(recipient):
            raise CliError(f"{recipient} is one of our own addresses: a reply never goes there")
        if is_suppressed(session, recipient, runtime.address_hasher):
            raise CliError(
                f"{recipient} was erased and suppressed at the person's request: "
                "nothing is sent to that address"
            )
        reply_id = reply.id
        if reply.state is ReplyState.QUEUED:
            enqueue("send_reply", reply_id)
    _report(ctx, runtime, reply_id, f"Reply recorded ({mode})", as_json)


def _recipient(session: Any, reply_id: str) -> str:
    return replies.outgoing(session, reply_id).to_address


@app.command("list")
def list_(
    ctx: typer.Context,
    pending: Annotated[
        bool, typer.Option("--pending", help="Only those still to send or to decide on.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Replies written in the CRM, newest first, with their state."""
    with session_for(ctx) as session:
        rows, total = replies.list_replies(session, pending=pending, limit=limit)
    if as_json:
        print_json({"total": total, "replies": [_as_dict(r) for r in rows]})
        return
    cells = [
        [
            r.id,
            r.state.value,
            r.mode.value,
            r.to_address,
            r.subject or EMPTY,
            format_datetime(r.created_at),
            r.reason or EMPTY,
        ]
        for r in rows
    ]
    emit(
        [
            *table(["ID", "State", "Mode", "To", "Subject", "Written", "Reason"], cells),
            f"Showing {len(rows)} of {plural(total, 'reply', 'replies')}",
        ]
    )


@app.command("approve")
def approve(ctx: typer.Context, reply_id: str, as_json: JsonFlag = False) -> None:
    """Send a reply: its Gmail draft as it stands (edits included), or a dry-run or
    failed reply as recorded."""
    runtime = runtime_for(ctx)
    with _job_may_wait(), unit_of_work(runtime.sessions) as session:
        replies.approve(session, reply_id)
        enqueue("send_reply", reply_id)
    _report(ctx, runtime, reply_id, "Reply approved", as_json)


@app.command("cancel")
def cancel(ctx: typer.Context, reply_id: str, as_json: JsonFlag = False) -> None:
    """Never send a reply; its Gmail draft, if any, is deleted."""
    runtime = runtime_for(ctx)
    with unit_of_work(runtime.sessions) as session:
        row = replies.cancel(session, reply_id)
        if row.gmail_draft_id:
            enqueue("send_reply", reply_id)
    _report(ctx, runtime, reply_id, "Reply cancelled", as_json)


@app.command("resume")
def resume(ctx: typer.Context) -> None:
    """Send the jobs of replies still waiting (queued, a send to look up, a draft to
    delete): after a lost queue, a raised daily cap or a granted scope."""
    runtime = runtime_for(ctx)
    sent = resend_replies(runtime)
    emit(success(f"Sent the jobs of {plural(sent, 'reply', 'replies')}"))
