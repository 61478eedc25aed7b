"""What a message carries besides its text: name, type and size, never the bytes."""

from __future__ import annotations

from collections.abc import Sequence

from worker.mail.body import is_body_part
from worker.mail.defects import DefectLog
from worker.mail.message import Attachment
from worker.mail.mime import DELIVERY_STATUS, Part, children, decoded_payload, filename


def attachments(parts: Sequence[Part], defects: DefectLog) -> tuple[Attachment, ...]:
    """Files and attached messages of the message itself (not of attached messages)."""
    found: list[Attachment] = []
    for part in parts:
        if not _is_attachment(part, defects):
            continue
        found.append(
            Attachment(
                filename=filename(part.message, defects),
                content_type=part.content_type,
                size=_size(part, defects),
            )
        )
    return tuple(found)


def _is_attachment(part: Part, defects: DefectLog) -> bool:
    if part.nested or part.content_type == DELIVERY_STATUS:
        return False
    if part.content_type.startswith("message/"):
        return True  # a forwarded or bounced message, shown as an .eml by mail clients
    if part.message.is_multipart():
        return False
    # An empty top-level body is "no text", not a nameless file.
    if part.depth == 0 and not decoded_payload(part.message, defects):
        return False
    return not is_body_part(part, defects)


def _size(part: Part, defects: DefectLog) -> int:
    if not part.message.is_multipart():
        return len(decoded_payload(part.message, defects))
    # An attached message has no transfer-decoded bytes of its own; its size is
    # that of the message as it would be saved (an .eml file).
    try:
        return sum(len(child.as_bytes()) for child in children(part.message))
    except Exception:
        defects.add("attached message size unknown")
        return 0
