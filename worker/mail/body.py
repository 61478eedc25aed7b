"""The readable body of a message: choosing the text part, HTML to text, the preview."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from worker.mail.charsets import decode_bytes
from worker.mail.defects import DefectLog
from worker.mail.html_text import html_to_text
from worker.mail.mime import Part, decoded_payload, disposition, filename, param

BODY_TYPES = frozenset({"text/plain", "text/html"})

_LINE_ENDS = re.compile(r"\r\n?")
_HTML_START = re.compile(r"\s*(?:<!doctype\s+html|<html[\s>])", re.IGNORECASE)
_WORD = re.compile(r"\S+")


def is_body_part(part: Part, defects: DefectLog) -> bool:
    """A part of the message's own text (not an attachment, not a forwarded message)."""
    if part.nested or part.message.is_multipart():
        return False
    # A multipart whose boundary could not be found holds its parts as plain text.
    if part.content_type not in BODY_TYPES and not part.content_type.startswith("multipart/"):
        return False
    return disposition(part.message) != "attachment" and filename(part.message, defects) is None


def body_text(parts: Sequence[Part], defects: DefectLog) -> str:
    """text/plain when it says something, else the HTML as text, else ''."""
    candidates = [part for part in parts if is_body_part(part, defects)]
    plain = [part for part in candidates if part.content_type != "text/html"]
    text = _joined(_plain_text(part_text(part, defects)) for part in plain)
    if text:
        return text
    html_parts = [part for part in candidates if part.content_type == "text/html"]
    return _joined(html_to_text(part_text(part, defects)) for part in html_parts)


def part_text(part: Part, defects: DefectLog) -> str:
    """A part's content decoded with its declared charset (or the best guess)."""
    data = decoded_payload(part.message, defects)
    text = decode_bytes(data, param(part.message, "charset"), defects)
    return _LINE_ENDS.sub("\n", text)


def _plain_text(text: str) -> str:
    # Some web forms send HTML labelled text/plain; nobody wants to read the tags.
    return html_to_text(text) if _HTML_START.match(text) else text


def _joined(texts: Iterable[str]) -> str:
    # Several inline text parts (Apple Mail splits text around inline images) read as one.
    return "\n\n".join(stripped for text in texts if (stripped := text.strip()))


def preview(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text`` with whitespace collapsed."""
    if limit <= 0:
        return ""
    words: list[str] = []
    length = -1
    for match in _WORD.finditer(text):
        words.append(match.group(0))
        length += len(match.group(0)) + 1
        if length >= limit:
            break
    return " ".join(words)[:limit]
