"""Raw RFC 822 bytes -> ``ParsedMessage``, or ``Unparseable`` with a reason.

``parse_message`` is pure and total: whatever the bytes, it returns. Problems
it can live with end up in ``ParsedMessage.defects``; problems it cannot (too
big, too deep, too many parts, nothing there) in ``Unparseable.reason``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from email.message import Message
from functools import partial
from typing import TypeVar

from worker.mail.addresses import parse_addresses
from worker.mail.attachments import attachments
from worker.mail.body import body_text, preview
from worker.mail.charsets import clean
from worker.mail.defects import DefectLog
from worker.mail.headers import (
    MAX_HEADER_CHARS,
    first_message_id,
    folded,
    header_map,
    header_text,
    parse_date,
    references,
)
from worker.mail.message import Address, Attachment, ParsedMessage, ParseLimits, Unparseable
from worker.mail.mime import (
    LimitError,
    Part,
    parse_bytes,
    repair_boundary,
    too_deep,
    too_many_parts,
    walk,
)
from worker.mail.report import delivery_report

_T = TypeVar("_T")


def parse_message(raw: bytes, limits: ParseLimits = ParseLimits()) -> ParsedMessage | Unparseable:
    """Parse one message; never raises."""
    try:
        return _parse(raw, limits)
    except LimitError as broken:
        return Unparseable(broken.reason)
    except RecursionError:
        # The stdlib parser recurses per nesting level; parse_bytes stops it long
        # before the recursion limit, so this is a safety net.
        return Unparseable(too_deep(limits))
    # Last line of defence for the "never raises" contract; each field is guarded too.
    except Exception as error:
        return Unparseable(f"parser error: {type(error).__name__}")


def _parse(raw: bytes, limits: ParseLimits) -> ParsedMessage | Unparseable:
    if isinstance(raw, bytearray | memoryview):
        raw = bytes(raw)
    if not isinstance(raw, bytes):
        return Unparseable(f"not bytes: {type(raw).__name__}")
    if len(raw) > limits.max_bytes:
        return Unparseable(f"too large: {len(raw)} bytes > {limits.max_bytes}")
    if not raw.strip(b" \t\r\n\x00"):
        return Unparseable("empty message")
    root = parse_bytes(raw, limits)
    defects = DefectLog()
    parts, reason = _checked_parts(root, limits)
    if reason is None and _repair_boundaries(parts, limits, defects):
        parts, reason = _checked_parts(root, limits)
    if reason is not None:
        return Unparseable(reason)
    parsed = _read(root, parts, limits, defects)
    if not parsed.headers and not parsed.body_text.strip() and not parsed.attachments:
        return Unparseable("no headers and no body")
    return parsed


def _checked_parts(root: Message, limits: ParseLimits) -> tuple[list[Part], str | None]:
    parts: list[Part] = []
    for part in walk(root):
        if part.depth > limits.max_depth:
            return parts, too_deep(limits)
        if len(parts) >= limits.max_parts:
            return parts, too_many_parts(limits)
        parts.append(part)
    return parts, None


def _repair_boundaries(parts: Sequence[Part], limits: ParseLimits, defects: DefectLog) -> bool:
    """Re-split multiparts whose boundary was not found; True if any was repaired."""
    broken = [
        part
        for part in parts
        if part.content_type.startswith("multipart/") and not part.message.is_multipart()
    ]
    for part in broken:
        repair_boundary(part.message, limits, defects)
    return any(part.message.is_multipart() for part in broken)


def _read(
    root: Message, parts: Sequence[Part], limits: ParseLimits, defects: DefectLog
) -> ParsedMessage:
    for part in parts:
        defects.add_stdlib(part.message.defects)

    def header(name: str) -> str | None:
        return _guarded(defects, name, None, lambda: _first_header(root, name, defects))

    def addresses(name: str, label: str) -> tuple[Address, ...]:
        raw_values: list[str] = _guarded(defects, name, [], lambda: _all_headers(root, name))
        found: list[Address] = []
        for raw_value in raw_values:
            read = partial(parse_addresses, raw_value, label, defects)
            found.extend(_guarded(defects, name, (), read))
        return tuple(found)

    sender = header("from")
    if sender is None:
        defects.add("missing From")
    senders = addresses("from", "From")
    subject = folded(header("subject") or "")[:MAX_HEADER_CHARS]
    text = _guarded(defects, "body", "", lambda: body_text(parts, defects))
    to = addresses("to", "To")
    cc = addresses("cc", "Cc")
    reply_to = addresses("reply-to", "Reply-To")
    date = parse_date(header("date"))
    message_id = first_message_id(header("message-id"))
    in_reply_to = first_message_id(header("in-reply-to"))
    thread = references(header("references"))
    files: tuple[Attachment, ...] = _guarded(
        defects, "attachments", (), lambda: attachments(parts, defects)
    )
    headers: dict[str, str] = _guarded(
        defects, "headers", {}, lambda: header_map(root.items(), defects)
    )
    report = _guarded(
        defects,
        "delivery report",
        None,
        lambda: delivery_report(parts, sender or "", subject, text, defects),
    )
    return ParsedMessage(
        from_=senders[0] if senders else None,
        to=to,
        cc=cc,
        reply_to=reply_to,
        subject=subject,
        date=date,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=thread,
        body_text=text,
        body_preview=preview(text, limits.preview_chars),
        attachments=files,
        headers=headers,
        content_type=parts[0].content_type,
        report=report,
        defects=tuple(clean(defect) for defect in defects.items()),
    )


def _first_header(root: Message, name: str, defects: DefectLog) -> str | None:
    value = root.get(name)
    return header_text(str(value), defects) if value is not None else None


def _all_headers(root: Message, name: str) -> list[str]:
    return [str(value) for value in root.get_all(name, [])]


def _guarded(defects: DefectLog, what: str, default: _T, read: Callable[[], _T]) -> _T:
    """Read one field; a failure costs that field, not the message."""
    try:
        return read()
    except RecursionError:
        raise
    except Exception:
        defects.add(f"could not read {what}")
        return default
