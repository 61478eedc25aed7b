"""The MIME of a reply: what Gmail is given to send or to keep as a draft.

Plain text in UTF-8 (quoted-printable, so æøå and long lines survive any relay),
with an HTML alternative when the reply has one. The threading headers
(In-Reply-To, References) make the customer's mail program and Gmail put it in the
conversation; Gmail also needs the thread id, passed beside the MIME.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime


@dataclass(frozen=True, slots=True)
class Reply:
    from_address: str
    to_address: str
    subject: str
    message_id: str  # without angle brackets
    in_reply_to: str | None
    references: Sequence[str]
    body: str
    html: str | None
    date: datetime


def _bracketed(message_id: str) -> str:
    return f"<{message_id.strip('<>')}>"


def compose(reply: Reply) -> bytes:
    """The RFC 5322 bytes of the reply, CRLF line endings."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = reply.from_address
    message["To"] = reply.to_address
    message["Subject"] = reply.subject
    message["Date"] = format_datetime(reply.date)
    message["Message-ID"] = _bracketed(reply.message_id)
    if reply.in_reply_to:
        message["In-Reply-To"] = _bracketed(reply.in_reply_to)
    references = [_bracketed(r) for r in reply.references if r]
    if reply.in_reply_to and _bracketed(reply.in_reply_to) not in references:
        references.append(_bracketed(reply.in_reply_to))
    if references:
        message["References"] = " ".join(references)
    message.set_content(_lines(reply.body), charset="utf-8", cte="quoted-printable")
    if reply.html:
        message.add_alternative(reply.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message.as_bytes()


def _lines(text: str) -> str:
    """Line endings made uniform, and a final newline (as mail programs write)."""
    body = "\n".join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return body if body.endswith("\n") else body + "\n"
