"""Header values: RFC 2047 decoding, the header map, Message-IDs and dates."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from worker.mail.charsets import clean, decode_bytes, recover_8bit
from worker.mail.defects import DefectLog

MAX_HEADER_CHARS = 2000  # per value in the header map: enough for List-Unsubscribe
# Read no further into one header than this: thousands of addresses or references,
# while a 20 MB header costs a fraction of a second instead of a minute.
MAX_RAW_HEADER_CHARS = 256 * 1024
MAX_HEADER_NAMES = 300  # distinct names kept; garbage can invent unlimited ones
MAX_HEADER_NAME_CHARS = 100
MAX_MESSAGE_ID_CHARS = 1000  # longer is garbage, not an identifier worth storing
MAX_REFERENCES = 100

# Lenient on purpose: senders put spaces inside words and leave charsets empty.
_ENCODED_WORD = re.compile(r"=\?([^?\s]*)\?([QqBb])\?([^?]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")
_LINE_BREAKS = re.compile(r"[\r\n]+")
_BRACKETED = re.compile(r"<([^<>]*)>")


def header_text(raw: str, defects: DefectLog) -> str:
    """A raw header value as readable text: 8-bit recovered, unfolded, words decoded."""
    text = recover_8bit(bounded(raw, defects), defects)
    text = _LINE_BREAKS.sub("", text)
    return clean(decode_words(text, defects)).strip()


def bounded(raw: str, defects: DefectLog) -> str:
    """A raw header value cut to ``MAX_RAW_HEADER_CHARS``."""
    if len(raw) <= MAX_RAW_HEADER_CHARS:
        return raw
    defects.add(f"header over {MAX_RAW_HEADER_CHARS} characters cut")
    return raw[:MAX_RAW_HEADER_CHARS]


def folded(text: str) -> str:
    """Every run of whitespace as one space, as a subject is shown."""
    return " ".join(text.split())


def decode_words(text: str, defects: DefectLog) -> str:
    """Replace RFC 2047 encoded words with their text.

    Adjacent words in one charset are joined as bytes before decoding, because
    mailers split multi-byte characters across words; the whitespace between
    adjacent words is not part of the text (RFC 2047 section 6.2).
    """
    pieces: list[str] = []
    pending = bytearray()
    pending_charset: str | None = None
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        charset = match.group(1).lower()
        joins_previous = position > 0 and not between.strip()
        if pending_charset is not None and not (joins_previous and charset == pending_charset):
            pieces.append(decode_bytes(bytes(pending), pending_charset, defects))
            pending.clear()
            pending_charset = None
        if not joins_previous:
            pieces.append(between)
        pending += _word_bytes(match.group(2), match.group(3))
        pending_charset = charset
        position = match.end()
    if pending_charset is not None:
        pieces.append(decode_bytes(bytes(pending), pending_charset, defects))
    pieces.append(text[position:])
    return "".join(pieces)


def _word_bytes(encoding: str, payload: str) -> bytes:
    if encoding in "Bb":
        # Repair what senders get wrong: stray characters and missing padding.
        payload = _NOT_BASE64.sub("", payload)
        payload = payload[: len(payload) - 1] if len(payload) % 4 == 1 else payload
        try:
            return base64.b64decode(payload + "=" * (-len(payload) % 4))
        except (binascii.Error, ValueError):
            return b""
    data = payload.encode("utf-8", "surrogateescape").replace(b"_", b" ")
    return _QP_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), data)


def header_map(items: Iterable[tuple[str, str]], defects: DefectLog) -> dict[str, str]:
    """Lower-cased header name -> its first value, decoded, whitespace folded, capped."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in items:
        name = clean(str(raw_name)).strip().lower()[:MAX_HEADER_NAME_CHARS]
        if not name or name in headers:
            continue
        if len(headers) >= MAX_HEADER_NAMES:
            defects.add(f"too many headers: kept the first {MAX_HEADER_NAMES}")
            break
        value = folded(header_text(str(raw_value), defects))
        if len(value) > MAX_HEADER_CHARS:
            defects.add(f"header {name} cut to {MAX_HEADER_CHARS} characters")
            value = value[:MAX_HEADER_CHARS]
        headers[name] = value
    return headers


def message_ids(value: str | None) -> list[str]:
    """The Message-IDs in a header value, in order, without angle brackets."""
    if not value:
        return []
    found = ["".join(inner.split()) for inner in _BRACKETED.findall(value)]
    if not any(found):
        # Some mailers drop the brackets; a bare token is an id only if it has an @.
        found = [token.strip("<>") for token in value.split() if "@" in token]
    return [found_id for found_id in found if 0 < len(found_id) <= MAX_MESSAGE_ID_CHARS]


def first_message_id(value: str | None) -> str | None:
    ids = message_ids(value)
    return ids[0] if ids else None


def references(value: str | None) -> tuple[str, ...]:
    """References oldest first, each once; very long chains keep root and recent ids."""
    unique = list(dict.fromkeys(message_ids(value)))
    if len(unique) > MAX_REFERENCES:
        unique = unique[:1] + unique[-(MAX_REFERENCES - 1) :]
    return tuple(unique)


def parse_date(value: str | None) -> datetime | None:
    """An RFC 5322 date (or an ISO 8601 one, as web forms send) as aware UTC."""
    if not value or not value.strip():
        return None
    parsed: datetime | None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if parsed.tzinfo is None:
        # "-0000" and zone-less dates say nothing about the zone; UTC is the honest guess.
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
