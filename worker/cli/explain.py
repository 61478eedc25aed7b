"""``crm explain FILE.eml`` and ``crm explain --gmail-id ID``: why a message is filed as it is.

Shows what the parser saw (headers, the body it chose), each classification rule in
order with whether it fired and why, and for a lead email each field with the label
or shape that produced it. Writes nothing: the ledger is only read, and the message
is classified as ingestion would classify it now, with the current configuration.
Text that came from the mail is printed without control characters.
"""

from __future__ import annotations

import email
from dataclasses import fields
from email.message import Message
from email.policy import compat32
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import make_url

from crm_core.db import is_sqlite
from crm_core.inbox import find_received_by_gmail_id, received_raw
from worker.cli.context import CliError, session_for, settings_of
from worker.cli.output import JsonFlag, block, emit, heading, print_json, printable, rule
from worker.importers.takeout import labels_from_takeout, takeout_headers
from worker.mail.explain import Explanation, explain
from worker.mail.leads import PARSERS
from worker.mail.message import Kind, LeadData, ParsedMessage, Unparseable
from worker.mail.parse import parse_message

_SHOWN_HEADERS = ("list-unsubscribe", "list-id", "precedence", "auto-submitted", "x-gmail-labels")
LEAD_FIELDS = [f.name for f in fields(LeadData) if f.name != "source"]


def explain_command(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(help="A message file (.eml).", dir_okay=False, show_default=False),
    ] = None,
    gmail_id: Annotated[
        str | None, typer.Option("--gmail-id", help="A staged message, by its Gmail id.")
    ] = None,
    mailbox: Annotated[
        str | None, typer.Option("--mailbox", help="The mailbox of --gmail-id, if several.")
    ] = None,
    parser: Annotated[
        str | None,
        typer.Option(
            "--parser",
            help=f"Read it as a lead with this parser ({', '.join(PARSERS)}), "
            "whatever the lead sources say: to try a new source before configuring it.",
        ),
    ] = None,
    lines: Annotated[int, typer.Option(min=0, help="Body lines to show.")] = 40,
    as_json: JsonFlag = False,
) -> None:
    """Why a message is (or would be) filed as it is: parse, rules, lead fields. Writes nothing."""
    if (path is None) == (gmail_id is None):
        raise CliError("give a message file or --gmail-id ID")
    if parser is not None and parser not in PARSERS:
        raise CliError(f"unknown parser {parser!r}; expected one of: {', '.join(PARSERS)}")
    settings = settings_of(ctx)
    if path is not None:
        raw, labels, where = _read_file(path)
    else:
        raw, labels, where = _read_ledger(ctx, gmail_id or "", mailbox)
    parsed = parse_message(raw, settings.limits.parse_limits())
    if isinstance(parsed, Unparseable):
        if as_json:
            print_json({"message": where, "unparseable": parsed.reason})
            return
        emit(
            [
                heading(where),
                f"Unparseable: {parsed.reason}",
                "Ingestion quarantines it with this reason.",
            ]
        )
        return
    result = explain(parsed, labels, settings.ingest_rules(), parser=parser)
    body = _body_source(raw)
    if as_json:
        print_json(_as_json(where, parsed, body, result))
        return
    emit(_as_text(where, parsed, body, result, lines))


def _read_file(path: Path) -> tuple[bytes, list[str], str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    # A message saved from a Takeout export carries its labels in a header, read as
    # `crm import mbox` reads them.
    _, labels = takeout_headers(raw)
    return raw, labels_from_takeout(labels), str(path)


def _read_ledger(
    ctx: typer.Context, gmail_id: str, mailbox: str | None
) -> tuple[bytes, list[str], str]:
    database = settings_of(ctx).database
    path = make_url(database.url).database if is_sqlite(database.url) else None
    if path and path != ":memory:" and not Path(path).exists():
        # Opening it would create it; explaining writes nothing.
        raise CliError(f"no database at {path}: nothing is staged yet (see `crm sync`)")
    with session_for(ctx) as session:
        rows = find_received_by_gmail_id(session, gmail_id, mailbox)
        if not rows:
            where = f" in {mailbox}" if mailbox else ""
            raise CliError(f"no staged message with Gmail id {gmail_id}{where}; see `crm audit`")
        if len(rows) > 1:
            boxes = ", ".join(row.mailbox for row in rows)
            raise CliError(f"Gmail id {gmail_id} is in several mailboxes ({boxes}); add --mailbox")
        row = rows[0]
        return received_raw(session, row.id), list(row.label_ids), f"{row.mailbox}:{gmail_id}"


def _body_source(raw: bytes) -> str:
    """Which part the body text came from, as ``worker.mail.body`` chooses it."""
    message = email.message_from_bytes(raw, policy=compat32)
    types = [part.get_content_type() for part in message.walk() if _is_inline_text(part)]
    if "text/plain" in types:
        return "the text/plain part"
    if "text/html" in types:
        return "the text/html part, as text"
    return "no text part"


def _is_inline_text(part: Message) -> bool:
    return (
        part.get_content_maintype() == "text"
        and part.get_filename() is None
        and str(part.get("Content-Disposition", "")).split(";")[0].strip().lower() != "attachment"
    )


def _header_fields(parsed: ParsedMessage) -> list[tuple[str, str]]:
    shown = [
        ("From", str(parsed.from_ or "")),
        ("To", ", ".join(str(a) for a in parsed.to)),
        ("Cc", ", ".join(str(a) for a in parsed.cc)),
        ("Reply-To", ", ".join(str(a) for a in parsed.reply_to)),
        ("Subject", parsed.subject),
        ("Date", parsed.date.isoformat() if parsed.date else ""),
        ("Message-ID", parsed.message_id or ""),
        ("Content-Type", parsed.content_type),
        *(
            (name.title(), parsed.headers[name])
            for name in _SHOWN_HEADERS
            if name in parsed.headers
        ),
    ]
    if parsed.defects:
        shown.append(("Defects", "; ".join(parsed.defects)))
    return [(label, value) for label, value in shown if value]


def _verdict_text(result: Explanation) -> str:
    verdict = result.verdict
    text = verdict.kind.value
    if verdict.customer is not None:
        text += f", customer {verdict.customer}"
    if verdict.skip_reason:
        text += f", reason {verdict.skip_reason}"
    if verdict.lead is not None and verdict.kind is not Kind.SKIP:
        text += f", a lead from {verdict.lead.source}"
    if verdict.skip_reason and verdict.skip_reason.startswith("lead:unlinked:"):
        text += " (kept as a lead without a customer: no address of the customer found)"
    return text


def _as_text(
    where: str, parsed: ParsedMessage, body: str, result: Explanation, limit: int
) -> list[Any]:
    out: list[Any] = [*block(where, _header_fields(parsed))]
    body_lines = parsed.body_text.splitlines()
    out += ["", heading(f"Body: {body}, {len(body_lines)} lines"), rule()]
    out += body_lines[:limit]
    if len(body_lines) > limit:
        out.append(f"… {len(body_lines) - limit} more lines (--lines N shows more)")
    out += [rule(), "", heading("Classification"), rule()]
    out.append(f"Result:  {_verdict_text(result)}")
    for check in result.checks:
        if check.number < result.deciding:
            state = "no"
        elif check.number == result.deciding:
            state = "FIRED"
        else:
            state = "not reached"
        out.append(f"  {check.number}. {check.name:<16} {state:<11} {check.why}")
    out.append(rule())
    reading = result.reading
    if reading is None:
        out += ["", "Lead: none (no lead source matched; --parser NAME reads it as one)"]
        return out
    title = f"Lead ({result.lead_source or 'read with --parser'})"
    if reading.lead is None:
        return [*out, "", heading(title), "No name, email or phone found: lead:unparseable."]
    rows = []
    for key in LEAD_FIELDS:
        value = getattr(reading.lead, key)
        if value is not None:
            shown = printable(str(value))  # measured as printed, for the cut below
            shown = shown if len(shown) <= 60 else shown[:57] + "…"
            rows.append((key, f"{shown}   ← {reading.origins.get(key, '')}"))
    missing = [key for key in LEAD_FIELDS if getattr(reading.lead, key) is None]
    out += ["", *block(title, rows)]
    if missing:
        out.append(f"Not found: {', '.join(missing)}")
    return out


def _as_json(where: str, parsed: ParsedMessage, body: str, result: Explanation) -> dict[str, Any]:
    reading = result.reading
    lead: dict[str, Any] | None = None
    if reading is not None and reading.lead is not None:
        lead = {
            key: {"value": value, "origin": reading.origins.get(key)}
            for key in LEAD_FIELDS
            if (value := getattr(reading.lead, key)) is not None
        }
    return {
        "message": printable(where),
        "headers": dict(_header_fields(parsed)),
        "body": {"source": body, "lines": len(parsed.body_text.splitlines())},
        "classification": {
            "kind": result.verdict.kind.value,
            "customer": result.verdict.customer.email if result.verdict.customer else None,
            "skip_reason": result.verdict.skip_reason,
            "rule": result.deciding,
            "rules": [
                {"number": c.number, "name": c.name, "fired": c.fired, "why": printable(c.why)}
                for c in result.checks
            ],
        },
        "lead_source": result.lead_source,
        "lead": lead,
    }
