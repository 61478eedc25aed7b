"""The Gmail requests of replies: drafts, sends, and the search for a sent message.

Built as factories, like requests.py, for GmailClient; the client used for them runs
on the transport that never repeats a request (transport.py).
"""

from __future__ import annotations

import base64
from typing import Any

from worker.gmail.calls import RequestFactory
from worker.gmail.service import GmailApi


def _raw(mime: bytes) -> str:
    return base64.urlsafe_b64encode(mime).decode("ascii")


def _message(mime: bytes, thread_id: str | None) -> dict[str, Any]:
    message: dict[str, Any] = {"raw": _raw(mime)}
    if thread_id:
        message["threadId"] = thread_id
    return message


def send_message(mime: bytes, thread_id: str | None) -> RequestFactory:
    """users.messages.send in the thread; answers {"id", "threadId", "labelIds"}."""
    return lambda api: api.messages.send(userId="me", body=_message(mime, thread_id))


def create_draft(mime: bytes, thread_id: str | None) -> RequestFactory:
    """users.drafts.create in the thread; answers {"id", "message": {"id", "threadId"}}."""
    return lambda api: api.drafts.create(userId="me", body={"message": _message(mime, thread_id)})


def send_draft(draft_id: str) -> RequestFactory:
    """users.drafts.send of the draft as it stands in Gmail (a person's edits included)."""
    return lambda api: api.drafts.send(userId="me", body={"id": draft_id})


def delete_draft(draft_id: str) -> RequestFactory:
    return lambda api: api.drafts.delete(userId="me", id=draft_id)


def list_drafts(page_token: str | None) -> RequestFactory:
    return lambda api: api.drafts.list(userId="me", maxResults=500, pageToken=page_token)


def search(query: str) -> RequestFactory:
    """Message ids matching a Gmail search, spam and trash included."""

    def make(api: GmailApi) -> Any:
        return api.messages.list(userId="me", q=query, includeSpamTrash=True, maxResults=10)

    return make


def sent_added_since(history_id: int, page_token: str | None) -> RequestFactory:
    """History of messages added with the SENT label since ``history_id``."""

    def make(api: GmailApi) -> Any:
        return api.history.list(
            userId="me",
            startHistoryId=history_id,
            historyTypes=["messageAdded"],
            labelId="SENT",
            maxResults=500,
            pageToken=page_token,
        )

    return make
