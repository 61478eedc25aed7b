"""What the office's CLI stories share: the demo mailbox in, new mail, ids by name."""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli

_ids = count(1)
MAILBOX = "info@rendetalje.dk"


def demo(cli: Cli) -> None:
    """`crm demo`: the shipped sample mailbox in the test database."""
    assert "Imported rendetalje.mbox" in cli("demo")


def new_mail(
    tmp_path: Path,
    sender: str,
    subject: str,
    body: str,
    *,
    to: str = MAILBOX,
    date: str = "Mon, 01 Dec 2025 10:00:00 +0100",
) -> Path:
    """An mbox (Takeout's form) with one new message, in a thread of its own."""
    number = next(_ids)
    gmail_id = 1_900_000_000_000_000_000 + number * 1000
    raw = (
        f"From {gmail_id}@xxx Mon Dec 01 09:00:00 +0000 2025\n"
        f"X-GM-THRID: {gmail_id}\n"
        "X-Gmail-Labels: Inbox\n"
        f"From: {sender}\n"
        f"To: {to}\n"
        f"Subject: {subject}\n"
        f"Date: {date}\n"
        f"Message-ID: <office-{number}@example.com>\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "\n"
        f"{body}\n\n"
    )
    path = tmp_path / f"new-{number}.mbox"
    path.write_text(raw, encoding="utf-8")
    return path


def lead_of(cli: Cli, name: str) -> dict[str, Any]:
    """The (first) lead of this name, as `crm lead list --json` gives it."""
    leads = cli.json("lead", "list")["leads"]
    return next(lead for lead in leads if lead["name"] == name)


def conversation_of(cli: Cli, email: str, subject_start: str) -> dict[str, Any]:
    conversations = cli.json("conversation", "list", "--customer", email)["conversations"]
    return next(c for c in conversations if (c["subject"] or "").startswith(subject_start))
