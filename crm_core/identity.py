"""Keeping loaded objects honest after set-based UPDATE statements."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.orm import Session


def expire_if_loaded(session: Session, model: type[object], key: str, attrs: list[str]) -> None:
    """Expire ``attrs`` of the object with primary key ``key`` if the session holds it."""
    identity = inspect(model).identity_key_from_primary_key((key,))
    loaded = session.identity_map.get(identity)
    if loaded is not None:
        session.expire(loaded, attrs)
