"""Connected mailboxes: sync cursor, status and the one-sync-at-a-time lease."""

from crm_core.mailboxes.service import (
    acquire_lease,
    advance_history_id,
    get_mailbox,
    get_or_create_mailbox,
    list_mailboxes,
    mark_active,
    mark_needs_reauth,
    record_error,
    record_sync,
    record_watch,
    release_lease,
    renew_lease,
    take_over_lease,
)

__all__ = [
    "acquire_lease",
    "advance_history_id",
    "get_mailbox",
    "get_or_create_mailbox",
    "list_mailboxes",
    "mark_active",
    "mark_needs_reauth",
    "record_error",
    "record_sync",
    "record_watch",
    "release_lease",
    "renew_lease",
    "take_over_lease",
]
