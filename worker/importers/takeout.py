"""Reading a Google Takeout mbox: Gmail ids, thread ids and labels from each message.

Takeout writes each message's Gmail id in decimal on the mbox ``From `` line and
its thread id in decimal in ``X-GM-THRID``; the Gmail API uses the same numbers in
hexadecimal. Converting them means that an export imported today and the live
mailbox synced tomorrow name every message alike, so nothing is stored twice.
"""

from __future__ import annotations

import hashlib
import mailbox
import re
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.utils import parsedate_to_datetime
from pathlib import Path

from crm_core.inbox import StagedMessage

# Takeout's label names -> Gmail API system label ids. User labels keep their names.
_SYSTEM_LABELS = {
    "inbox": "INBOX",
    "sent": "SENT",
    "spam": "SPAM",
    "trash": "TRASH",
    "draft": "DRAFT",
    "drafts": "DRAFT",
    "important": "IMPORTANT",
    "starred": "STARRED",
    "unread": "UNREAD",
    "chat": "CHAT",
    "category personal": "CATEGORY_PERSONAL",
    "category social": "CATEGORY_SOCIAL",
    "category promotions": "CATEGORY_PROMOTIONS",
    "category updates": "CATEGORY_UPDATES",
    "category forums": "CATEGORY_FORUMS",
}
_NOT_LABELS = {"opened", "archived"}
# The two Takeout headers, folded lines included, read straight from the header block:
# a full header parse cost a fifth of the import's time and is done again by ingestion.
_TAKEOUT_HEADER = re.compile(
    rb"^(X-GM-THRID|X-Gmail-Labels)[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE
)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def gmail_id_from_decimal(value: str) -> str | None:
    """'1790483472630123456' -> '18d8f1a2b3c4d5e0' (the API's hexadecimal form)."""
    value = value.strip()
    return format(int(value), "x") if value.isdigit() else None


def labels_from_takeout(header: str | None) -> list[str]:
    labels: list[str] = []
    for name in (header or "").split(","):
        cleaned = " ".join(name.split())
        if not cleaned or cleaned.lower() in _NOT_LABELS:
            continue
        label = _SYSTEM_LABELS.get(cleaned.lower(), cleaned)
        if label not in labels:
            labels.append(label)
    return labels


def takeout_headers(raw: bytes) -> tuple[str, str]:
    """The X-GM-THRID and X-Gmail-Labels values of a message ('' when absent)."""
    end = _HEADER_END.search(raw)
    block = raw[: end.start()] if end else raw
    found: dict[str, str] = {}
    for match in _TAKEOUT_HEADER.finditer(block):
        name = match.group(1).decode("ascii").lower()
        if name not in found:  # the first occurrence, as a header parser gives it
            found[name] = _header_text(match.group(2))
    return found.get("x-gm-thrid", ""), found.get("x-gmail-labels", "")


def _header_text(value: bytes) -> str:
    text = " ".join(value.decode("utf-8", "replace").split())
    if "=?" in text:  # label names outside ASCII may come RFC 2047-encoded
        with suppress(ValueError, LookupError, UnicodeError):
            text = str(make_header(decode_header(text)))
    return text


def _from_line_parts(from_line: str) -> tuple[str | None, datetime | None]:
    """'1790483472630123456@xxx Mon Sep 29 09:14:03 +0000 2025' -> (gmail id, time)."""
    head, _, when = from_line.strip().partition(" ")
    gmail_id = gmail_id_from_decimal(head.split("@", 1)[0])
    received_at = None
    if when:
        try:
            # "Mon Sep 29 09:14:03 +0000 2025": move the year before the zone for parsing.
            parts = when.split()
            if len(parts) == 6:
                parts = [*parts[:4], parts[5], parts[4]]
            parsed = parsedate_to_datetime(" ".join(parts))
            received_at = parsed.astimezone(UTC) if parsed.tzinfo else None
        except (TypeError, ValueError, IndexError):
            received_at = None
    return gmail_id, received_at


class NotAnMboxError(ValueError):
    """The file is not an mbox: reading it would find no message and say nothing."""


_ARCHIVES = {b"PK\x03\x04": "a zip archive", b"\x1f\x8b": "a gzip archive"}


def check_mbox(path: Path) -> None:
    """Raise NotAnMboxError unless ``path`` is an mbox (or empty).

    An mbox starts with a ``From `` line; anything before it would be skipped without
    a word, so a file that does not start with one is refused. The common mistake is
    the Takeout download itself, an archive holding the mbox.
    """
    with path.open("rb") as handle:
        head = handle.read(5)
    if not head or head == b"From ":
        return
    for magic, kind in _ARCHIVES.items():
        if head.startswith(magic):
            raise NotAnMboxError(
                f"{path.name} is {kind}, not an mbox file: unpack the Takeout download "
                "and import the .mbox file inside it (Takeout/Mail/…)"
            )
    raise NotAnMboxError(f"{path.name} is not an mbox file: it does not start with a 'From ' line")


def read_takeout(path: Path, mailbox_address: str) -> Iterator[StagedMessage]:
    """Every message of the export, raw, with its Gmail identity."""
    check_mbox(path)
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            with_from = box.get_bytes(key, from_=True)
            from_line, _, raw = with_from.partition(b"\n")
            thread_header, labels_header = takeout_headers(raw)
            gmail_id, received_at = _from_line_parts(
                from_line.decode("ascii", "replace").removeprefix("From ")
            )
            if gmail_id is None:
                # Not a Takeout export: a content hash is stable across re-imports.
                gmail_id = "sha256:" + hashlib.sha256(raw).hexdigest()[:32]
            yield StagedMessage(
                mailbox=mailbox_address,
                gmail_message_id=gmail_id,
                gmail_thread_id=gmail_id_from_decimal(thread_header),
                label_ids=labels_from_takeout(labels_header),
                raw=raw,
                source="mbox",
                received_at=received_at,
            )
    finally:
        box.close()


def count_messages(path: Path) -> int:
    """Number of messages, for a progress bar (reads the From lines only)."""
    count = 0
    with path.open("rb") as handle:
        previous_blank = True
        for line in handle:
            if line.startswith(b"From ") and previous_blank:
                count += 1
            previous_blank = line in (b"\n", b"\r\n")
    return count
