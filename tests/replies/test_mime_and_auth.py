"""The MIME of a reply, the API behind `crm reply`, and `crm gmail auth --send`."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crm_core import services
from crm_core.db import transaction
from tests.conftest import Database
from tests.gmail.conftest import MAILBOX
from tests.gmail.test_credentials import _config
from tests.gmail_fake import FakeGmailServer
from tests.replies.conftest import (
    COMPOSE,
    READ,
    SEND,
    Crm,
    Mailbox,
    reply_row,
)
from worker.cli.main import app
from worker.gmail import auth_flow
from worker.mail.compose import Reply, compose
from worker.mail.message import ParseLimits
from worker.mail.parse import parse_message

TEXT = "Hej Åse,\n\nVi kommer på fredag kl. 9 — pris 1.250 kr.\n" + "Lang linje " * 20 + "\n"
HTML = "<p>Hej Åse,</p><p>Vi kommer på <b>fredag</b> kl. 9.</p>"


def test_reply_mime_parses_back_with_headers_thread_charset_and_both_parts() -> None:
    reply = Reply(
        from_address=MAILBOX,
        to_address="Kunde Ørsted <kunde@example.net>",
        subject="Re: Rengøring på Østerbro",
        message_id="r1.abc@rendetalje.dk",
        in_reply_to="mail2@example.net",
        references=["mail1@example.net", "mail2@example.net"],
        body=TEXT,
        html=HTML,
        date=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    )
    raw = compose(reply)

    assert b"\r\n" in raw and max(len(line) for line in raw.split(b"\r\n")) <= 78
    mime = message_from_bytes(raw, policy=policy.default)
    assert mime["Subject"] == "Re: Rengøring på Østerbro"
    assert mime["To"].addresses[0].display_name == "Kunde Ørsted"
    assert mime["Message-ID"] == "<r1.abc@rendetalje.dk>"
    assert mime["In-Reply-To"] == "<mail2@example.net>"
    assert mime["References"] == "<mail1@example.net> <mail2@example.net>"
    assert mime.get_content_type() == "multipart/alternative"
    plain, html = mime.iter_parts()
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert plain.get_content().replace("\r\n", "\n") == TEXT
    assert "<b>fredag</b>" in html.get_content()

    parsed = parse_message(raw, ParseLimits())
    assert not isinstance(parsed, type(None))
    assert parsed.message_id == "r1.abc@rendetalje.dk"  # type: ignore[union-attr]
    assert parsed.references == ("mail1@example.net", "mail2@example.net")  # type: ignore[union-attr]
    assert parsed.body_text.strip() == TEXT.strip()  # type: ignore[union-attr]


def test_python_api_records_and_a_resume_sends(
    crm: Crm,
    database: Database,
    mailbox: Mailbox,
    conversation: str,
) -> None:
    with transaction(database.sessions) as session:
        recorded = services.reply(
            session,
            conversation,
            "Hej,\n\nTak, vi kommer.\n",
            author="system",
            is_ai_generated=True,
            ai_model="gemini-1.5-pro",
            template="bekraeftelse",
            mode="send",
        )
        reply_id = recorded.id
    with transaction(database.sessions) as session:
        message = services.get_conversation_messages(session, conversation)[-1]
        assert (message.id, message.status.value, message.subject) == (
            reply_id,
            "draft",
            "Re: Rengøring 1",
        )
        assert message.in_reply_to == "mail1@example.net"
        assert message.rfc822_message_id and message.rfc822_message_id.endswith("@rendetalje.dk")
    assert reply_row(database, reply_id).state.value == "queued"  # no job: nothing sent
    assert mailbox.sent == []

    crm.run("reply", "resume")  # what a starting worker does too

    assert reply_row(database, reply_id).state.value == "sent" and len(mailbox.sent) == 1


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("flags", "scopes"), [((), (READ,)), (("--send",), (READ, SEND, COMPOSE))])
def test_gmail_auth_asks_for_the_send_scopes_only_with_send(
    database: Database,
    gmail_server: FakeGmailServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flags: tuple[str, ...],
    scopes: tuple[str, ...],
) -> None:
    refresh = gmail_server.add_user(MAILBOX, scopes=scopes)
    config = _config(tmp_path / "config.toml", database, gmail_server, tmp_path / "tokens")
    asked: list[tuple[str, ...]] = []

    def run_flow(secrets: Path, address: str, options: auth_flow.FlowOptions) -> Any:
        asked.append(options.scopes)
        return gmail_server.credentials(refresh)

    monkeypatch.setattr(auth_flow, "run_installed_app_flow", run_flow)
    result = CliRunner().invoke(
        app, ["--config", str(config), "gmail", "auth", MAILBOX, "--no-browser", *flags]
    )

    assert result.exit_code == 0, result.output
    assert asked == [scopes]


def test_a_conversation_from_an_mbox_import_gets_a_gmail_thread_of_its_own(
    crm: Crm, database: Database, gmail_server: FakeGmailServer, mailbox: Mailbox
) -> None:
    """Mail imported without Gmail thread ids is threaded under made-up keys; Gmail
    knows no such thread, so the reply goes without one and keeps the thread Gmail
    gives it."""
    with transaction(database.sessions) as session:
        customer = services.find_or_create_customer(session, "kunde9@example.net", "Kunde")
        conversation = services.create_conversation(
            session,
            customer_id=customer.id,
            subject="Tilbud",
            mailbox=MAILBOX,
            gmail_thread_id="msgid:old@example.net",
        )
        conversation_id = conversation.id

    reply = crm.with_mode("send").reply(conversation_id, "Hej,\n\nHer er tilbuddet.\n")

    (sent,) = mailbox.sent
    assert reply["state"] == "sent" and reply["subject"] == "Re: Tilbud"
    crm.run("sync")
    with transaction(database.sessions) as session:
        (message,) = services.get_conversation_messages(session, conversation_id)
        assert message.id == reply["id"] and message.gmail_message_id == sent
        assert message.gmail_thread_id == gmail_server.mailbox(MAILBOX).message(sent).thread_id
