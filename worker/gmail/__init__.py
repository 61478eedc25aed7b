"""Gmail: credentials, the API client, quota, and syncing mailboxes into the ledger.

- ``sync.sync_mailbox(runtime, address, full=False)``: one sync, full or partial.
- ``full_sync.full_sync`` / ``partial_sync.partial_sync``: the two kinds.
- ``threads.fetch_thread`` and ``audit.audit_mailbox``: behind ``crm replay-thread``
  and ``crm audit``.
"""
