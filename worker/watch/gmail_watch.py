"""users.watch: ask Gmail to publish a mailbox's changes to the Pub/Sub topic."""

from __future__ import annotations

from datetime import UTC, datetime

from crm_core.db import transaction
from crm_core.mailboxes import record_watch
from worker.gmail.session import ensure_active, open_client
from worker.runtime import Runtime


def renew_watch(runtime: Runtime, address: str) -> datetime:
    """(Re)start the watch; returns when Gmail will stop it unless renewed."""
    topic = runtime.settings.gmail.topic_name
    if not topic:
        raise ValueError("gmail.topic_name is not set")
    ensure_active(runtime, address)
    with open_client(runtime, address) as client:
        answer = client.call(
            "watch",
            lambda api: api.users.watch(userId="me", body={"topicName": topic}),
        )
    expires = datetime.fromtimestamp(int(answer["expiration"]) / 1000, tz=UTC)
    with transaction(runtime.sessions) as session:
        record_watch(session, address, expires)
    return expires
