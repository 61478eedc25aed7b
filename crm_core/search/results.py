"""What a search returns: ranked hits with a highlighted snippet and what they belong to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from crm_core.statuses import Direction

# The database marks matches with these (private-use) characters; ``Snippet.parse``
# turns them into spans, so no caller ever sees them.
MARK_START = "\ue000"
MARK_END = "\ue001"


@dataclass(frozen=True)
class Snippet:
    """A piece of text and the [start, end) spans in it that matched."""

    text: str
    highlights: tuple[tuple[int, int], ...] = ()

    @classmethod
    def parse(cls, marked: str) -> Snippet:
        text: list[str] = []
        spans: list[tuple[int, int]] = []
        length = 0
        start: int | None = None
        for char in marked:
            if char == MARK_START:
                start = length
            elif char == MARK_END:
                if start is not None and length > start:
                    spans.append((start, length))
                start = None
            else:
                text.append(char)
                length += 1
        return cls("".join(text), tuple(spans))


@dataclass(frozen=True)
class CustomerHit:
    customer_id: str
    name: str
    email: str | None
    phone: str | None
    company_name: str | None
    address: str | None
    score: float
    matched_field: str  # "name", "email", "phone", "company_name" or "address"
    snippet: Snippet


@dataclass(frozen=True)
class MessageHit:
    message_id: str
    conversation_id: str
    conversation_subject: str | None
    customer_id: str | None
    customer_name: str | None
    direction: Direction
    sent_at: datetime
    subject: str | None
    from_address: str
    score: float
    snippet: Snippet


HitT = TypeVar("HitT", CustomerHit, MessageHit)


@dataclass(frozen=True)
class SearchResults(Generic[HitT]):
    """The best ``hits``, and how many match in all.

    ``total`` is exact unless ``total_is_lower_bound``: counting stops at a cap so that
    a word found in most of the mail does not cost a count of all of it.
    """

    hits: list[HitT] = field(default_factory=list)
    total: int = 0
    total_is_lower_bound: bool = False
