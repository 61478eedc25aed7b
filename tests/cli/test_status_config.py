"""`crm status` and `crm config check`: what an operator looks at."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from crm_core.mailboxes import get_or_create_mailbox, mark_needs_reauth
from crm_core.statuses import IngestOutcome
from tests.cli.conftest import Cli
from tests.conftest import Database
from tests.ingest.test_sample_mailbox import SAMPLES


def test_status_counts_and_flags_reauth(cli: Cli, database: Database) -> None:
    cli("import", "mbox", str(SAMPLES / "rendetalje.mbox"))
    with database.sessions() as session, session.begin():
        get_or_create_mailbox(session, "info@rendetalje.dk")
        mark_needs_reauth(session, "info@rendetalje.dk", "authorisation revoked or expired")

    report = cli.json("status")
    overall = report["overall"]
    assert (overall["customers"], overall["leads"], overall["pending"]) == (12, 9, 0)
    assert overall["stored_today"] + overall["skipped_today"] >= 50
    [mailbox] = report["mailboxes"]
    assert mailbox["mailbox"] == "info@rendetalje.dk" and mailbox["needs_reauth"] is True
    assert report["needs_attention"] == ["info@rendetalje.dk"]

    text = cli("status")
    assert "info@rendetalje.dk needs authorisation: crm gmail auth info@rendetalje.dk" in text
    cli.run("status", "--strict", code=2)  # the exit code is checked by run


def test_status_shows_quarantine(cli: Cli, database: Database) -> None:
    from sqlalchemy import update

    from crm_core.inbox import StagedMessage, stage_messages
    from crm_core.models import ReceivedMessage

    with database.sessions() as session, session.begin():
        stage_messages(
            session,
            [StagedMessage("info@rendetalje.dk", "abc", b"x", "api")],
        )
        session.execute(update(ReceivedMessage).values(outcome=IngestOutcome.QUARANTINED))
    assert cli.json("status")["overall"]["quarantined"] == 1
    assert "! quarantined messages: crm quarantine list" in cli("status")


def test_config_check_masks_secrets_and_fails_on_problems(
    cli: Cli, database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    report = cli.json("config", "check")
    assert {c["name"]: c["ok"] for c in report["checks"]} == {"database": True, "broker": True}

    monkeypatch.setenv("CRM_PUSH_SHARED_TOKEN", "very-secret-value")
    token_dir = tmp_path / "tokens"
    token_dir.mkdir()
    loose = token_dir / "info@rendetalje.dk.json"
    loose.write_text("{}")
    loose.chmod(0o644)
    config = tmp_path / "crm.toml"
    config.write_text(
        f'[gmail]\ntoken_dir = "{token_dir}"\n\n'
        '[[mailboxes]]\naddress = "info@rendetalje.dk"\nmode = "push"\n'
    )
    result = cli.run("--config", str(config), "config", "check", code=1)
    assert "very-secret-value" not in result.output
    assert 'shared_token = "***"' in result.output
    assert "FAIL credentials info@rendetalje.dk" in result.output and "chmod 600" in result.output
    assert "FAIL gmail.topic_name" in result.output
    assert "ok   push authentication: shared token" in result.output


def test_daemons_refuse_to_start_when_they_could_not_work(
    bare_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migrations import upgrade

    database = tmp_path / "old.db"
    upgrade(f"sqlite:///{database}", "0001")  # migrations pending
    logging.getLogger("alembic").setLevel(logging.WARNING)
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("CRM_BROKER_URL", "redis://127.0.0.1:1/0")
    line = bare_cli.fails("worker")
    assert line.startswith("Error: cannot start: database: ")
    assert "crm db upgrade" in line and "broker: ConnectionError" in line

    config = tmp_path / "crm.toml"
    config.write_text('[[mailboxes]]\naddress = "info@rendetalje.dk"\n')
    assert "cannot start: database" in bare_cli.fails("--config", str(config), "watch")
