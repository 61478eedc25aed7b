"""Alembic environment: one schema for PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from alembic import context

import crm_core.models  # noqa: F401  (registers every table)
from crm_core.db import is_sqlite, make_engine
from crm_core.models import Base
from crm_core.search.schema import is_search_object

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Leave the search index objects (migration 0006) out of the comparison: the models
    do not describe them."""
    parent = parent_names.get("table_name") if type_ == "column" else None
    return not is_search_object(name, type_, parent)


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    schema = config.attributes.get("schema")
    engine = make_engine(url, schema=schema)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
            render_as_batch=is_sqlite(url),
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
