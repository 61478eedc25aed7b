"""The search index follows the rows in the same transaction, on both databases:
stored, changed and erased rows, and rows that existed before the upgrade."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import psycopg
from alembic.script import ScriptDirectory
from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.customers.bulk_changes import add_tags, remove_tags, set_status
from crm_core.customers.filters import CustomerFilter
from crm_core.db import make_engine, make_session_factory
from crm_core.models import Conversation, Customer, EmailMessage
from migrations import alembic_config, check, upgrade
from tests.conftest import PG_URL, Database, _libpq_dsn
from tests.search.stored import store_mail


def _message(session: Session, body: str) -> tuple[str, str]:
    customer_id, ids = store_mail(session, {"message": body})
    return customer_id, ids["message"]


def found_messages(database: Database, query: str) -> list[str]:
    with database.sessions() as session:
        return [hit.message_id for hit in services.search_messages(session, query).hits]


def found_customers(database: Database, query: str) -> list[str]:
    with database.sessions() as session:
        return [hit.customer_id for hit in services.search_customers(session, query).hits]


def test_found_within_the_storing_transaction(database: Database) -> None:
    with database.sessions() as session, session.begin():
        customer_id, message_id = _message(session, "Vi ønsker tæpperens i stuen.")
        session.flush()
        assert [h.message_id for h in services.search_messages(session, "tæpperens").hits] == [
            message_id
        ]
        assert services.search_customers(session, "mette").hits[0].customer_id == customer_id
        session.rollback()
    assert found_messages(database, "tæpperens") == []
    assert found_customers(database, "mette") == []


def test_changes_and_erasure_follow(database: Database) -> None:
    with database.sessions() as session, session.begin():
        customer_id, message_id = _message(session, "Vi ønsker tæpperens i stuen.")
    with database.sessions() as session, session.begin():
        session.execute(
            update(EmailMessage).where(EmailMessage.id == message_id).values(body="Vinduespudsning")
        )
        services.update_customer(session, customer_id, name="Mette Jensen", phone="12 34 56 78")
    assert found_messages(database, "tæpperens") == []
    assert found_messages(database, "vinduespudsning") == [message_id]
    assert found_customers(database, "jensen") == [customer_id]
    assert found_customers(database, "12345678") == [customer_id]
    assert found_customers(database, "hansen") == []

    # Erasure of a person's data: the rows go, and the index entries with them.
    with database.sessions() as session, session.begin():
        session.execute(delete(EmailMessage).where(EmailMessage.id == message_id))
        session.execute(delete(Customer).where(Customer.id == customer_id))
    assert found_messages(database, "vinduespudsning") == []
    assert found_customers(database, "jensen") == []
    assert found_customers(database, "12345678") == []
    with database.engine.connect() as connection:
        for table in (
            ("message_search", "message_search_rows", "customer_search")
            if database.kind == "sqlite"
            else ("message_search_pairs", "customer_search_texts", "customer_search_words")
        ):
            count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert count == 0, table


def _before_search() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revision = script.get_revision("0006")
    assert revision is not None and isinstance(revision.down_revision, str)
    return revision.down_revision


def _rows_before_upgrade(url: str, schema: str | None) -> None:
    """One customer, conversation and message stored by the schema before search."""
    upgrade(url, _before_search(), schema=schema)
    engine = make_engine(url, schema=schema)
    now = "CURRENT_TIMESTAMP"
    tags = "'[]'" if url.startswith("sqlite") else "'{}'"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, name, email, phone, status, tags, total_leads,"
                " total_bookings, total_revenue, created_at, updated_at) VALUES ('c1',"
                f" 'Sofie Lund', 'sofie@lund.dk', '+45 87654321', 'active', {tags}, 0, 0, 0,"
                f" {now}, {now})"
            )
        )
        connection.execute(
            text(
                "INSERT INTO conversations (id, customer_id, channel, status, mailbox,"
                f" created_at, updated_at) VALUES ('k1', 'c1', 'email', 'active', '', {now},"
                f" {now})"
            )
        )
        connection.execute(
            text(
                "INSERT INTO email_messages (id, conversation_id, mailbox, from_address,"
                " to_address, subject, body, attachments, direction, status, is_ai_generated,"
                " sent_at, created_at, updated_at) VALUES ('m1', 'k1', '', 'sofie@lund.dk',"
                " 'info@rendetalje.dk', 'Klinik', 'Daglig rengøringen af klinikken', '[]',"
                f" 'inbound', 'sent', false, {now}, {now}, {now})"
            )
        )
    engine.dispose()
    upgrade(url, schema=schema)
    check(url, schema=schema)
    engine = make_engine(url, schema=schema)
    with make_session_factory(engine)() as session:
        assert [h.message_id for h in services.search_messages(session, "rengøring").hits] == ["m1"]
        phrase = services.search_messages(session, '"rengøringen af klinikken"')
        assert [h.message_id for h in phrase.hits] == ["m1"]
        assert [h.customer_id for h in services.search_customers(session, "Sofe Lund").hits] == [
            "c1"
        ]
        assert [h.customer_id for h in services.search_customers(session, "Sofie Lnd").hits] == [
            "c1"
        ]
        assert [h.customer_id for h in services.search_customers(session, "87 65 43 21").hits] == [
            "c1"
        ]
    engine.dispose()


def test_the_upgrade_indexes_existing_rows_on_sqlite(tmp_path: Path) -> None:
    _rows_before_upgrade(f"sqlite:///{tmp_path}/before.db", None)


def test_the_upgrade_indexes_existing_rows_on_postgresql() -> None:
    schema = f"crm_test_upgrade_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(_libpq_dsn(PG_URL), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        _rows_before_upgrade(PG_URL, schema)
    finally:
        with psycopg.connect(_libpq_dsn(PG_URL), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_merged_customer_is_found_as_the_one_it_was_merged_into(database: Database) -> None:
    with database.sessions() as session:
        kept = services.create_customer(session, name="Søren Madsen", email="soren@example.dk")
        typo = services.create_customer(
            session, name="Søren Madsen", email="soren.madsen@gmial.com"
        )
        session.commit()
        assert {h.customer_id for h in services.search_customers(session, "Søren").hits} == {
            kept.id,
            typo.id,
        }
        services.merge_customers(session, kept.id, typo.id)
        session.commit()
        found = services.search_customers(session, "Søren Madsen").hits
        assert [hit.customer_id for hit in found] == [kept.id]


def _search_row_version(database: Database, customer_id: str) -> str | None:
    """PostgreSQL: the transaction that last wrote the customer's search text."""
    if database.kind != "postgresql":
        return None
    with database.engine.connect() as connection:
        return str(
            connection.execute(
                text("SELECT xmin FROM customer_search_texts WHERE customer_id = :id"),
                {"id": customer_id},
            ).scalar_one()
        )


def test_tag_and_status_changes_keep_customers_found(database: Database) -> None:
    with database.sessions() as session, session.begin():
        customer = services.create_customer(session, name="Mette Hansen", email="mh@example.dk")
    before = _search_row_version(database, customer.id)
    with database.sessions() as session, session.begin():
        assert add_tags(session, CustomerFilter(), ["kampagne"]) == {"kampagne": 1}
        assert set_status(session, CustomerFilter(), "inactive") == 1
    assert found_customers(database, "mette hansen") == [customer.id]
    # A tag or status change does not rewrite the customer's search text.
    assert _search_row_version(database, customer.id) == before
    with database.sessions() as session, session.begin():
        assert remove_tags(session, CustomerFilter(), ["kampagne"]) == {"kampagne": 1}
        services.update_customer(session, customer.id, company_name="Hansen Rengøring ApS")
    assert found_customers(database, "rengøring aps") == [customer.id]
    assert found_customers(database, "mette hansen") == [customer.id]


def test_postgresql_words_of_customers_follow_changes_and_erasure(pg_database: Database) -> None:
    """customer_search_words (migration 0019) holds a word while a customer holds it."""

    def words() -> set[str]:
        with pg_database.sessions() as session:
            return set(session.execute(text("SELECT word FROM customer_search_words")).scalars())

    with pg_database.sessions() as session, session.begin():
        first = services.create_customer(session, name="Xenia Qvist", email="xq@example.dk")
        services.create_customer(session, name="Ole Qvist", email="oq@example.dk")
    assert {"xenia", "qvist", "example"} <= words()
    assert "xq" not in words() and "dk" not in words()  # under three letters
    with pg_database.sessions() as session, session.begin():
        services.update_customer(session, first.id, name="Xenia Zorn")
    assert {"zorn", "qvist"} <= words()
    with pg_database.sessions() as session, session.begin():
        session.execute(delete(Customer).where(Customer.name == "Ole Qvist"))
    assert "qvist" not in words() and "ole" not in words()
    with pg_database.sessions() as session, session.begin():
        session.execute(delete(Customer).where(Customer.id == first.id))
    assert "xenia" not in words() and "zorn" not in words() and "example" not in words()
    with pg_database.sessions() as session, session.begin():
        services.create_customer(session, name="Ida Holm", email="ih@example.dk")
        session.execute(text("TRUNCATE customers CASCADE"))
    assert words() == set()


def test_postgresql_search_rows_go_with_cascades_and_truncation(pg_database: Database) -> None:
    """Deleted by trigger (migration 0020): with a customer, with the messages of a deleted
    conversation, which the database deletes for it, and with a TRUNCATE, which fires
    no DELETE trigger."""

    def counts() -> dict[str, int]:
        with pg_database.engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("message_search_pairs", "customer_search_texts")
            }

    with pg_database.sessions() as session, session.begin():
        gone, _ = _message(session, "Vi ønsker tæpperens i stuen.")
        store_mail(session, {"kept": "Flytte rengøring i maj"}, name="Ole Qvist", email="oq@x.dk")
    assert counts() == {"message_search_pairs": 2, "customer_search_texts": 2}
    with pg_database.sessions() as session, session.begin():
        session.execute(delete(Conversation).where(Conversation.customer_id == gone))
        session.execute(delete(Customer).where(Customer.id == gone))
    assert counts() == {"message_search_pairs": 1, "customer_search_texts": 1}
    assert found_messages(pg_database, '"flytte rengøring"') != []
    with pg_database.sessions() as session, session.begin():
        session.execute(text("TRUNCATE email_messages CASCADE"))
    assert counts() == {"message_search_pairs": 0, "customer_search_texts": 1}
    with pg_database.sessions() as session, session.begin():
        session.execute(text("TRUNCATE customers CASCADE"))
    assert counts() == {"message_search_pairs": 0, "customer_search_texts": 0}


def test_postgresql_new_words_of_customers_created_side_by_side_wait_for_nothing(
    pg_database: Database,
) -> None:
    """Two transactions create customers whose words the table does not hold yet, each
    taking a word the other added first, uncommitted (as two ingestion workers do). No
    statement waits for the other transaction: they waited for each other until
    PostgreSQL broke the deadlock (migration 0021). A lock timeout turns a wait into a
    failure here."""
    one, two = pg_database.sessions(), pg_database.sessions()
    try:
        for session in (one, two):
            session.execute(text("SET lock_timeout = '3s'"))
        services.create_customer(one, name="Xavi Quorn", email="xavi@quornmail.dk")
        one.flush()
        services.create_customer(two, name="Yrsa Plimm", email="yrsa@plimmhost.dk")
        two.flush()
        services.create_customer(one, name="Yrsa Quorn", email="yq@quornmail.dk")
        one.flush()  # 'yrsa': added by two, not committed
        services.create_customer(two, name="Xavi Plimm", email="xp@plimmhost.dk")
        two.flush()  # 'xavi' and 'quornmail': added by one, not committed
        one.commit()
        two.commit()
    finally:
        one.close()
        two.close()
    with pg_database.sessions() as session:
        words = set(session.execute(text("SELECT word FROM customer_search_words")).scalars())
    assert {"xavi", "quorn", "yrsa", "plimm", "quornmail", "plimmhost"} <= words
    assert sorted(found_customers(pg_database, "Xavi Quron")) == sorted(
        found_customers(pg_database, "Xavi Quorn")
    )
    assert len(found_customers(pg_database, "Xavi Quron")) == 1
