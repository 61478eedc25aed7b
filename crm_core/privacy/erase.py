"""Erasure (GDPR article 17): remove everything held about one person.

The person is found exactly as the export finds them (crm_core.privacy.export): a
customer id or any of their addresses, aliases and the customers merged into them
included. In one transaction:

- removed: the customer and their aliases, notes, leads (also leads without a
  customer sent from their addresses), conversations and messages, how replies to
  them were sent, quotes that were not accepted;
- kept, anonymised: accepted quotes and every booking (bookkeeping law; revenue).
  They move to one anonymous placeholder customer per erasure ("Erased customer
  <erasure id>": no address, phone or text; the erased customer's status, so
  revenue reports add up as before) and lose their lead, description and notes.
  A placeholder rather than a null owner: the figures of crm_core.stats are kept
  per customer, and every report and total reads them there unchanged;
- the ledger (received_messages) keeps of each of their messages only the Gmail ids,
  labels, size and when it was fetched, with the outcome ``erased``, empty raw bytes
  and no date of its own, so neither a full nor a partial re-sync fetches or stores
  them again and ``crm audit`` counts them as filed. Ledger rows count as theirs when
  they were stored as their messages, when they brought one of their leads, or when
  they were not stored (skipped, bounce, quarantined) and their raw bytes mention one
  of their addresses in any letter case;
- derived stores are cleared in ``_forget_derived``;
- the record: an ``erasures`` row with the time, the counts per kind and the keyed
  hash (crm_core.privacy.keys) of each address, and with ``suppress`` the same hashes
  on the suppression list (crm_core.privacy.suppression).

Concurrency: the customer rows are locked FOR UPDATE before anything is read, which
conflicts with the FOR KEY SHARE ingestion takes when it finds a customer by address
(crm_core.customers.bulk). Mail of the person being ingested meanwhile is therefore
either committed first, and then read and erased here, or waits, finds no customer
and creates a new, separate one. On SQLite the write lock (BEGIN IMMEDIATE)
serialises the two. A job still queued for a message erased here finds the outcome
``erased`` and does nothing.

Not touched: a stored message of another customer that mentions the person (it is
that customer's correspondence), and messages still pending (they are filed after
the erasure, as new mail from the person would be).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session

from crm_core.analytics.ai_counts import forget_ai_messages
from crm_core.errors import ConflictError, ValidationError
from crm_core.ids import new_id
from crm_core.models import (
    Booking,
    Conversation,
    Customer,
    EmailMessage,
    Erasure,
    Lead,
    Note,
    OutboundReply,
    Quote,
    ReceivedMessage,
)
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key, normalize_email
from crm_core.privacy.export import CHUNK, _in, _merged_group, find_subject, gather_subject_data
from crm_core.privacy.keys import AddressHasher
from crm_core.privacy.suppression import suppress_hashes
from crm_core.scoring.service import request_rescore
from crm_core.stats.service import update_customers_stats
from crm_core.statuses import IngestOutcome, QuoteStatus
from crm_core.webhooks.erasure import customer_erased, forget_customer

PLACEHOLDER_NAME = "Erased customer {erasure_id}"
# Outcomes whose ledger rows are not linked to a stored message: their raw bytes are
# searched for the person's addresses.
UNLINKED_OUTCOMES = (IngestOutcome.SKIPPED, IngestOutcome.BOUNCE, IngestOutcome.QUARANTINED)
# The kinds counted, in the order they are shown.
KINDS = (
    "customers",
    "leads",
    "notes",
    "conversations",
    "messages",
    "outbound_replies",
    "quotes_removed",
    "quotes_kept_anonymised",
    "bookings_kept_anonymised",
    "ledger_entries",
)


@dataclass
class ErasureResult:
    """What an erasure removed (or, on a dry run, would remove)."""

    customer_id: str
    counts: dict[str, int]
    address_hashes: list[str]
    dry_run: bool
    suppressed: bool = False
    erasure_id: str | None = None
    placeholder_customer_id: str | None = None


@dataclass
class _Plan:
    customer_ids: list[str]
    addresses: list[str]
    lead_ids: list[str]
    note_ids: list[str]
    conversation_ids: list[str]
    message_ids: list[str]
    outbound_ids: list[str]
    kept_quote_ids: list[str]
    removed_quote_ids: list[str]
    booking_ids: list[str]
    ledger_ids: list[str]

    def counts(self) -> dict[str, int]:
        sizes = (
            self.customer_ids,
            self.lead_ids,
            self.note_ids,
            self.conversation_ids,
            self.message_ids,
            self.outbound_ids,
            self.removed_quote_ids,
            self.kept_quote_ids,
            self.booking_ids,
            self.ledger_ids,
        )
        return {kind: len(ids) for kind, ids in zip(KINDS, sizes, strict=True)}


def erase_subject(
    session: Session,
    key: str,
    hasher: AddressHasher,
    *,
    suppress: bool = False,
    dry_run: bool = False,
) -> ErasureResult:
    """Erase the person found by ``key`` (customer id or address) in the caller's
    transaction; ``dry_run`` counts and changes nothing. See the module docstring."""
    customer = find_subject(session, key)
    group = _lock(session, customer.id)
    plan = _plan(session, customer.id, group)
    if dry_run:  # hashes need the key, which a dry run neither reads nor creates
        return ErasureResult(customer.id, plan.counts(), [], dry_run)
    hashes = sorted({hasher(address) for address in plan.addresses})
    result = ErasureResult(customer.id, plan.counts(), hashes, dry_run, suppress)
    if session.get_bind().dialect.name == "sqlite":
        # Deleted rows and freed pages are overwritten with zeros, not left in the file.
        session.execute(text("PRAGMA secure_delete = ON"))
    erasure_id = new_id()
    placeholder = _keep_anonymised(session, plan, customer.status, erasure_id)
    _remove(session, plan, erasure_id)
    if placeholder is not None:
        update_customers_stats(session, [placeholder])
    _forget_derived(session, plan.customer_ids, plan.addresses, plan.message_ids)
    for erased_id in plan.customer_ids:
        customer_erased(session, erased_id)
    # The scoring model counted the erased leads; the next rescore forgets them.
    request_rescore(session)
    session.add(
        Erasure(
            id=erasure_id,
            counts=result.counts,
            address_hashes=hashes,
            suppressed=suppress,
            placeholder_customer_id=placeholder,
        )
    )
    session.flush()
    if suppress:
        suppress_hashes(session, hashes, erasure_id)
    result.erasure_id = erasure_id
    result.placeholder_customer_id = placeholder
    return result


def _lock(session: Session, customer_id: str) -> list[str]:
    """Lock the customer and its aliases (FOR UPDATE, in id order) and return their ids:
    ingestion's find-or-create by address waits for this transaction from here on."""
    ids = sorted(c.id for c in _merged_group(session, customer_id))
    statement = select(Customer.id).where(_in(Customer.id, ids)).order_by(Customer.id)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return list(session.execute(statement).scalars())


def _ids(rows: Iterable[dict[str, Any]]) -> list[str]:
    return [str(row["id"]) for row in rows]


def _plan(session: Session, customer_id: str, locked: Sequence[str]) -> _Plan:
    # Quarantined mail is searched below with the leads' addresses too (and in full):
    # the export's bounded scan of it would read the same bytes again.
    data = gather_subject_data(session, customer_id, scan_limit=0)
    quotes = data.rows["quotes"]
    lead_rows = data.rows["leads"]
    addresses = set(data.addresses)
    for lead in lead_rows:
        # A lead's text that is not an address has nothing to hash or search for.
        with suppress(ValidationError):
            if lead["email"]:
                addresses.add(normalize_email(lead["email"]))
    ledger = set(_ids(data.rows["ledger_entries"]))
    ledger |= _ledger_of_leads(session, [lead["idempotency_key"] for lead in lead_rows])
    ledger |= _unlinked_mentions(session, sorted(addresses))
    return _Plan(
        customer_ids=sorted(set(locked) | set(_ids(data.rows["customers"]))),
        addresses=sorted(addresses),
        lead_ids=_ids(lead_rows),
        note_ids=_ids(data.rows["notes"]),
        conversation_ids=_ids(data.rows["conversations"]),
        message_ids=_ids(data.rows["messages"]),
        outbound_ids=_ids(data.rows["outbound_replies"]),
        kept_quote_ids=[q["id"] for q in quotes if q["status"] == QuoteStatus.ACCEPTED],
        removed_quote_ids=[q["id"] for q in quotes if q["status"] != QuoteStatus.ACCEPTED],
        booking_ids=_ids(data.rows["bookings"]),
        ledger_ids=sorted(ledger),
    )


def _ledger_of_leads(session: Session, keys: Iterable[str | None]) -> set[str]:
    """The ledger rows of the lead emails that made these leads ("<mailbox>:<gmail id>")."""
    found: set[str] = set()
    for key in keys:
        mailbox, sep, gmail_id = (key or "").rpartition(":")
        if not sep or "@" not in mailbox:
            continue
        found.update(
            session.execute(
                select(ReceivedMessage.id).where(
                    ReceivedMessage.mailbox == mailbox_key(mailbox),
                    ReceivedMessage.gmail_message_id == gmail_id,
                )
            ).scalars()
        )
    return found


def _unlinked_mentions(session: Session, addresses: Sequence[str]) -> set[str]:
    """Ledger rows not stored as a message whose raw bytes mention an address, read a
    few at a time (retention keeps the raw mail held to ``raw_mail_days``)."""
    needles = [address.encode() for address in addresses]
    if not needles:
        return set()
    stream = session.execute(
        select(ReceivedMessage.id, ReceivedMessage.raw)
        .where(
            ReceivedMessage.outcome.in_(UNLINKED_OUTCOMES),
            func.length(ReceivedMessage.raw) > 0,
        )
        .execution_options(yield_per=20)
    )
    found: set[str] = set()
    for received_id, raw in stream:
        lowered = bytes(raw).lower()
        if any(needle in lowered for needle in needles):
            found.add(received_id)
    return found


def _keep_anonymised(session: Session, plan: _Plan, status: Any, erasure_id: str) -> str | None:
    """Move accepted quotes and bookings to a new anonymous customer; its id, or None."""
    if not (plan.kept_quote_ids or plan.booking_ids):
        return None
    placeholder = Customer(
        name=PLACEHOLDER_NAME.format(erasure_id=erasure_id),
        status=status,
        tags=[],
        total_leads=0,
        total_bookings=0,
    )
    session.add(placeholder)
    session.flush()
    for start in range(0, len(plan.kept_quote_ids), CHUNK):
        session.execute(
            update(Quote)
            .where(Quote.id.in_(plan.kept_quote_ids[start : start + CHUNK]))
            .values(customer_id=placeholder.id, lead_id=None, description=None)
            .execution_options(synchronize_session=False)
        )
    kept = set(plan.kept_quote_ids)
    for start in range(0, len(plan.booking_ids), CHUNK):
        chunk = plan.booking_ids[start : start + CHUNK]
        session.execute(
            update(Booking)
            .where(Booking.id.in_(chunk))
            .values(customer_id=placeholder.id, lead_id=None, notes=None)
            .execution_options(synchronize_session=False)
        )
        # A booking keeps its quote only when the quote is kept too.
        session.execute(
            update(Booking)
            .where(Booking.id.in_(chunk), Booking.quote_id.is_not(None))
            .where(Booking.quote_id.not_in(kept) if kept else Booking.quote_id.is_not(None))
            .values(quote_id=None)
            .execution_options(synchronize_session=False)
        )
    return placeholder.id


def _delete(session: Session, model: Any, ids: Sequence[str]) -> None:
    for start in range(0, len(ids), CHUNK):
        session.execute(
            delete(model)
            .where(model.id.in_(ids[start : start + CHUNK]))
            .execution_options(synchronize_session=False)
        )


def _remove(session: Session, plan: _Plan, erasure_id: str) -> None:
    """Delete the rows, children first; empty the ledger rows down to their Gmail ids."""
    now = utcnow()
    for start in range(0, len(plan.ledger_ids), CHUNK):
        session.execute(
            update(ReceivedMessage)
            .where(ReceivedMessage.id.in_(plan.ledger_ids[start : start + CHUNK]))
            .values(
                raw=b"",
                outcome=IngestOutcome.ERASED,
                reason=f"erased ({erasure_id})",
                email_message_id=None,
                received_at=None,  # when the person wrote: theirs too
                attempts=0,
                processed_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    # A booking of someone else that names a quote removed here keeps the booking.
    for start in range(0, len(plan.removed_quote_ids), CHUNK):
        session.execute(
            update(Booking)
            .where(Booking.quote_id.in_(plan.removed_quote_ids[start : start + CHUNK]))
            .values(quote_id=None)
            .execution_options(synchronize_session=False)
        )
    _delete(session, Note, plan.note_ids)
    _delete(session, OutboundReply, plan.outbound_ids)
    forget_ai_messages(session, plan.message_ids)  # the AI-emails report's counts
    _delete(session, EmailMessage, plan.message_ids)
    _delete(session, Conversation, plan.conversation_ids)
    _delete(session, Quote, plan.removed_quote_ids)
    _delete(session, Lead, plan.lead_ids)
    _delete(session, Customer, plan.customer_ids)
    session.expire_all()  # objects loaded before may stand for rows deleted here


def _forget_derived(
    session: Session,
    customer_ids: Sequence[str],
    addresses: Sequence[str],
    message_ids: Sequence[str] = (),
) -> None:
    """Clear every store derived from the erased rows. Any new derived store (a cache,
    an outbox of event payloads, …) is cleared here, in the erasure's transaction.

    - Search: on PostgreSQL the tsvector is a generated column, and the word pairs
      (message_search_pairs), the customers' search texts and their table of words
      (customer_search_words) are kept by triggers, on delete too (migration 0020): all
      went with the rows, a word with its last holder. SQLite's FTS5 tables are kept by
      triggers; this checks that they hold no row of the erased customers and
      messages, then merges each index into one segment ('optimize'), because FTS5
      records a delete as a tombstone and keeps the words in older segments until a
      merge. (That rewrites the search index: 0.2 s for 100,000 messages in
      bench/erasure.py.)
    - Webhook events (crm_core.webhooks.forget_customer): stored payloads and delivery
      answers about these customers, or naming their addresses, are cut down to ids,
      undelivered ones included; ``customer.erased`` is emitted afterwards.
    - Customer figures: recomputed for the placeholder by the caller; nothing else
      counts the erased rows.
    ``addresses`` are the person's addresses, for stores keyed by address.
    """
    forget_customer(session, customer_ids, addresses)
    if session.get_bind().dialect.name != "sqlite":
        return
    left = 0
    for table, column, ids in (
        ("customer_search_rows", "customer_id", customer_ids),
        ("message_search_rows", "message_id", message_ids),
    ):
        for start in range(0, len(ids), CHUNK):
            chunk = list(ids[start : start + CHUNK])
            marks = ", ".join(f":p{i}" for i in range(len(chunk)))
            left += int(
                session.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} IN ({marks})"),  # noqa: S608
                    {f"p{i}": value for i, value in enumerate(chunk)},
                ).scalar_one()
            )
    if left:
        raise ConflictError(
            f"the search index still holds {left} erased rows; nothing was erased "
            "(run `crm db upgrade` to restore the search triggers)"
        )
    for table in ("message_search", "customer_search"):
        session.execute(text(f"INSERT INTO {table} ({table}) VALUES ('optimize')"))  # noqa: S608


def reclaim_sqlite_pages(engine: Engine) -> bool:
    """After an erasure commits on SQLite: move the write-ahead log into the database
    file and truncate it, so no earlier version of an erased page stays in the log
    (the erasure itself ran with secure_delete, which zeroes freed space). Returns
    False when a reader kept the checkpoint from finishing; the log is then emptied
    by a later checkpoint. Does nothing on PostgreSQL, where VACUUM (autovacuum)
    reclaims the space of deleted rows and no dump or query shows them again."""
    if engine.dialect.name != "sqlite":
        return True
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.close()
    finally:
        connection.close()
    return not busy
