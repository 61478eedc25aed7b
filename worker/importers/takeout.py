"""Reading a Google Takeout mbox: Gmail ids, thread ids and labels from each message.

Takeout writes each message's Gmail id in decimal on the mbox ``From `` line and
its thread id in decimal in ``X-GM-THRID``; the Gmail API uses the same numbers in
hexadecimal. Converting them means that an export imported today and the live
mailbox synced tomorrow name every message alike, so nothing is stored twice.
"""

from __future__ import annotations

import hashlib
import mailbox
from collections.abc import Iterator
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
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
_HEADERS = BytesHeaderParser(policy=compat32)


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


def read_takeout(path: Path, mailbox_address: str) -> Iterator[StagedMessage]:
    """Every message of the export, raw, with its Gmail identity."""
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            with_from = box.get_bytes(key, from_=True)
            from_line, _, raw = with_from.partition(b"\n")
            headers = _HEADERS.parsebytes(raw, headersonly=True)
            gmail_id, received_at = _from_line_parts(
                from_line.decode("ascii", "replace").removeprefix("From ")
            )
            if gmail_id is None:
                # Not a Takeout export: a content hash is stable across re-imports.
                gmail_id = "sha256:" + hashlib.sha256(raw).hexdigest()[:32]
            thread_header = str(headers.get("X-GM-THRID", "") or "")
            yield StagedMessage(
                mailbox=mailbox_address,
                gmail_message_id=gmail_id,
                gmail_thread_id=gmail_id_from_decimal(thread_header),
                label_ids=labels_from_takeout(str(headers.get("X-Gmail-Labels", "") or "")),
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
