"""Building ParsedMessage values by hand, so classification is tested without the parser."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parseaddr

import pytest

from worker.mail.message import Address, DeliveryReport, ParsedMessage
from worker.mail.rules import IngestRules

MAILBOX = "info@rendetalje.dk"


def address(text: str) -> Address:
    """ "Anna Jensen <anna@example.com>" -> Address("anna@example.com", "Anna Jensen")."""
    name, email = parseaddr(text)
    return Address(email or text, name)


def build_message(
    *,
    from_: str | None = "Anna Jensen <anna.jensen@gmail.com>",
    to: Iterable[str] = (MAILBOX,),
    cc: Iterable[str] = (),
    reply_to: Iterable[str] = (),
    subject: str = "Tilbud på rengøring",
    body: str = "Hej, kan I gøre rent hos mig på fredag?",
    headers: Mapping[str, str] | None = None,
    content_type: str = "text/plain",
    report: DeliveryReport | None = None,
    in_reply_to: str | None = None,
    references: Iterable[str] = (),
) -> ParsedMessage:
    return ParsedMessage(
        from_=address(from_) if from_ is not None else None,
        to=tuple(address(item) for item in to),
        cc=tuple(address(item) for item in cc),
        reply_to=tuple(address(item) for item in reply_to),
        subject=subject,
        date=datetime(2024, 5, 6, 9, 30, tzinfo=UTC),
        message_id="abc123@mail.gmail.com",
        in_reply_to=in_reply_to,
        references=tuple(references),
        body_text=body,
        body_preview=body[:200],
        attachments=(),
        headers=dict(headers or {}),
        content_type=content_type,
        report=report,
    )


@pytest.fixture
def make_message() -> Callable[..., ParsedMessage]:
    return build_message


@pytest.fixture
def rules() -> IngestRules:
    """The defaults plus the company mailbox, as the app builds them from config.toml."""
    return IngestRules.for_mailbox(MAILBOX, ["kontakt@rendetalje.dk"], ["rendetalje.dk"])


def parse_raw(
    headers: Mapping[str, str], body: str, content_type: str = "text/html"
) -> ParsedMessage:
    """A message as the mailbox delivers it, through the real message parser."""
    from worker.mail.parse import parse_message  # imported late: only these tests need it

    lines = [f"{name}: {value}" for name, value in headers.items()]
    lines += [
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    raw = ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
    message = parse_message(raw)
    assert isinstance(message, ParsedMessage), message
    return message
