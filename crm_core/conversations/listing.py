"""Listing conversations, most recently active first, with their total count."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm_core.models import Conversation, EmailMessage
from crm_core.paging import DEFAULT_LIMIT, checked_limit
from crm_core.statuses import ConversationStatus, parse_status

S = TypeVar("S", bound=Select[Any])


def _filtered(
    statement: S,
    customer_id: str | None,
    status: str | ConversationStatus | None,
    since: datetime | None,
) -> S:
    if customer_id is not None:
        statement = statement.where(Conversation.customer_id == customer_id)
    if status is not None:
        statement = statement.where(Conversation.status == parse_status(ConversationStatus, status))
    if since is not None:
        statement = statement.where(Conversation.last_contact_at >= since)
    return statement


def list_conversations(
    session: Session,
    *,
    customer_id: str | None = None,
    status: str | ConversationStatus | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Conversation]:
    """Conversations (``since``: last contact on or after it), most recent first."""
    statement = _filtered(select(Conversation), customer_id, status, since)
    statement = statement.order_by(
        Conversation.last_contact_at.desc().nulls_last(),
        Conversation.created_at.desc(),
        Conversation.id,
    ).limit(checked_limit(limit))
    return list(session.execute(statement).scalars())


def count_conversations(
    session: Session,
    *,
    customer_id: str | None = None,
    status: str | ConversationStatus | None = None,
    since: datetime | None = None,
) -> int:
    statement = _filtered(
        select(func.count()).select_from(Conversation), customer_id, status, since
    )
    return int(session.execute(statement).scalar_one())


def message_counts(session: Session, conversation_ids: Collection[str]) -> dict[str, int]:
    """How many messages each of these conversations holds (absent: none)."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(EmailMessage.conversation_id, func.count())
        .where(EmailMessage.conversation_id.in_(ids))
        .group_by(EmailMessage.conversation_id)
    )
    return {conversation_id: int(count) for conversation_id, count in rows}
