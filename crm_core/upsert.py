"""INSERT … ON CONFLICT DO NOTHING for both databases.

Race-free creation (find-or-create, idempotent inserts) needs the database's own
upsert: a find-then-insert loses to a concurrent insert of the same key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")


def _insert(session: Session, target: Any) -> Any:
    """The dialect's own INSERT (the one that knows ON CONFLICT) for ``target``."""
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(target)


def insert_ignore(
    session: Session, table: Table, values: Mapping[str, Any], conflict: Sequence[str]
) -> bool:
    """Insert ``values`` unless a row with the same ``conflict`` columns exists.

    Returns True when this call inserted the row.
    """
    statement = (
        _insert(session, table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c.id)
    )
    return session.execute(statement).first() is not None


def insert_ignore_returning(
    session: Session, model: type[T], values: Mapping[str, Any], conflict: Sequence[str]
) -> T | None:
    """Like insert_ignore, but returns the inserted ORM object (None on conflict).

    One round trip instead of an insert followed by a read.
    """
    statement = (
        _insert(session, model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(model)
    )
    result: T | None = session.scalars(statement).one_or_none()
    return result


def insert_many_ignore(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]
) -> None:
    """insert_ignore for many rows in one round trip (multi-row VALUES)."""
    if not rows:
        return
    statement = _insert(session, table).on_conflict_do_nothing(index_elements=list(conflict))
    session.execute(statement, list(rows))


def insert_many_ignore_returning(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    returning: Sequence[ColumnElement[Any]],
) -> list[Row[Any]]:
    """insert_many_ignore that returns ``returning`` of the rows it inserted (not of
    those a conflict skipped). Through the connection, not the ORM: SQLAlchemy then
    sends a thousand rows per multi-row INSERT instead of one statement per row."""
    if not rows:
        return []
    statement = (
        _insert(session, table)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(*returning)
    )
    return list(session.connection().execute(statement, list(rows)).all())


def insert_or_add(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    add: Sequence[str],
) -> None:
    """Insert ``rows``; where a row with the same ``conflict`` columns exists, add the
    new values of the ``add`` columns to the stored ones (a counter kept in the
    database, right under concurrent writers)."""
    if not rows:
        return
    statement = _insert(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict),
        set_={name: table.c[name] + statement.excluded[name] for name in add},
    )
    session.execute(statement, list(rows))
