"""Bounds of the limit and offset a list query accepts.

Both end up as SQL integers: SQLite refuses anything past 2**63 - 1 with an
OverflowError and PostgreSQL with an out-of-range error. A list is also read into
memory, so a page is bounded far below that.
"""

from __future__ import annotations

from crm_core.errors import ValidationError

MAX_LIMIT = 1_000_000
MAX_OFFSET = 2**63 - 1


def checked_limit(limit: int | None) -> int | None:
    """``limit`` when it is 1 … MAX_LIMIT (None: no limit), else ValidationError."""
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT:,}, got {limit}")
    return limit


def checked_offset(offset: int) -> int:
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationError(f"offset must be zero or more (and fit in 64 bits), got {offset}")
    return offset
