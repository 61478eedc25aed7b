"""The database as configured: one engine per process, sessions per unit of work."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import make_engine, make_session_factory
from worker.config import DatabaseSettings


@cache
def _engine(url: str, echo: bool, schema: str | None) -> Engine:
    return make_engine(url, echo=echo, schema=schema)


def engine_for(settings: DatabaseSettings) -> Engine:
    return _engine(settings.url, settings.echo, settings.pg_schema)


def sessions_for(settings: DatabaseSettings) -> sessionmaker[Session]:
    return make_session_factory(engine_for(settings))
