"""The shapes that flow between parsing, classification and the ingest job.

Parsing turns raw bytes into a ``ParsedMessage`` (or ``Unparseable``); classification
turns a ``ParsedMessage`` plus its Gmail labels into a ``Classification``. Both are
pure: no database, no network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox from a header. ``email`` is the addr-spec as written (case kept)."""

    email: str
    name: str = ""

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What a delivery-status notification (multipart/report) says about the original."""

    original_message_id: str | None
    failed_recipients: tuple[str, ...]
    action: str | None  # "failed", "delayed", …
    status: str | None  # e.g. "5.1.1"


@dataclass(frozen=True, slots=True)
class ParseLimits:
    max_bytes: int = 25 * 1024 * 1024
    max_depth: int = 20
    max_parts: int = 500
    preview_chars: int = 200


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str
    date: datetime | None  # aware, UTC
    message_id: str | None  # without angle brackets
    in_reply_to: str | None  # without angle brackets
    references: tuple[str, ...]  # without angle brackets, oldest first
    body_text: str
    body_preview: str
    attachments: tuple[Attachment, ...]
    # Lower-cased header name -> first value, decoded (List-Id, Precedence,
    # Auto-Submitted, X-GM-THRID, X-Gmail-Labels, …), for classification.
    headers: Mapping[str, str]
    content_type: str  # of the top-level part, lower-case, e.g. "multipart/report"
    report: DeliveryReport | None = None
    defects: tuple[str, ...] = ()  # problems noticed and survived


@dataclass(frozen=True, slots=True)
class Unparseable:
    """A message that cannot be processed; it is quarantined with this reason."""

    reason: str


@dataclass(frozen=True, slots=True)
class LeadData:
    """What a lead email says about the person asking for work."""

    source: str  # e.g. "rengoring.nu", "leadpoint", "website"
    name: str | None = None
    email: str | None = None
    phone: str | None = None  # E.164, e.g. "+4512345678"
    address: str | None = None
    property_type: str | None = None  # Boligtype
    task_type: str | None = None  # Behov
    size_m2: int | None = None
    rooms: int | None = None
    preferred_dates: str | None = None
    message: str | None = None


class Kind(StrEnum):
    INBOUND = "inbound"  # from a customer to us
    OUTBOUND = "outbound"  # from us to a customer
    BOUNCE = "bounce"  # a delivery-status notification about one of our messages
    SKIP = "skip"  # noise, spam, drafts, internal mail: recorded, not stored


@dataclass(frozen=True, slots=True)
class Classification:
    kind: Kind
    customer: Address | None = None  # the counterpart who is (or becomes) the customer
    lead: LeadData | None = None
    skip_reason: str | None = None  # stable, machine-readable, e.g. "bulk:list-id"
    bounced_message_ids: tuple[str, ...] = field(default=())  # Message-IDs of our originals
