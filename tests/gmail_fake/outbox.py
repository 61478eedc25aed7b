"""Sending from a fake mailbox: users.messages.send and users.drafts.*.

Sent mail is added to the mailbox with the SENT label (so history and the sync see
it like Gmail's own copy); a draft is a message with the DRAFT label. Two habits of
the real service are reproduced on demand, because they matter to a sender:

- ``replace_message_ids``: Gmail may give mail sent through the API a Message-ID of
  its own instead of the one in the MIME;
- ``send_draft_as_person``: someone opens the draft in Gmail, edits it and presses
  send (the sent message gets a new Gmail id and a Message-ID made by Gmail).

Recipients are checked like Gmail does: an address without a dotted domain, or in
the reserved ``.invalid`` top-level domain, or one in ``refused``, is answered 400
"Invalid To header".
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import itertools
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .protocol import ApiError, JsonObj, b64url_decode

if TYPE_CHECKING:
    from .mailbox import Mailbox

_draft_numbers = itertools.count(1)


@dataclass
class Draft:
    id: str
    message_id: str  # the Gmail id of the draft's current message


def _valid_recipient(address: str) -> bool:
    local, _, domain = address.rpartition("@")
    return bool(local) and "." in domain and not domain.lower().endswith(".invalid")


def check_recipients(raw: bytes, refused: frozenset[str] = frozenset()) -> None:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    fields = [str(message.get(name) or "") for name in ("To", "Cc", "Bcc")]
    addresses = [a for _, a in email.utils.getaddresses(fields) if a]
    if not addresses:
        raise ApiError(400, "Recipient address required", reason="invalidArgument")
    for address in addresses:
        if not _valid_recipient(address) or address.lower() in refused:
            raise ApiError(400, "Invalid To header", reason="invalidArgument")


def with_message_id(raw: bytes, message_id: str) -> bytes:
    message = email.message_from_bytes(raw, policy=email.policy.SMTP)
    del message["Message-ID"]
    message["Message-ID"] = message_id
    return message.as_bytes()


def with_body(raw: bytes, body: str) -> bytes:
    """The same mail with its text replaced, as a person editing a draft leaves it."""
    message = email.message_from_bytes(raw, policy=email.policy.SMTP)
    headers = [
        (k, v)
        for k, v in message.items()
        if k.lower() not in ("content-type", "content-transfer-encoding", "mime-version")
    ]
    edited = email.message.EmailMessage(policy=email.policy.SMTP)
    for key, value in headers:
        edited[key] = value
    edited.set_content(body, charset="utf-8")
    return edited.as_bytes()


class Outbox:
    def __init__(self, box: Mailbox) -> None:
        self.box = box
        self._lock = threading.RLock()
        self._drafts: dict[str, Draft] = {}
        self.replace_message_ids = False
        self.sent: list[str] = []  # Gmail ids of mail sent, by whatever way, in order
        self.refused: frozenset[str] = frozenset()  # addresses answered "Invalid To header"

    def _gmail_message_id(self) -> str:
        return email.utils.make_msgid(domain="mail.gmail.com")

    def _send_raw(self, raw: bytes, thread_id: str | None) -> JsonObj:
        check_recipients(raw, self.refused)
        if self.replace_message_ids:
            raw = with_message_id(raw, self._gmail_message_id())
        known_thread = thread_id if thread_id in self.box.thread_ids() else None
        gmail_id = self.box.deliver(raw, ["SENT"], known_thread)
        with self._lock:
            self.sent.append(gmail_id)
        return self.box.message(gmail_id).labelled_ref()

    # -- API handlers ------------------------------------------------------------------

    def send(self, body: JsonObj) -> JsonObj:
        raw = _raw_of(body)
        return self._send_raw(raw, body.get("threadId"))

    def create_draft(self, body: JsonObj) -> JsonObj:
        message = body.get("message") or {}
        raw = _raw_of(message)
        known_thread = message.get("threadId")
        if known_thread not in self.box.thread_ids():
            known_thread = None
        gmail_id = self.box.deliver(raw, ["DRAFT"], known_thread)
        draft = Draft(f"r{next(_draft_numbers)}", gmail_id)
        with self._lock:
            self._drafts[draft.id] = draft
        return self._draft_resource(draft)

    def get_draft(self, draft_id: str) -> JsonObj:
        return self._draft_resource(self._draft(draft_id))

    def list_drafts(self) -> JsonObj:
        with self._lock:
            drafts = list(self._drafts.values())
        return {"drafts": [self._draft_resource(d) for d in drafts]} if drafts else {}

    def send_draft(self, body: JsonObj) -> JsonObj:
        return self._send_draft(str(body.get("id") or ""), body=None, person=False)

    def delete_draft(self, draft_id: str) -> None:
        draft = self._take(draft_id)
        self.box.delete(draft.message_id)

    # -- control API (a person in Gmail) -------------------------------------------------

    def send_draft_as_person(self, draft_id: str, body: str | None = None) -> str:
        """Edit the draft's text (when ``body`` is given) and send it from Gmail's web
        interface: a new Gmail id and a Message-ID made by Gmail. Returns the Gmail id."""
        return str(self._send_draft(draft_id, body=body, person=True)["id"])

    # -- internals -----------------------------------------------------------------------

    def _send_draft(self, draft_id: str, *, body: str | None, person: bool) -> JsonObj:
        draft = self._take(draft_id)
        stored = self.box.message(draft.message_id)
        raw = stored.raw if body is None else with_body(stored.raw, body)
        if person:
            raw = with_message_id(raw, self._gmail_message_id())
        self.box.delete(draft.message_id)
        try:
            return self._send_raw(raw, stored.thread_id)
        except ApiError:
            with self._lock:  # Gmail keeps a draft it could not send
                self._drafts[draft.id] = Draft(
                    draft.id, self.box.deliver(raw, ["DRAFT"], stored.thread_id)
                )
            raise

    def _draft(self, draft_id: str) -> Draft:
        with self._lock:
            draft = self._drafts.get(draft_id)
        if draft is None:
            raise ApiError(404)
        return draft

    def _take(self, draft_id: str) -> Draft:
        with self._lock:
            draft = self._drafts.pop(draft_id, None)
        if draft is None:
            raise ApiError(404)
        return draft

    def _draft_resource(self, draft: Draft) -> JsonObj:
        return {"id": draft.id, "message": self.box.message(draft.message_id).labelled_ref()}


def _raw_of(message: JsonObj) -> bytes:
    raw = message.get("raw")
    if not isinstance(raw, str) or not raw:
        raise ApiError(
            400,
            "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
            reason="invalidArgument",
        )
    try:
        return b64url_decode(raw)
    except ValueError:
        raise ApiError(400, "Invalid value for ByteString", reason="invalidArgument") from None
