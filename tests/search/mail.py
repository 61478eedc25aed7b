"""Small mbox files for search tests: plain messages to and from the company."""

from __future__ import annotations

import mailbox
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

COMPANY = "info@rendetalje.dk"


@dataclass(frozen=True)
class Mail:
    sender: str  # "Name <address>"
    subject: str
    body: str
    to: str = COMPANY
    days_ago: int = 1


def write_mbox(path: Path, mails: list[Mail]) -> Path:
    box = mailbox.mbox(str(path))
    now = datetime.now(UTC)
    for mail in mails:
        message = EmailMessage()
        message["From"] = mail.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(now - timedelta(days=mail.days_ago))
        message["Message-ID"] = make_msgid(domain="example.net")
        message.set_content(mail.body)
        box.add(mailbox.mboxMessage(message))
    box.flush()
    box.close()
    return path
