"""Paging through every message id of a mailbox (messages.list, spam and trash included)."""

from __future__ import annotations

from collections.abc import Iterator

from worker.gmail import requests
from worker.gmail.calls import GmailClient


def message_id_pages(
    client: GmailClient, page_size: int, label_id: str | None = None
) -> Iterator[list[str]]:
    """The ids of each page in turn (of every message, or of those with ``label_id``),
    newest first, until the last page."""
    token: str | None = None
    while True:
        page = client.call("messages.list", requests.list_messages(page_size, token, label_id))
        yield [str(message["id"]) for message in page.get("messages") or ()]
        token = page.get("nextPageToken")
        if not token:
            return
