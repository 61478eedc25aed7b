"""Which template an outbound message belongs to, decided when the message is stored.

By name when the sender gives one (``template=`` to ``create_email_message`` or
``reply``; ``crm reply --template``): the template of that name, created on first use.
Otherwise by similarity: the message's normalised body (crm_core/insight/text.py) is
signed (signature.py), the templates sharing an LSH band key are read with one indexed
query, and the most similar one at or above ``SAME_TEMPLATE`` is taken; when there is
none the message founds a new template. A named template used first by name takes the
signature of its first message, so later mail of the same text without a name joins it.

A template stores no text (see the model); reports show only those used at least twice
or named. Two jobs storing the first two uses of a new text at the same moment may
found two templates; later uses join the more similar one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crm_core.errors import ConflictError, NotFoundError, ValidationError
from crm_core.ids import new_id
from crm_core.insight.signature import SAME_TEMPLATE, band_keys, signature_of, similarity
from crm_core.models import MessageTemplate, TemplateBand
from crm_core.models.types import utcnow
from crm_core.upsert import insert_many_ignore

_IN_CHUNK = 500  # band keys per IN (…) list
NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class OutboundText:
    """An outbound message's body and the template name its sender gave, if any."""

    body: str
    template: str | None = None


@dataclass(slots=True)
class _Known:
    id: str
    signature: bytes


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationError("a template name cannot be empty")
    if len(cleaned) > NAME_LENGTH:
        raise ValidationError(f"a template name has at most {NAME_LENGTH} characters")
    return cleaned


def templates_for(session: Session, messages: Sequence[OutboundText]) -> list[str | None]:
    """The template id of each message, in order (None: nothing left to compare once
    greeting, quotes and signature are off, and no name given). Creates templates,
    with one INSERT for the new templates and one for their band keys."""
    result: list[str | None] = [None] * len(messages)
    signatures = [signature_of(m.body) for m in messages]
    named = _named_templates(session, {clean_name(m.template) for m in messages if m.template})
    candidates = _candidates(
        session, {key for s in signatures if s is not None for key in band_keys(s)}
    )
    founded: list[dict[str, object]] = []
    bands: list[dict[str, str]] = []

    def remember(known: _Known, keys: list[str]) -> None:
        # Later messages of this call find it like one read from the database.
        for key in keys:
            candidates.setdefault(key, []).append(known)
            bands.append({"band_key": key, "template_id": known.id})

    for index, (message, signature) in enumerate(zip(messages, signatures, strict=True)):
        if message.template:
            template = named[clean_name(message.template)]
            result[index] = template.id
            if template.signature is None and signature is not None:
                template.signature = signature
                remember(_Known(template.id, signature), band_keys(signature))
            continue
        if signature is None:
            continue
        keys = band_keys(signature)
        seen = {k.id: k for key in keys for k in candidates.get(key, [])}
        best = max(seen.values(), key=lambda k: similarity(signature, k.signature), default=None)
        if best is not None and similarity(signature, best.signature) >= SAME_TEMPLATE:
            result[index] = best.id
            continue
        known = _Known(new_id(), signature)
        now = utcnow()
        founded.append(
            {"id": known.id, "signature": signature, "created_at": now, "updated_at": now}
        )
        remember(known, keys)
        result[index] = known.id
    if founded:
        session.execute(insert(MessageTemplate), founded)
    session.flush()  # a named template's new signature, before its bands
    insert_many_ignore(
        session,
        TemplateBand.__table__,  # type: ignore[arg-type]
        bands,
        conflict=["band_key", "template_id"],
    )
    return result


def _named_templates(session: Session, names: set[str]) -> dict[str, MessageTemplate]:
    if not names:
        return {}
    now = utcnow()
    insert_many_ignore(
        session,
        MessageTemplate.__table__,  # type: ignore[arg-type]
        [{"id": new_id(), "name": n, "created_at": now, "updated_at": now} for n in sorted(names)],
        conflict=["name"],
    )
    rows = session.execute(select(MessageTemplate).where(MessageTemplate.name.in_(names))).scalars()
    return {str(t.name): t for t in rows}


def _candidates(session: Session, keys: set[str]) -> dict[str, list[_Known]]:
    """The templates that share one of ``keys``, by key."""
    found: dict[str, list[_Known]] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _IN_CHUNK):
        rows = session.execute(
            select(TemplateBand.band_key, MessageTemplate.id, MessageTemplate.signature)
            .join(MessageTemplate, MessageTemplate.id == TemplateBand.template_id)
            .where(TemplateBand.band_key.in_(ordered[start : start + _IN_CHUNK]))
        )
        for key, template_id, signature in rows:
            if signature is not None:
                found.setdefault(key, []).append(_Known(template_id, signature))
    return found


def name_template(session: Session, template_id: str, name: str) -> MessageTemplate:
    """Give a template a name (shown in reports; usable as ``template=``)."""
    cleaned = clean_name(name)
    template = session.get(MessageTemplate, template_id)
    if template is None:
        raise NotFoundError("template", template_id)
    other = session.execute(
        select(MessageTemplate.id).where(
            MessageTemplate.name == cleaned, MessageTemplate.id != template_id
        )
    ).scalar()
    if other is not None:
        raise ConflictError(f"template {other} is already named {cleaned!r}")
    template.name = cleaned
    template.updated_at = utcnow()
    session.flush()
    return template
