"""Everything held about one person, as rows: the queries behind ``crm privacy export``.

The person is a customer found by id or by any of their addresses (an alias gives the
customer it was merged into). Held about them:

- their customer row and the rows of customers merged into it (their aliases);
- notes on them, their leads, and leads without a customer sent from their addresses;
- their conversations and every message in them (bodies included), the outbound
  state of replies written to them;
- quotes and bookings of them or of their leads;
- the ledger rows of their messages (Gmail ids, dates, outcomes, reasons; no bytes);
- quarantined ledger rows whose raw bytes mention one of their addresses. That scan
  reads the newest ``QUARANTINE_SCAN_LIMIT`` quarantined rows still holding bytes
  (quarantine is small, and retention ends it after ``quarantine_days``); the export
  says how many it read and whether there were more.

Rows are given as {column: value} with the values as the database holds them;
turning them into JSON or files is the caller's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, inspect, or_, select
from sqlalchemy.orm import Session, defer

from crm_core.errors import NotFoundError, ValidationError
from crm_core.models import (
    Booking,
    Conversation,
    Customer,
    EmailMessage,
    Lead,
    Note,
    OutboundReply,
    Quote,
    ReceivedMessage,
)
from crm_core.normalize import normalize_email
from crm_core.statuses import IngestOutcome

QUARANTINE_SCAN_LIMIT = 10_000
CHUNK = 900  # ids per IN list: SQLite's old limit of bound parameters


@dataclass
class SubjectData:
    """The rows held about one person, by kind (see the module docstring)."""

    customer_id: str
    addresses: list[str]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    quarantine_scanned: int = 0
    quarantine_scan_complete: bool = True

    def ledger_ids(self) -> list[str]:
        """The ledger rows (their messages' and quarantined ones) whose bytes are held."""
        return [
            row["id"]
            for kind in ("ledger_entries", "quarantined_mentions")
            for row in self.rows.get(kind, [])
            if row["raw_held"]
        ]


def find_subject(session: Session, key: str) -> Customer:
    """The customer by id, else by address (an alias gives the customer it joined)."""
    customer = session.get(Customer, key.strip())
    if customer is None and "@" in key:
        try:
            normalized = normalize_email(key)
        except ValidationError:
            normalized = None
        if normalized is not None:
            customer = session.execute(
                select(Customer).where(Customer.email_normalized == normalized)
            ).scalar_one_or_none()
    if customer is None:
        raise NotFoundError("customer", key)
    while customer.merged_into_id is not None:
        kept = session.get(Customer, customer.merged_into_id)
        if kept is None or kept.id == customer.id:
            break
        customer = kept
    return customer


def _row(obj: object, exclude: Iterable[str] = ()) -> dict[str, Any]:
    skip = set(exclude)
    mapper = inspect(obj).mapper
    return {a.key: getattr(obj, a.key) for a in mapper.column_attrs if a.key not in skip}


def _in(column: Any, values: Sequence[str]) -> Any:
    """``column IN values``, split so no statement carries too many parameters."""
    if not values:
        return column.in_([])
    return or_(*(column.in_(values[i : i + CHUNK]) for i in range(0, len(values), CHUNK)))


def _fetch(session: Session, model: Any, condition: Any, order: Any = None) -> list[Any]:
    """The rows of ``model`` matching ``condition``, oldest first."""
    ordering = model.created_at if order is None else order
    return list(session.scalars(select(model).where(condition).order_by(ordering)))


def _merged_group(session: Session, customer_id: str) -> list[Customer]:
    """The customer and every customer merged into it, at any depth."""
    group = [session.get(Customer, customer_id)]
    frontier = [customer_id]
    while frontier:
        found = list(
            session.scalars(select(Customer).where(_in(Customer.merged_into_id, frontier)))
        )
        found = [c for c in found if c not in group]
        group += found
        frontier = [c.id for c in found]
    return [c for c in group if c is not None]


def gather_subject_data(
    session: Session, customer_id: str, scan_limit: int = QUARANTINE_SCAN_LIMIT
) -> SubjectData:
    """Every row held about the customer and the customers merged into it."""
    customers = _merged_group(session, customer_id)
    ids = [c.id for c in customers]
    addresses = sorted({c.email_normalized for c in customers if c.email_normalized})
    data = SubjectData(customer_id, addresses)
    data.rows["customers"] = [_row(c) for c in customers]

    leads = _fetch(
        session, Lead, or_(_in(Lead.customer_id, ids), func.lower(Lead.email).in_(addresses))
    )
    lead_ids = [lead.id for lead in leads]
    conversations = _fetch(session, Conversation, _in(Conversation.customer_id, ids))
    conversation_ids = [c.id for c in conversations]
    messages = _fetch(
        session,
        EmailMessage,
        _in(EmailMessage.conversation_id, conversation_ids),
        EmailMessage.sent_at,
    )
    message_ids = [m.id for m in messages]
    quotes = _fetch(session, Quote, or_(_in(Quote.customer_id, ids), _in(Quote.lead_id, lead_ids)))
    quote_ids = [q.id for q in quotes]
    notes = _fetch(
        session,
        Note,
        or_(
            _in(Note.customer_id, ids),
            _in(Note.lead_id, lead_ids),
            _in(Note.conversation_id, conversation_ids),
        ),
    )
    bookings = _fetch(
        session,
        Booking,
        or_(
            _in(Booking.customer_id, ids),
            _in(Booking.lead_id, lead_ids),
            _in(Booking.quote_id, quote_ids),
        ),
    )
    for table, found in (
        ("leads", leads),
        ("conversations", conversations),
        ("messages", messages),
        ("notes", notes),
        ("quotes", quotes),
        ("bookings", bookings),
    ):
        data.rows[table] = [_row(r) for r in found]
    data.rows["outbound_replies"] = [
        _row(r)
        for r in session.scalars(select(OutboundReply).where(_in(OutboundReply.id, message_ids)))
    ]
    data.rows["ledger_entries"] = _ledger_rows(
        session, select(ReceivedMessage).where(_in(ReceivedMessage.email_message_id, message_ids))
    )
    data.rows["quarantined_mentions"] = _quarantined_mentions(session, data, addresses, scan_limit)
    return data


def _ledger_rows(session: Session, statement: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        statement.add_columns(func.length(ReceivedMessage.raw) > 0)
        .options(defer(ReceivedMessage.raw))
        .order_by(ReceivedMessage.staged_at)
    )
    return [_row(r, exclude=("raw",)) | {"raw_held": bool(held)} for r, held in rows]


def _quarantined_mentions(
    session: Session, data: SubjectData, addresses: list[str], scan_limit: int
) -> list[dict[str, Any]]:
    """Quarantined rows whose bytes mention an address (any letter case), newest
    ``scan_limit`` read a few at a time (quarantined mail is often large)."""
    needles = [address.encode() for address in addresses]
    held = (
        ReceivedMessage.outcome == IngestOutcome.QUARANTINED,
        func.length(ReceivedMessage.raw) > 0,
    )
    total = session.scalar(select(func.count()).where(*held)) or 0
    matched: list[str] = []
    scanned = 0
    if needles:
        stream = session.execute(
            select(ReceivedMessage.id, ReceivedMessage.raw)
            .where(*held)
            .order_by(ReceivedMessage.staged_at.desc())
            .limit(scan_limit)
            .execution_options(yield_per=20)
        )
        for received_id, raw in stream:
            scanned += 1
            lowered = bytes(raw).lower()
            if any(needle in lowered for needle in needles):
                matched.append(received_id)
    data.quarantine_scanned = scanned
    data.quarantine_scan_complete = scanned >= total or not needles
    return _ledger_rows(session, select(ReceivedMessage).where(_in(ReceivedMessage.id, matched)))


def raw_of_ledger_rows(
    session: Session, received_ids: Sequence[str]
) -> Iterable[tuple[str, bytes]]:
    """(ledger id, raw bytes) of these rows, a few at a time, skipping dropped ones."""
    for start in range(0, len(received_ids), 50):
        for received_id, raw in session.execute(
            select(ReceivedMessage.id, ReceivedMessage.raw).where(
                ReceivedMessage.id.in_(received_ids[start : start + 50]),
                func.length(ReceivedMessage.raw) > 0,
            )
        ):
            yield received_id, bytes(raw)
