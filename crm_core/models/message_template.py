"""Templates of outbound mail: messages whose normalised bodies are near-duplicates.

A template holds no text of any message: only an optional name given by a person, the
MinHash signature of the normalised body that founded it (hashes, not words) and its
LSH band keys, by which a new message finds it with an indexed lookup. The example a
report shows is read from a message that references the template, so erasing a
person's messages erases it too (crm_core/insight/templates.py).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, Timestamps, id_column


class MessageTemplate(Timestamps, Base):
    __tablename__ = "message_templates"

    id: Mapped[str] = id_column()
    # Given with ``template=`` when a message is recorded, or by ``crm template name``.
    name: Mapped[str | None] = mapped_column(String(200), unique=True)
    # The founding message's MinHash signature (uint32 values, little-endian); None for
    # a template that so far has only been named and used by name.
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)


class TemplateBand(Base):
    """One LSH band key of a template's signature: messages sharing a key are candidates."""

    __tablename__ = "message_template_bands"

    band_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    template_id: Mapped[str] = mapped_column(
        ForeignKey("message_templates.id", ondelete="CASCADE"), primary_key=True, index=True
    )
