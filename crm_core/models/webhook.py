"""Webhooks: the outbox of events, the endpoints that receive them, and each delivery.

``webhook_events`` is written in the transaction of the change it describes (one row
per event, ``crm_core.webhooks.events.emit``); ``seq`` orders them. A fan-out after
the commit (and a periodic sweep) gives each subscribed endpoint a
``webhook_deliveries`` row per event, which the delivery job works through in ``seq``
order, one endpoint at a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, Timestamps, id_column
from crm_core.models.types import UTCDateTime, json_list, status_enum, utcnow
from crm_core.statuses import DeliveryStatus

# SQLite gives a rowid (autoincrement) only to an INTEGER PRIMARY KEY.
Seq = BigInteger().with_variant(Integer(), "sqlite")


class WebhookEvent(Base):
    """One domain fact (``customer.created``, ``message.received``, …), in commit order."""

    __tablename__ = "webhook_events"

    seq: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    # A stable public id ("evt_…"): part of every delivery's webhook-id.
    id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    # Whose data the payload holds (erasure finds the rows by it); no foreign key, so
    # an event outlives a merge.
    customer_id: Mapped[str | None] = mapped_column(String(25), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Set once deliveries were made for every endpoint subscribed at the time.
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_webhook_events_fanned_out_seq", "fanned_out", "seq"),)


class WebhookEndpoint(Timestamps, Base):
    """A URL that receives the events of the types it subscribed to."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = id_column()
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    # Event types, or ["*"] for all of them.
    event_types: Mapped[list[str]] = mapped_column(JSON, default=json_list)
    # "whsec_" + base64: needed in clear to sign; shown once, masked everywhere else.
    secret: Mapped[str] = mapped_column(String(100))
    include_bodies: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    # The first failure of the current run of failures (cleared by a success).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # One delivery job at a time per endpoint (order): who holds it, and until when.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(Timestamps, Base):
    """One event for one endpoint: its attempts and their outcome."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = id_column()
    endpoint_id: Mapped[str] = mapped_column(
        String(25), ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_seq: Mapped[int] = mapped_column(
        Seq, ForeignKey("webhook_events.seq", ondelete="CASCADE"), index=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(status_enum(DeliveryStatus, "delivery_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_code: Mapped[int | None] = mapped_column(Integer)
    # The start of the receiver's answer (or the error), for `crm webhook deliveries`.
    response_body: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_seq"),
        Index("ix_webhook_deliveries_endpoint_status_seq", "endpoint_id", "status", "event_seq"),
    )
