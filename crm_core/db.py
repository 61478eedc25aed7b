"""Engines and sessions for PostgreSQL (production) and SQLite (embedded default)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateSchema


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False, schema: str | None = None) -> Engine:
    """Create an engine with the settings each database needs for safe concurrent use.

    ``schema`` (PostgreSQL only) puts every table in that schema through the search
    path (with ``public`` behind it for extensions); the tests use it to give each test
    process its own copy of the database.
    """
    if is_sqlite(url):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": 30, "check_same_thread": False},
            # A file database opened per use: no connection is shared between threads.
            poolclass=NullPool,
        )
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        # public after the schema: extensions the search uses (pg_trgm) live there,
        # shared by every schema of the database; tables are created in the first.
        connect_args["options"] = f"-csearch_path={schema},public"
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args, future=True)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and upgrades read locks to
    # write locks mid-transaction, which deadlocks concurrent writers; we take the
    # write lock up front (BEGIN IMMEDIATE) and let busy_timeout queue writers.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def ping(connectable: Session | Connection) -> None:
    """A round trip to the database; raises when it cannot be reached."""
    connectable.execute(text("SELECT 1"))


def create_schema(connection: Connection, schema: str) -> None:
    """Create a PostgreSQL schema unless it exists (for ``database.pg_schema``)."""
    connection.execute(CreateSchema(schema, if_not_exists=True))
