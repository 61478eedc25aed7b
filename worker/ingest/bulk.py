"""Ingesting a batch of staged messages with a few statements instead of a few per message.

The common case, mail in a Gmail thread to or from a customer (lead emails included),
goes through set-based steps: find-or-create the batch's customers, create and link its
leads (figures recomputed once per customer), find-or-create its conversations, insert
its messages, move last-contact times forward, record the outcomes. Everything else,
bounces, mail without a thread id, or a message the database already holds in some
form (a replay, or a reply the sending application recorded), takes the
message-by-message path of ``pipeline.ingest_received``. Both paths give the same rows;
the sample-mailbox and end-to-end tests hold them to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from crm_core.conversations.bulk import ThreadSeed, find_or_create_conversations
from crm_core.customers.bulk import find_or_create_customers
from crm_core.customers.mail_policy import mail_refusals
from crm_core.inbox import record_outcomes
from crm_core.leads.bulk import create_linked_leads
from crm_core.messages import NewMessage, already_stored, store_new_messages
from crm_core.models import Customer, ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.normalize import normalize_email
from crm_core.privacy.keys import AddressHasher
from crm_core.replies import threads_awaiting_copies
from crm_core.statuses import IngestOutcome
from worker.ingest.pipeline import (
    LEAD_DATA_FIELDS,
    Ended,
    IngestResult,
    Triaged,
    direction_of,
    display_name,
    file_message,
    ingest_received,
    judge,
    lead_key,
    message_fields,
)
from worker.ingest.unlinked import keep_unlinked_lead
from worker.mail.message import Classification, Kind, ParsedMessage, ParseLimits
from worker.mail.rules import IngestRules


@dataclass(frozen=True, slots=True)
class _Plain:
    """A message for the set-based path."""

    row: ReceivedMessage
    parsed: ParsedMessage
    verdict: Classification
    thread: str
    sent_at: datetime


def ingest_many(
    session: Session,
    rows: Sequence[ReceivedMessage],
    rules: IngestRules,
    limits: ParseLimits,
    hasher: AddressHasher | None = None,
) -> list[IngestResult]:
    """Process locked ledger rows of one mailbox, in the given order (``hasher``:
    see pipeline.ingest_received)."""
    results: list[IngestResult] = []
    plain: list[_Plain] = []
    one_by_one: list[tuple[ReceivedMessage, Triaged]] = []
    ended: list[tuple[ReceivedMessage, IngestOutcome, str | None, str | None]] = []
    for row in rows:
        if row.outcome != IngestOutcome.PENDING:
            results.append(ingest_received(session, row, rules, limits))  # reports only
            continue
        triaged = judge(row, rules, limits)
        if isinstance(triaged, Ended):
            lead_id = keep_unlinked_lead(session, triaged.lead, lead_key(row), row.gmail_thread_id)
            ended.append((row, triaged.outcome, triaged.reason, None))
            results.append(IngestResult(triaged.outcome, triaged.reason, lead_id=lead_id))
            continue
        verdict = triaged.verdict
        if (
            verdict.kind in (Kind.INBOUND, Kind.OUTBOUND)
            and verdict.customer is not None
            and row.gmail_thread_id
        ):
            sent_at = row.received_at or triaged.parsed.date or utcnow()
            plain.append(_Plain(row, triaged.parsed, verdict, row.gmail_thread_id, sent_at))
        else:
            one_by_one.append((row, triaged))
    record_outcomes(session, ended)
    # Mail of blocked customers and suppressed senders: file_message records it as skipped.
    refused = mail_refusals(
        session, [p.verdict.customer.email for p in plain if p.verdict.customer], hasher
    )
    one_by_one += [
        (p.row, Triaged(p.parsed, p.verdict))
        for p in plain
        if p.verdict.customer and p.verdict.customer.email in refused
    ]
    plain = [p for p in plain if not (p.verdict.customer and p.verdict.customer.email in refused)]
    if plain:
        known = _already_in_database(session, plain)
        one_by_one += [
            (p.row, Triaged(p.parsed, p.verdict)) for p in plain if p.row.gmail_message_id in known
        ]
        results += _store_plain(session, [p for p in plain if p.row.gmail_message_id not in known])
    # In staging order: a bounce after its original, a reply after what it answers.
    order = {row.id: index for index, row in enumerate(rows)}
    for row, triaged in sorted(one_by_one, key=lambda item: order[item[0].id]):
        results.append(file_message(session, row, triaged, hasher))
    return results


def _already_in_database(session: Session, plain: list[_Plain]) -> set[str]:
    """Gmail ids whose message is stored already, by us or by the sending application."""
    message_ids = {
        p.parsed.message_id: p.row.gmail_message_id for p in plain if p.parsed.message_id
    }
    gmail_ids = {p.row.gmail_message_id for p in plain}
    mailbox = plain[0].row.mailbox
    known = already_stored(session, mailbox, gmail_ids, message_ids)
    # Sent mail in a thread where a reply of ours waits may be its copy (under another
    # Message-ID, or a draft a person edited): find_recorded decides, one by one.
    outbound = [p for p in plain if p.verdict.kind is Kind.OUTBOUND]
    awaiting = threads_awaiting_copies(session, mailbox, {p.thread for p in outbound})
    return known | {p.row.gmail_message_id for p in outbound if p.thread in awaiting}


def _store_plain(session: Session, plain: list[_Plain]) -> list[IngestResult]:
    if not plain:
        return []
    mailbox = plain[0].row.mailbox
    people: dict[str, str | None] = {}
    for p in plain:
        assert p.verdict.customer is not None
        name = display_name(p.verdict.customer, p.verdict.lead)
        if name or p.verdict.customer.email not in people:
            people[p.verdict.customer.email] = name
    customers = find_or_create_customers(session, people)
    by_email = {email: customers[normalize_email(email)] for email in people}

    def customer_of(p: _Plain) -> Customer:
        assert p.verdict.customer is not None
        return by_email[p.verdict.customer.email]

    leads = create_linked_leads(
        session,
        [
            {
                **{name: getattr(p.verdict.lead, name) for name in LEAD_DATA_FIELDS},
                "source": p.verdict.lead.source,
                "idempotency_key": lead_key(p.row),
                "customer_id": customer_of(p).id,
                "email_thread_id": p.row.gmail_thread_id,
                "created_at": p.sent_at,  # the lead's date is the email's
            }
            for p in plain
            if p.verdict.lead is not None
        ],
    )

    lead_ids = {
        p.row.id: lead.id
        for p in plain
        if p.verdict.lead is not None and (lead := leads.get(lead_key(p.row))) is not None
    }

    def lead_of(p: _Plain) -> str | None:
        return lead_ids.get(p.row.id)

    seeds: dict[str, ThreadSeed] = {}
    for p in plain:
        seed = seeds.get(p.thread)
        if seed is None or (seed.lead_id is None and lead_of(p)):
            seeds[p.thread] = ThreadSeed(customer_of(p).id, lead_of(p), p.parsed.subject or None)
    conversations = find_or_create_conversations(session, mailbox, seeds)

    stored = store_new_messages(
        session,
        mailbox,
        [
            NewMessage(
                conversation_id=conversations[p.thread].id,
                # As in create_email_message: the conversation's customer has been in contact.
                customer_id=conversations[p.thread].customer_id or customer_of(p).id,
                gmail_message_id=p.row.gmail_message_id,
                gmail_thread_id=p.row.gmail_thread_id,
                direction=direction_of(p.verdict),
                sent_at=p.sent_at,
                columns=message_fields(p.parsed),
            )
            for p in plain
        ],
    )
    record_outcomes(
        session,
        [
            (p.row, IngestOutcome.STORED, None, message_id)
            for p, message_id in zip(plain, stored, strict=True)
        ],
    )
    return [
        IngestResult(
            IngestOutcome.STORED,
            None,
            customer_id=customer_of(p).id,
            lead_id=lead_of(p),
            conversation_id=conversations[p.thread].id,
            email_message_id=message_id,
        )
        for p, message_id in zip(plain, stored, strict=True)
    ]
