"""The Gmail requests a sync makes, as factories GmailClient can build and rebuild.

Each returns ``api -> HttpRequest``: a retry builds the request afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from worker.gmail.calls import RequestFactory
from worker.gmail.service import GmailApi


def get_profile() -> RequestFactory:
    return lambda api: api.users.getProfile(userId="me")


def list_messages(
    page_size: int, page_token: str | None, label_id: str | None = None
) -> RequestFactory:
    """One page of every message id (or of those carrying ``label_id``), spam and trash
    included."""

    def make(api: GmailApi) -> Any:
        extra = {"labelIds": [label_id]} if label_id else {}
        return api.messages.list(
            userId="me",
            includeSpamTrash=True,
            maxResults=page_size,
            pageToken=page_token,
            **extra,
        )

    return make


def get_raw(message_id: str) -> RequestFactory:
    return lambda api: api.messages.get(userId="me", id=message_id, format="raw")


def list_history(
    start_history_id: int, types: Sequence[str], page_size: int, page_token: str | None
) -> RequestFactory:
    def make(api: GmailApi) -> Any:
        return api.history.list(
            userId="me",
            startHistoryId=start_history_id,
            historyTypes=list(types),
            maxResults=page_size,
            pageToken=page_token,
        )

    return make


def get_thread_minimal(thread_id: str) -> RequestFactory:
    """Ids and labels of a thread's messages (threads.get has no raw format)."""
    return lambda api: api.threads.get(userId="me", id=thread_id, format="minimal")
