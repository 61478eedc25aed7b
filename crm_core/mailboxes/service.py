"""The Mailbox repository: one row per connected mailbox, changed by conditional UPDATEs.

Every change that two processes could race on (taking the lease, moving the history
cursor) is a single UPDATE whose WHERE clause states the condition, so the database
decides who wins; the caller reads the row count. Functions take a session and never
commit, like the other services.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from crm_core.ids import new_id
from crm_core.models import Mailbox
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key
from crm_core.statuses import MailboxStatus
from crm_core.upsert import insert_ignore

ERROR_LIMIT = 500
_table = Mailbox.__table__


def _rows(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def get_mailbox(session: Session, address: str) -> Mailbox | None:
    return session.execute(
        select(Mailbox)
        .where(Mailbox.address == mailbox_key(address))
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def get_or_create_mailbox(session: Session, address: str) -> Mailbox:
    """The mailbox row for ``address`` (compared lower-case), created active if new."""
    now = utcnow()
    insert_ignore(
        session,
        _table,  # type: ignore[arg-type]
        {
            "id": new_id(),
            "address": mailbox_key(address),
            "status": MailboxStatus.ACTIVE.value,
            "created_at": now,
            "updated_at": now,
        },
        ["address"],
    )
    found = get_mailbox(session, address)
    assert found is not None
    return found


def list_mailboxes(session: Session) -> list[Mailbox]:
    return list(session.execute(select(Mailbox).order_by(Mailbox.address)).scalars())


# --- the lease ----------------------------------------------------------------------


def acquire_lease(
    session: Session, address: str, owner: str, ttl: timedelta, *, now: datetime | None = None
) -> bool:
    """Take the mailbox's sync lease when it is free, expired or already ours.

    The mailbox row must exist (``get_or_create_mailbox``). Commit right after, so
    other processes see the lease.
    """
    now = now or utcnow()
    result = session.execute(
        update(Mailbox)
        .where(
            Mailbox.address == mailbox_key(address),
            or_(
                Mailbox.lease_owner.is_(None),
                Mailbox.lease_until.is_(None),
                Mailbox.lease_until < now,
                Mailbox.lease_owner == owner,
            ),
        )
        .values(lease_owner=owner, lease_until=now + ttl, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rows(result) == 1


def take_over_lease(
    session: Session,
    address: str,
    previous_owner: str,
    owner: str,
    ttl: timedelta,
    *,
    now: datetime | None = None,
) -> bool:
    """Take the lease from ``previous_owner`` (known to be dead), if it still holds it."""
    now = now or utcnow()
    result = session.execute(
        update(Mailbox)
        .where(Mailbox.address == mailbox_key(address), Mailbox.lease_owner == previous_owner)
        .values(lease_owner=owner, lease_until=now + ttl, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rows(result) == 1


def renew_lease(
    session: Session, address: str, owner: str, ttl: timedelta, *, now: datetime | None = None
) -> bool:
    """Extend our lease; False when it is no longer ours (expired and taken over)."""
    now = now or utcnow()
    result = session.execute(
        update(Mailbox)
        .where(Mailbox.address == mailbox_key(address), Mailbox.lease_owner == owner)
        .values(lease_until=now + ttl, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rows(result) == 1


def release_lease(session: Session, address: str, owner: str) -> bool:
    """Give the lease up, if it is still ours."""
    result = session.execute(
        update(Mailbox)
        .where(Mailbox.address == mailbox_key(address), Mailbox.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return _rows(result) == 1


# --- the history cursor ---------------------------------------------------------------


def advance_history_id(
    session: Session, address: str, history_id: int, *, now: datetime | None = None
) -> bool:
    """Move the cursor forward to ``history_id``; never backwards.

    Returns False (and changes nothing) when the stored id is already at or past it.
    """
    now = now or utcnow()
    result = session.execute(
        update(Mailbox)
        .where(
            Mailbox.address == mailbox_key(address),
            or_(Mailbox.history_id.is_(None), Mailbox.history_id < history_id),
        )
        .values(history_id=history_id, history_applied_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rows(result) == 1


# --- status ---------------------------------------------------------------------------


def _set(session: Session, address: str, **values: object) -> None:
    get_or_create_mailbox(session, address)
    session.execute(
        update(Mailbox)
        .where(Mailbox.address == mailbox_key(address))
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )


def mark_needs_reauth(session: Session, address: str, reason: str) -> None:
    """The refresh token no longer works: stop syncing until someone authorises again."""
    _set(
        session,
        address,
        status=MailboxStatus.NEEDS_REAUTH,
        last_error=reason[:ERROR_LIMIT],
    )


def mark_active(session: Session, address: str) -> None:
    """Authorised again: syncing may resume."""
    _set(session, address, status=MailboxStatus.ACTIVE, last_error=None)


def record_error(session: Session, address: str, message: str) -> None:
    _set(session, address, last_error=message[:ERROR_LIMIT])


def record_sync(session: Session, address: str, *, full: bool, now: datetime | None = None) -> None:
    """A sync finished: remember when, and clear the last error."""
    now = now or utcnow()
    values: dict[str, object] = {"last_sync_at": now, "last_error": None}
    if full:
        values["last_full_sync_at"] = now
    _set(session, address, **values)


def record_watch(session: Session, address: str, expires_at: datetime) -> None:
    """Gmail publishes the mailbox's changes until ``expires_at`` (users.watch)."""
    _set(session, address, watch_expires_at=expires_at)
