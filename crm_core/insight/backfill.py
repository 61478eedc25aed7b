"""Insight for messages stored before it existed, a chunk per transaction.

Messages stored since revision 0011 get their sentiment or template when stored; older
ones have NULL there. ``backfill_chunk`` fills the next ``size`` of them after a
message id (keyset on the primary key), so a large mailbox is done in short
transactions that can be stopped and started again. An outbound message with nothing
to compare (an empty body once quotes and signature are off) stays without a template
and is looked at again by the next run, which changes nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from crm_core.insight.stored import sentiment_columns
from crm_core.insight.templates import OutboundText, templates_for
from crm_core.models import EmailMessage
from crm_core.paging import checked_limit
from crm_core.statuses import Direction


@dataclass(frozen=True, slots=True)
class Chunk:
    scored: int  # inbound messages given a sentiment
    templated: int  # outbound messages given a template
    last_id: str | None  # where the next chunk starts; None when none is left


def backfill_chunk(session: Session, *, after: str | None = None, size: int = 500) -> Chunk:
    checked_limit(size)
    m = EmailMessage
    statement = (
        select(m.id, m.direction, m.body)
        .where(
            or_(
                and_(m.direction == Direction.INBOUND, m.sentiment_score.is_(None)),
                and_(m.direction == Direction.OUTBOUND, m.template_id.is_(None)),
            )
        )
        .order_by(m.id)
        .limit(size)
    )
    if after is not None:
        statement = statement.where(m.id > after)
    rows = session.execute(statement).all()
    inbound = [(row.id, sentiment_columns(row.body)) for row in rows if row.direction == "inbound"]
    outbound = [row for row in rows if row.direction == "outbound"]
    templates = templates_for(session, [OutboundText(row.body) for row in outbound])
    changes = [{"id": message_id, **columns} for message_id, columns in inbound]
    changes += [
        {"id": row.id, "template_id": template_id}
        for row, template_id in zip(outbound, templates, strict=True)
        if template_id is not None
    ]
    if changes:
        for keys in ({"sentiment_score", "sentiment_label"}, {"template_id"}):
            same = [c for c in changes if keys <= c.keys()]
            if same:
                session.execute(update(EmailMessage), same)
    templated = sum(1 for t in templates if t is not None)
    last_id = str(rows[-1].id) if len(rows) == size else None
    return Chunk(scored=len(inbound), templated=templated, last_id=last_id)
