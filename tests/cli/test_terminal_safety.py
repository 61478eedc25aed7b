"""A received email cannot rewrite the operator's terminal.

Escape sequences in a sender's display name and in a subject (window title, hyperlink,
colour, screen clear, right-to-left override) are stored as received and printed by no
command: tables, blocks and JSON alike.
"""

from __future__ import annotations

import base64
import mailbox
import os
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

import pytest

from crm_core import services
from crm_core.models import Conversation, Customer
from tests.cli.conftest import Cli
from tests.cli.refusals import TERMINAL_CONTROLS, invoke
from tests.conftest import Database

EVIL_NAME = "\x1b]0;owned\x07Evil \x1b[31mRed\x1b[0m \u202eEvil"
EVIL_SUBJECT = "\x1b]8;;https://phish.example/\x1b\\Klik her\x1b]8;;\x1b\\ \x1b[2J\x9b31m tak"


def _encoded_word(text: str) -> str:
    """RFC 2047, as mail programs send non-ASCII (and here, control) characters."""
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def _mail(n: int, body: str) -> bytes:
    return (
        f"From: {_encoded_word(EVIL_NAME)} <evil{n}@example.net>\r\n"
        "To: info@rendetalje.dk\r\n"
        f"Subject: {_encoded_word(EVIL_SUBJECT)}\r\n"
        f"Message-ID: <evil-{n}@example.net>\r\n"
        "Date: Mon, 06 Oct 2025 10:00:00 +0200\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{body}"
    ).encode()


@pytest.fixture
def evil_mbox(tmp_path: Path) -> Path:
    """One small message (stored) and one large one (quarantined under the limit below)."""
    path = tmp_path / "evil.mbox"
    box = mailbox.mbox(path)
    box.add(_mail(1, "Hej, kan I gøre rent i næste uge?\n"))
    box.add(_mail(2, "Billeder af huset.\n" * 400))
    box.flush()
    box.close()
    return path


def safe(cli: Cli, *args: str) -> str:
    """The output of a command that must succeed and print no terminal control."""
    result = invoke(cli, *args)  # fails on any control character in stdout or stderr
    assert result.exit_code == 0, result.output
    return result.stdout


def test_escape_sequences_from_mail_are_stored_but_never_printed(
    cli: Cli, database: Database, evil_mbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_LIMITS_MAX_MESSAGE_BYTES", "4000")
    imported = cli.json("import", "mbox", str(evil_mbox))
    assert (imported["stored"], imported["quarantined"]) == (1, 1)

    with database.sessions() as session:
        customer = session.query(Customer).one()
        conversation = session.query(Conversation).one()
    assert customer.name == EVIL_NAME  # stored faithfully
    assert conversation.subject == EVIL_SUBJECT

    listed = safe(cli, "customer", "list")
    assert "Evil Red Evil" in listed
    shown = safe(cli, "customer", "get", customer.id)
    assert "Evil Red Evil" in shown and "Klik her" in shown
    assert "Klik her" in safe(cli, "customer", "conversations", customer.id)
    assert "Klik her" in safe(cli, "report", "response-ratio")
    safe(cli, "report", "top-customers")
    safe(cli, "customer", "stats", customer.id)
    (quarantined,) = cli.json("quarantine", "list")
    safe(cli, "quarantine", "list")
    assert "Klik her" in safe(cli, "quarantine", "show", str(quarantined["id"]))

    # JSON keeps the text whole, every control character escaped.
    listed_json = safe(cli, "customer", "list", "--json")
    assert "\\u001b]0;owned\\u0007Evil" in listed_json and "\\u202e" in listed_json
    assert "\\u009b" in safe(cli, "customer", "conversations", customer.id, "--json")
    for args in (
        ("customer", "get", customer.id),
        ("report", "response-ratio"),
        ("quarantine", "show", str(quarantined["id"])),
    ):
        safe(cli, *args, "--json")


def test_escape_sequences_typed_by_a_user_are_not_echoed(cli: Cli) -> None:
    created = safe(cli, "customer", "create", "\x1b[8mHidden\x1b[0m Name", "x@example.dk")
    assert "Hidden Name" in created
    refused = invoke(cli, "customer", "get", "\x1b]0;title\x07nosuch")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == "Error: customer not found: nosuch"


@pytest.mark.parametrize("control", TERMINAL_CONTROLS)
def test_the_check_itself_sees_controls(control: str) -> None:
    from worker.cli.output import printable

    assert control not in printable(f"a{control}b")


def test_on_a_real_terminal_only_our_own_styles_are_sent(sqlite_database: Database) -> None:
    """`crm customer list` in a terminal (a pty): Rich styles the table, the name from
    mail brings no sequence of its own."""
    with sqlite_database.sessions() as session:
        services.find_or_create_customer(session, "evil@example.net", EVIL_NAME)
        session.commit()
    controller, terminal = os.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "worker.cli.main", "customer", "list"],
        env={**env, **sqlite_database.env(), "TERM": "xterm-256color", "COLUMNS": "120"},
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    output = b""
    with suppress(OSError):  # EIO once the process has closed the terminal
        while chunk := os.read(controller, 65536):
            output += chunk
    os.close(controller)
    assert process.wait(60) == 0
    text = output.decode("utf-8")
    assert "Evil Red Evil" in text
    assert "\x1b[1m" in text  # the heading is bold: this really was a terminal
    for sequence in ("\x1b]", "\x07", "\x1b[31m", "\x1b[0m Evil", "\u202e"):
        assert sequence not in text
