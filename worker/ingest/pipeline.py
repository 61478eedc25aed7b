"""Ingesting one staged message inside the caller's transaction.

parse → classify → find-or-create customer → lead → conversation → message → last
contact. Every step is idempotent (upserts keyed by mailbox and Gmail ids), and the
ledger row is locked first, so running this twice or on two workers at once stores
everything once. Never logs or returns a body.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy.orm import Session

from crm_core import services
from crm_core.customers import touch_last_contact
from crm_core.inbox import record_outcome
from crm_core.messages import (
    SeenInMailbox,
    complete_recorded,
    find_recorded,
    mark_bounced,
    waiting_bounce_reason,
)
from crm_core.models import Lead, ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.privacy.keys import AddressHasher
from crm_core.privacy.suppression import SUPPRESSED_REASON
from crm_core.replies import SentCopy
from crm_core.statuses import Direction, IngestOutcome
from worker.ingest.threading import thread_key
from worker.ingest.unlinked import is_unlinked_lead, keep_unlinked_lead
from worker.mail.classify import classify
from worker.mail.message import (
    Address,
    Classification,
    Kind,
    LeadData,
    ParsedMessage,
    ParseLimits,
    Unparseable,
)
from worker.mail.parse import parse_message
from worker.mail.rules import IngestRules


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: IngestOutcome
    reason: str | None = None
    customer_id: str | None = None
    lead_id: str | None = None
    conversation_id: str | None = None
    email_message_id: str | None = None
    already_processed: bool = False


@dataclass(frozen=True, slots=True)
class Triaged:
    """A message that parsed and classified as something to file."""

    parsed: ParsedMessage
    verdict: Classification


def ingest_received(
    session: Session,
    received: ReceivedMessage,
    rules: IngestRules,
    limits: ParseLimits,
    hasher: AddressHasher | None = None,
) -> IngestResult:
    """Process a locked ledger row (see crm_core.inbox.claim_received_message).

    A row no longer pending (stored, skipped, … or ``erased`` by an erasure that ran
    while its job waited) is left as it is. ``hasher`` recognises suppressed senders
    (crm_core.privacy.suppression)."""
    if received.outcome != IngestOutcome.PENDING:
        return IngestResult(
            received.outcome,
            received.reason,
            email_message_id=received.email_message_id,
            already_processed=True,
        )
    judged = judge(received, rules, limits)
    if isinstance(judged, Ended):
        key = lead_key(received)
        lead_id = keep_unlinked_lead(session, judged.lead, key, received.gmail_thread_id)
        return finish(received, judged.outcome, judged.reason, lead_id=lead_id)
    return file_message(session, received, judged, hasher)


@dataclass(frozen=True, slots=True)
class Ended:
    """A message whose processing ends at triage (unparseable, skipped), not yet recorded."""

    outcome: IngestOutcome
    reason: str
    lead: LeadData | None = None  # a lead to keep without a customer (worker.ingest.unlinked)


def judge(received: ReceivedMessage, rules: IngestRules, limits: ParseLimits) -> Ended | Triaged:
    """Parse and classify, recording nothing."""
    if not received.raw:  # retention dropped it; every way back to pending refuses that
        return Ended(IngestOutcome.QUARANTINED, "retention: raw mail dropped, nothing to parse")
    parsed = parse_message(received.raw, limits)
    if isinstance(parsed, Unparseable):
        return Ended(IngestOutcome.QUARANTINED, f"unparseable: {parsed.reason}")
    verdict = classify(parsed, received.label_ids, rules)
    if verdict.kind is Kind.SKIP:
        reason = verdict.skip_reason or "skipped"
        if reason.startswith("error:"):
            return Ended(IngestOutcome.QUARANTINED, f"classification {reason}")
        return Ended(
            IngestOutcome.SKIPPED, reason, verdict.lead if is_unlinked_lead(reason) else None
        )
    return Triaged(parsed, verdict)


def file_message(
    session: Session,
    received: ReceivedMessage,
    triaged: Triaged,
    hasher: AddressHasher | None = None,
) -> IngestResult:
    """File a triaged message: mark what a bounce refers to, or store the message."""
    if triaged.verdict.kind is Kind.BOUNCE:
        return _bounce(session, received, triaged.verdict)
    sender = triaged.verdict.customer if triaged.verdict.kind is Kind.INBOUND else None
    if sender is not None and (refused := services.mail_refusal(session, sender.email, hasher)):
        if refused == SUPPRESSED_REASON:
            received.raw = b""  # the person asked to be erased: keep nothing of it
        return finish(received, IngestOutcome.SKIPPED, refused)  # blocked or suppressed
    return _store(session, received, triaged.parsed, triaged.verdict)


def finish(
    received: ReceivedMessage,
    outcome: IngestOutcome,
    reason: str | None,
    *,
    customer_id: str | None = None,
    lead_id: str | None = None,
    conversation_id: str | None = None,
    email_message_id: str | None = None,
) -> IngestResult:
    record_outcome(received, outcome, reason, email_message_id, count_attempt=True)
    return IngestResult(outcome, reason, customer_id, lead_id, conversation_id, email_message_id)


def _bounce(session: Session, received: ReceivedMessage, verdict: Classification) -> IngestResult:
    originals = mark_bounced(session, received.mailbox, verdict.bounced_message_ids)
    if originals:
        reason = f"bounced {len(originals)} outbound"
    else:
        # The original may simply not be ingested yet (bulk import, parallel workers);
        # storing it later looks for this reason and marks it bounced then.
        first = verdict.bounced_message_ids[0] if verdict.bounced_message_ids else "?"
        reason = waiting_bounce_reason(first)
    return finish(
        received,
        IngestOutcome.BOUNCE,
        reason,
        email_message_id=originals[0].id if originals else None,
    )


def _store(
    session: Session, received: ReceivedMessage, parsed: ParsedMessage, verdict: Classification
) -> IngestResult:
    assert verdict.customer is not None
    mailbox = received.mailbox
    sent_at = received.received_at or parsed.date or utcnow()
    customer = services.find_or_create_customer(
        session, verdict.customer.email, display_name(verdict.customer, verdict.lead)
    )
    lead = _lead(session, received, verdict.lead, customer.id)
    copy = sent_copy(received, parsed) if verdict.kind is Kind.OUTBOUND else None
    recorded = find_recorded(session, mailbox, received.gmail_message_id, parsed.message_id, copy)
    if recorded is not None:
        merged = recorded.mailbox == "" or recorded.gmail_message_id is None
        conversation_id = complete_recorded(session, recorded, seen_in_mailbox(received, parsed))
        touch_last_contact(session, customer.id, sent_at)
        return finish(
            received,
            IngestOutcome.STORED,
            "merged with the message recorded by the sending application" if merged else None,
            customer_id=customer.id,
            lead_id=lead.id if lead else None,
            conversation_id=conversation_id,
            email_message_id=recorded.id,
        )
    conversation = services.find_or_create_conversation(
        session,
        mailbox=mailbox,
        gmail_thread_id=received.gmail_thread_id
        or thread_key(session, mailbox, parsed, received.gmail_message_id),
        customer_id=customer.id,
        lead_id=lead.id if lead else None,
        subject=parsed.subject or None,
    )
    message = services.create_email_message(
        session,
        conversation_id=conversation.id,
        mailbox=mailbox,
        gmail_message_id=received.gmail_message_id,
        gmail_thread_id=received.gmail_thread_id,
        direction=direction_of(verdict),
        sent_at=sent_at,
        **message_fields(parsed),
    )
    return finish(
        received,
        IngestOutcome.STORED,
        None,
        customer_id=customer.id,
        lead_id=lead.id if lead else None,
        conversation_id=conversation.id,
        email_message_id=message.id,
    )


def attachment_rows(parsed: ParsedMessage) -> list[dict[str, Any]]:
    """Names, types and sizes of the attachments (their bytes are never stored)."""
    return [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size}
        for a in parsed.attachments
    ]


def message_fields(parsed: ParsedMessage) -> dict[str, Any]:
    """The EmailMessage columns that come from the parsed message itself."""
    return {
        "from_address": str(parsed.from_) if parsed.from_ else "",
        "to_address": ", ".join(str(a) for a in parsed.to),
        "cc_address": ", ".join(str(a) for a in parsed.cc) or None,
        "subject": parsed.subject or None,
        "body": parsed.body_text,
        "body_preview": parsed.body_preview,
        "rfc822_message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to,
        "attachments": attachment_rows(parsed),
    }


def direction_of(verdict: Classification) -> Direction:
    return Direction.OUTBOUND if verdict.kind is Kind.OUTBOUND else Direction.INBOUND


def display_name(customer: Address, lead: LeadData | None) -> str | None:
    if lead is not None and lead.name:
        return lead.name
    return customer.name or None


LEAD_DATA_FIELDS = [f.name for f in fields(LeadData) if f.name != "source"]


def lead_key(received: ReceivedMessage) -> str:
    """One lead per lead email: the idempotency key is the mailbox and the Gmail id."""
    return f"{received.mailbox}:{received.gmail_message_id}"


def _lead(
    session: Session, received: ReceivedMessage, data: LeadData | None, customer_id: str
) -> Lead | None:
    """One lead per lead email (idempotency key: mailbox and Gmail id), linked once."""
    if data is None:
        return None
    lead = services.create_lead(
        session,
        source=data.source,
        idempotency_key=lead_key(received),
        email_thread_id=received.gmail_thread_id,
        created_at=received.received_at,  # the lead's date is the email's
        **{name: getattr(data, name) for name in LEAD_DATA_FIELDS},
    )
    if lead.customer_id != customer_id:
        services.link_lead_to_customer(session, lead.id, customer_id)
    return lead


def seen_in_mailbox(received: ReceivedMessage, parsed: ParsedMessage) -> SeenInMailbox:
    columns = message_fields(parsed)
    return SeenInMailbox(
        mailbox=received.mailbox,
        gmail_message_id=received.gmail_message_id,
        gmail_thread_id=received.gmail_thread_id,
        rfc822_message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        cc_address=columns["cc_address"],
        subject=columns["subject"],
        body=parsed.body_text,
        body_preview=parsed.body_preview,
        attachments=columns["attachments"],
        sent_at=received.received_at or parsed.date,
    )


def sent_copy(received: ReceivedMessage, parsed: ParsedMessage) -> SentCopy:
    """What the mailbox shows of an outbound message, to recognise a reply of ours."""
    return SentCopy(
        mailbox=received.mailbox,
        gmail_message_id=received.gmail_message_id,
        gmail_thread_id=received.gmail_thread_id,
        rfc822_message_id=parsed.message_id,
        recipients=[a.email for a in (*parsed.to, *parsed.cc)],
        subject=parsed.subject or None,
        body=parsed.body_text,
    )
