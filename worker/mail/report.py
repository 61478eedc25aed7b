"""Bounces: which of our messages did not arrive, for whom, and why.

The standard shape is a multipart/report with a message/delivery-status part
(RFC 3464). Older or home-grown mail servers send a plain text from
MAILER-DAEMON with the original attached or quoted; those are recognised too,
so long as the sender and the subject or an attached original say "bounce".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import Message

from worker.mail.addresses import is_addr_spec
from worker.mail.charsets import decode_bytes
from worker.mail.defects import DefectLog, quoted
from worker.mail.headers import first_message_id, header_text
from worker.mail.message import DeliveryReport
from worker.mail.mime import DELIVERY_STATUS, Part, children, decoded_payload, param

_ORIGINAL_TYPES = frozenset(
    {"message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers"}
)
_DAEMON_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery (?:subsystem|system)", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery status notification|failure notice|returned mail|"
    r"delivery (?:has )?failed|delivery failure|could not be delivered|"
    r"kunne ikke leveres|kan ikke leveres|ikke[- ]leveret|unzustellbar",
    re.IGNORECASE,
)
_STATUS_CODE = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
# qmail names each failed recipient on a line of its own: "<jens@x.dk>:".
_RECIPIENT_LINE = re.compile(r"^<([^<>\s@]+@[^<>\s]+)>:\s*$", re.MULTILINE)
_MESSAGE_ID_LINE = re.compile(r"^message-id:[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)
_FOLDED = re.compile(r"\r?\n[ \t]+")
_FIELD = re.compile(r"^([!-9;-~]+):[ \t]*(.*)$", re.MULTILINE)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")

Fields = dict[str, str]


def delivery_report(
    parts: Sequence[Part], sender: str, subject: str, body: str, defects: DefectLog
) -> DeliveryReport | None:
    """The report in a bounce, or None for a message that is not a bounce."""
    own = [part for part in parts if not part.nested]
    status_parts = [part for part in own if part.content_type == DELIVERY_STATUS]
    originals = [part for part in own if part.depth > 0 and part.content_type in _ORIGINAL_TYPES]
    if not (status_parts or _is_report(own) or _looks_like_bounce(sender, subject, originals)):
        return None
    blocks = [fields for part in status_parts for fields in _status_blocks(part, defects)]
    recipients = [block for block in blocks if _recipient_field(block)]
    failed = [block for block in recipients if block.get("action") in (None, "failed")]
    return DeliveryReport(
        original_message_id=_original_id(blocks, originals, body, defects),
        failed_recipients=_addresses(failed, body if not blocks else "", defects),
        action=_action(recipients, failed, status_parts),
        status=_status(failed or recipients, body),
    )


def _is_report(own: Sequence[Part]) -> bool:
    if not own or own[0].content_type != "multipart/report":
        return False
    return (param(own[0].message, "report-type") or "").strip().lower() == "delivery-status"


def _looks_like_bounce(sender: str, subject: str, originals: Sequence[Part]) -> bool:
    return bool(_DAEMON_SENDER.search(sender)) and bool(
        originals or _BOUNCE_SUBJECT.search(subject)
    )


def _status_blocks(part: Part, defects: DefectLog) -> list[Fields]:
    """The field blocks of a delivery-status part: per message, then per recipient."""
    if part.message.is_multipart():
        return [_message_fields(block, defects) for block in children(part.message)]
    # Transfer-encoded status parts reach us unsplit; split them here.
    text = decode_bytes(decoded_payload(part.message, defects), None, defects)
    return [_text_fields(block, defects) for block in _BLANK_LINE.split(text.replace("\r", ""))]


def _message_fields(block: Message, defects: DefectLog) -> Fields:
    fields: Fields = {}
    for name, value in block.items():
        fields.setdefault(str(name).strip().lower(), _field_value(str(value), defects))
    return fields


def _text_fields(text: str, defects: DefectLog) -> Fields:
    fields: Fields = {}
    for match in _FIELD.finditer(_FOLDED.sub(" ", text)):
        fields.setdefault(match.group(1).lower(), _field_value(match.group(2), defects))
    return fields


def _field_value(raw: str, defects: DefectLog) -> str:
    value = header_text(raw, defects)
    return value.lower() if value.lower() in {"failed", "delayed", "delivered"} else value


def _recipient_field(block: Fields) -> str | None:
    return block.get("final-recipient") or block.get("original-recipient")


def _original_id(
    blocks: Sequence[Fields], originals: Sequence[Part], body: str, defects: DefectLog
) -> str | None:
    for block in blocks:
        for name in ("original-message-id", "x-original-message-id"):
            if found := first_message_id(block.get(name)):
                return found
    for part in originals:
        if found := first_message_id(_original_header(part, defects)):
            return found
    # Bounces without an attachment often quote the original's headers in the text.
    match = _MESSAGE_ID_LINE.search(_FOLDED.sub(" ", body))
    return first_message_id(match.group(1)) if match else None


def _original_header(part: Part, defects: DefectLog) -> str | None:
    """The Message-ID header of an attached original message or header block."""
    attached = children(part.message)
    if attached:
        raw = attached[0].get("message-id")
        return header_text(str(raw), defects) if raw is not None else None
    text = decode_bytes(decoded_payload(part.message, defects), None, defects)
    match = _MESSAGE_ID_LINE.search(_FOLDED.sub(" ", text))
    return match.group(1) if match else None


def _addresses(failed: Sequence[Fields], body: str, defects: DefectLog) -> tuple[str, ...]:
    found: list[str] = []
    for block in failed:
        # "rfc822; jens@x.dk" - the address type comes first.
        value = (_recipient_field(block) or "").rsplit(";", 1)[-1].strip().strip("<>").strip()
        if is_addr_spec(value):
            found.append(value)
        else:
            defects.add(f"invalid recipient in delivery report: {quoted(value)}")
    found.extend(match for match in _RECIPIENT_LINE.findall(body) if is_addr_spec(match))
    return tuple(dict.fromkeys(found))


def _action(
    recipients: Sequence[Fields], failed: Sequence[Fields], status_parts: Sequence[Part]
) -> str | None:
    actions = [block["action"] for block in recipients if block.get("action")]
    if any(action == "failed" for action in actions):
        return "failed"
    if actions:
        return actions[0]
    # A bounce without machine-readable fields is a failure notice by nature.
    return None if status_parts else "failed"


def _status(blocks: Sequence[Fields], body: str) -> str | None:
    for block in blocks:
        if match := _STATUS_CODE.search(block.get("status", "")):
            return match.group(1)
    match = _STATUS_CODE.search(body) if not blocks else None
    return match.group(1) if match else None
