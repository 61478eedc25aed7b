"""Describing a failure without leaking message content into logs or the ledger."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError


def describe_error(exc: BaseException, limit: int = 200) -> str:
    """Exception type and the first line of its message.

    SQLAlchemy appends the statement's parameters (which may hold an email body) to
    its messages and drivers put row values in DETAIL lines: neither is kept.
    """
    source: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
    first_line = (str(source).strip().splitlines() or [""])[0]
    return f"{type(source).__name__}: {first_line}"[:limit]
