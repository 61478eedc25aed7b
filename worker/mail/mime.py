"""The MIME tree: bytes into parts, walked without recursion, read without raising."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import Compat32
from email.utils import collapse_rfc2231_value

from worker.mail.charsets import clean, recover_8bit
from worker.mail.defects import DefectLog
from worker.mail.headers import decode_words
from worker.mail.message import ParseLimits

MAX_CONTENT_TYPE_CHARS = 200
# The stdlib parameter parser is quadratic in the number of ";" inside quotes, and
# the parser itself reads Content-Type; long filenames fit well within this.
MAX_PARAMETER_HEADER_CHARS = 8192
_PARAMETER_HEADERS = frozenset({"content-type", "content-disposition"})
DELIVERY_STATUS = "message/delivery-status"


class _RawHeaderPolicy(Compat32):
    """Compat32, but header values come back as read (parameter headers bounded).

    Compat32 is the most forgiving parser policy (the default policy's header
    classes raise on some garbage), but it wraps values holding undeclared 8-bit
    bytes in ``Header`` objects that the content-type helpers cannot read. Raw
    strings let ``charsets.recover_8bit`` do the decoding instead.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        if len(value) > MAX_PARAMETER_HEADER_CHARS and name.lower() in _PARAMETER_HEADERS:
            return value[:MAX_PARAMETER_HEADER_CHARS]
        return value


_POLICY = _RawHeaderPolicy()


class LimitError(Exception):
    """The message nests deeper or has more parts than the limits allow."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def too_deep(limits: ParseLimits) -> str:
    return f"too deep: MIME nesting over {limits.max_depth}"


def too_many_parts(limits: ParseLimits) -> str:
    return f"too many parts: over {limits.max_parts}"


class _BoundedMessage(Message):
    """A message node that stops the parser as soon as the tree breaks the limits.

    Checking during the parse, not after, matters: the stdlib parser recurses per
    nesting level and compares every line with every enclosing boundary, so a
    hostile nesting would cost minutes (or a RecursionError) before any later
    check ran. Field blocks of a delivery-status part are not MIME parts and
    do not count.
    """

    budget: _Budget | None = None
    depth: int = 0

    def attach(self, payload: Message | str) -> None:
        budget = self.budget
        if (
            budget
            and isinstance(payload, _BoundedMessage)
            and content_type(self) != DELIVERY_STATUS
        ):
            payload.depth = self.depth + 1
            budget.parts += 1
            if payload.depth > budget.limits.max_depth:
                raise LimitError(too_deep(budget.limits))
            if budget.parts > budget.limits.max_parts:
                raise LimitError(too_many_parts(budget.limits))
        super().attach(payload)


class _Budget:
    """The limits of one parse and the parts counted so far (the root is one)."""

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.parts = 1


def parse_bytes(raw: bytes, limits: ParseLimits) -> Message:
    """The stdlib parse, stopped with ``LimitError`` when the limits are broken."""
    budget = _Budget(limits)

    def new_message(policy: Compat32 = _POLICY) -> Message:
        message = _BoundedMessage(policy)
        message.budget = budget
        return message

    return BytesParser(new_message, policy=_POLICY).parsebytes(raw)


@dataclass(frozen=True, slots=True)
class Part:
    message: Message
    depth: int  # 0 for the top-level entity
    nested: bool  # inside an attached message (a forward, a bounced original)
    content_type: str


def walk(root: Message) -> Iterator[Part]:
    """Every MIME entity, depth first in document order, using an explicit stack.

    The blocks of a delivery-status part are report fields, not MIME parts, so
    the walk does not enter them.
    """
    stack = [(root, 0, False)]
    while stack:
        message, depth, nested = stack.pop()
        ctype = content_type(message)
        yield Part(message, depth, nested, ctype)
        if ctype == DELIVERY_STATUS:
            continue
        child_nested = nested or ctype.startswith("message/")
        for child in reversed(children(message)):
            stack.append((child, depth + 1, child_nested))


def children(message: Message) -> list[Message]:
    """The sub-messages of a multipart or attached message; [] for a leaf.

    Only asked of containers: on a leaf, ``get_payload()`` decodes text and can
    raise on odd charset parameters.
    """
    if not message.is_multipart():
        return []
    payload = message.get_payload()
    return [child for child in payload if isinstance(child, Message)]


def content_type(message: Message) -> str:
    try:
        ctype = message.get_content_type()
    except Exception:
        return "text/plain"
    return clean(str(ctype)).strip()[:MAX_CONTENT_TYPE_CHARS]


def param(message: Message, name: str, header: str = "content-type") -> str | None:
    """A Content-Type (or other header) parameter, RFC 2231 collapsed."""
    try:
        value = message.get_param(name, None, header)
        if value is None:
            return None
        return str(collapse_rfc2231_value(value))
    except Exception:
        return None


def disposition(message: Message) -> str | None:
    try:
        value = message.get_content_disposition()
    except Exception:
        return None
    return clean(value) if isinstance(value, str) else None


def filename(message: Message, defects: DefectLog) -> str | None:
    """The decoded filename; RFC 2231 and (non-standard, but common) RFC 2047 alike."""
    try:
        value = message.get_filename()
    except Exception:
        defects.add("unreadable attachment filename")
        return None
    if not isinstance(value, str):
        return None
    value = clean(decode_words(recover_8bit(value, defects), defects)).strip()
    return value or None


def decoded_payload(message: Message, defects: DefectLog) -> bytes:
    """A leaf part's content after transfer decoding; b"" when there is none."""
    if message.is_multipart():
        return b""
    try:
        payload = message.get_payload(decode=True)
    except Exception:
        defects.add("undecodable part content")
        return b""
    return payload if isinstance(payload, bytes) else b""


_DASHED_LINE = re.compile(rb"^--([^\s\"]{1,200}?)(?:--)?[ \t]*\r?$", re.MULTILINE)
_HEADER_LINE = re.compile(rb"\r?\n[!-9;-~]+:")


def repair_boundary(message: Message, limits: ParseLimits, defects: DefectLog) -> None:
    """Re-split a multipart whose declared boundary never occurs in its body.

    Seen in the wild: hand-built web form mail that declares one boundary and
    uses another. A dashed line followed by a header line shows the real one.
    """
    # With no transfer encoding (the norm for a multipart) this is the body as sent.
    body = decoded_payload(message, defects)
    for match in _DASHED_LINE.finditer(body):
        if not _HEADER_LINE.match(body, match.end()):
            continue
        wrapper = b'Content-Type: multipart/mixed; boundary="' + match.group(1) + b'"\r\n\r\n'
        repaired = parse_bytes(wrapper + body, limits)
        parts: list[Message | str] = [*children(repaired)]
        if parts:
            message.set_payload(parts)
            defects.add("repaired multipart boundary")
        return
