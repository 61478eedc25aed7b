"""Turning raw RFC 822 bytes into the pieces of a Gmail message resource."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from html.parser import HTMLParser

from .protocol import JsonObj, b64url

SNIPPET_CHARS = 200

_MSGID_RE = re.compile(r"<([^<>\s]+)>")


def parse_headers(raw: bytes) -> Message:
    return BytesHeaderParser(policy=compat32).parsebytes(raw)


_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")


def quick_headers(raw: bytes, wanted: Iterable[str]) -> dict[str, str]:
    """First value of each wanted header (names lower-cased), without a full MIME parse."""
    names = {w.lower() for w in wanted}
    end = _HEADER_END.search(raw)
    head = _FOLD.sub(b"", raw[: end.start()] if end else raw)
    found: dict[str, str] = {}
    for line in head.splitlines():
        name, sep, value = line.partition(b":")
        key = name.strip().decode("latin-1").lower()
        if sep and key in names and key not in found:
            found[key] = value.strip().decode("utf-8", "replace")
    return found


def parse_message(raw: bytes) -> Message:
    return BytesParser(policy=compat32).parsebytes(raw)


def _clean(text: str) -> str:
    """Undo the parser's surrogate escapes: undecodable 8-bit text is read as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def decode_header_value(value: str) -> str:
    """Unfold a header and decode RFC 2047 encoded words, as Gmail shows them."""
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", value)
    cleaned = _clean(unfolded)
    if "=?" not in cleaned:
        return cleaned.strip()
    try:
        return str(make_header(decode_header(cleaned))).strip()
    except (LookupError, ValueError, UnicodeDecodeError):
        return cleaned.strip()


def header_items(msg: Message) -> list[tuple[str, str]]:
    return [(name, decode_header_value(str(value))) for name, value in msg.raw_items()]


def message_ids(value: str | None) -> list[str]:
    """All ``<id>`` tokens in a Message-ID / In-Reply-To / References value (brackets off)."""
    if not value:
        return []
    found = _MSGID_RE.findall(value)
    if found:
        return found
    token = value.strip()
    return [token] if token and " " not in token else []


def date_ms(value: str | None) -> int | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None
    return int(parsed.timestamp() * 1000)


def _text_of(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return " ".join(parser.chunks)


def _escape_snippet(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def make_snippet(msg: Message) -> str:
    """First text of the body, whitespace collapsed, HTML-escaped like Gmail's snippets."""
    plain: str | None = None
    html: str | None = None
    for part in msg.walk():
        if part.is_multipart() or part.get_filename():
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            plain = _text_of(part)
            break
        if ctype == "text/html" and html is None:
            html = html_to_text(_text_of(part))
    text = plain if plain is not None else (html or "")
    collapsed = " ".join(text.split())
    return _escape_snippet(collapsed[:SNIPPET_CHARS])


def attachment_id(part_id: str) -> str:
    return "ANGjdJ" + b64url(f"part:{part_id}".encode()).rstrip("=")


def _children(msg: Message) -> list[Message]:
    payload = msg.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    return []


def build_payload(msg: Message, part_id: str = "") -> JsonObj:
    """The ``payload`` of a message in ``format=full``: headers, body and nested parts."""
    filename = _clean(msg.get_filename() or "")
    payload: JsonObj = {
        "partId": part_id,
        "mimeType": msg.get_content_type(),
        "filename": filename,
        "headers": [{"name": n, "value": v} for n, v in header_items(msg)],
    }
    if msg.is_multipart():
        payload["body"] = {"size": 0}
        payload["parts"] = [
            build_payload(child, f"{part_id}.{i}" if part_id else str(i))
            for i, child in enumerate(_children(msg))
        ]
        return payload
    raw = msg.get_payload(decode=True)
    data = raw if isinstance(raw, bytes) else b""
    body: JsonObj = {"size": len(data)}
    if filename:
        body["attachmentId"] = attachment_id(part_id)
    elif data:
        body["data"] = b64url(data)
    payload["body"] = body
    return payload


def metadata_payload(msg: Message, wanted: Iterable[str]) -> JsonObj:
    """The ``payload`` of a message in ``format=metadata``: top-level headers only."""
    names = {w.lower() for w in wanted}
    headers = [
        {"name": n, "value": v} for n, v in header_items(msg) if not names or n.lower() in names
    ]
    return {"partId": "", "mimeType": msg.get_content_type(), "filename": "", "headers": headers}


def part_for_attachment(msg: Message, attachment: str) -> Message | None:
    """Find the leaf part an attachment id (from :func:`attachment_id`) names."""
    for part_id, part in _walk_ids(msg, ""):
        if not part.is_multipart() and attachment_id(part_id) == attachment:
            return part
    return None


def _walk_ids(msg: Message, part_id: str) -> Iterable[tuple[str, Message]]:
    yield part_id, msg
    for i, child in enumerate(_children(msg)):
        yield from _walk_ids(child, f"{part_id}.{i}" if part_id else str(i))
