"""Which conversation a message belongs to when Gmail gives no thread id."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_core.conversations import thread_of_references
from worker.mail.message import ParsedMessage


def thread_key(session: Session, mailbox: str, message: ParsedMessage, fallback: str) -> str:
    """The Gmail thread id of the conversation this message replies to, or a new key.

    Used for mail without X-GM-THRID (plain mbox files, other providers): the newest
    of In-Reply-To and References that we have stored decides; otherwise the message
    starts a thread of its own, keyed by its Message-ID (or ``fallback``).
    """
    referenced = [*reversed(message.references)]
    if message.in_reply_to:
        referenced.insert(0, message.in_reply_to)
    found = thread_of_references(session, mailbox, referenced[:50])
    if found:
        return found
    return f"msgid:{message.message_id}" if message.message_id else f"gmail:{fallback}"
