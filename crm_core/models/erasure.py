"""The record of erasures (GDPR article 17) and the addresses whose mail is refused.

Neither table holds personal data: an address appears only as a keyed hash
(HMAC-SHA256 with the key of ``[privacy] hash_key_file``, see crm_core.privacy.keys),
which cannot be turned back into the address without the key and says nothing to
someone who reads a dump of the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, id_column
from crm_core.models.types import UTCDateTime, json_list, utcnow


class Erasure(Base):
    """One erasure: when, how many rows of each kind went, the hashes of the addresses.

    ``placeholder_customer_id`` is the anonymous customer that now owns the person's
    accepted quotes and bookings (None when there were none), so revenue stays counted.
    """

    __tablename__ = "erasures"

    id: Mapped[str] = id_column()
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address_hashes: Mapped[list[str]] = mapped_column(JSON, default=json_list)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    placeholder_customer_id: Mapped[str | None] = mapped_column(String(25))


class Suppression(Base):
    """An address (as its keyed hash) whose inbound mail is skipped (``suppressed``)
    and to which no reply is written."""

    __tablename__ = "suppressions"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    erasure_id: Mapped[str | None] = mapped_column(
        ForeignKey("erasures.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
