"""The migrations build exactly the models' schema, on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from migrations import alembic_config, check
from tests.conftest import Database


def test_models_and_migrations_agree(database: Database) -> None:
    check(database.url, schema=database.schema)  # raises when they differ


def test_schema_enforces_documented_rules(database: Database) -> None:
    inspector = inspect(database.engine)
    customer_uniques = {
        tuple(u["column_names"]) for u in inspector.get_unique_constraints("customers")
    }
    assert ("email_normalized",) in customer_uniques
    message_uniques = {
        tuple(u["column_names"]) for u in inspector.get_unique_constraints("email_messages")
    }
    assert ("mailbox", "gmail_message_id") in message_uniques
    # Customers are found by tag through customer_tags, whose key leads with the tag;
    # no index on customers.tags keeps a tag change from being a HOT update.
    assert inspector.get_pk_constraint("customer_tags")["constrained_columns"] == [
        "tag",
        "customer_id",
    ]
    assert not [i for i in inspector.get_indexes("customers") if "tags" in i["column_names"]]


def test_status_values_are_enforced_by_the_database(database: Database) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, name, status, tags, total_leads, total_bookings,"
                " total_revenue, created_at, updated_at) VALUES ('x', 'X', 'deleted', '[]', 0, 0,"
                " 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                if database.kind == "sqlite"
                else "INSERT INTO customers (id, name, status, tags, total_leads, total_bookings,"
                " total_revenue, created_at, updated_at) VALUES ('x', 'X', 'deleted', '{}', 0, 0,"
                " 0, now(), now())"
            )
        )


def test_downgrade_and_upgrade_round_trip(tmp_path: pytest.TempPathFactory) -> None:
    url = f"sqlite:///{tmp_path}/roundtrip.db"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    check(url)
