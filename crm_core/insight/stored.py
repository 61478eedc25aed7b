"""The insight columns of a message being stored: sentiment for inbound mail, the
template for outbound mail. Called by every path that inserts messages
(``create_email_message``, ``store_new_messages``, ``reply``) so none is left out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from crm_core.insight.sentiment import score_message
from crm_core.insight.templates import OutboundText, templates_for
from crm_core.statuses import Direction


def sentiment_columns(body: str) -> dict[str, Any]:
    score = score_message(body)
    return {"sentiment_score": score.value, "sentiment_label": score.label.value}


def insight_columns(
    session: Session, items: Sequence[tuple[Direction, str, str | None]]
) -> list[dict[str, Any]]:
    """For each (direction, body, template name) the columns to store with it."""
    outbound = [i for i, (direction, _, _) in enumerate(items) if direction is Direction.OUTBOUND]
    templates = templates_for(session, [OutboundText(items[i][1], items[i][2]) for i in outbound])
    # Every row has the same keys: a multi-row INSERT takes its columns from them all.
    columns: list[dict[str, Any]] = [
        {"template_id": None, "sentiment_score": None, "sentiment_label": None}
        if direction is Direction.OUTBOUND
        else {"template_id": None, **sentiment_columns(body)}
        for direction, body, _ in items
    ]
    for index, template_id in zip(outbound, templates, strict=True):
        columns[index]["template_id"] = template_id
    return columns
