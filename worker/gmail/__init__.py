"""Gmail: credentials, the API client, quota, and syncing mailboxes into the ledger.

- ``sync.sync_mailbox(runtime, address, full=False)``: one sync, full or partial, under
  the mailbox's lease (``full_sync.full_sync`` / ``partial_sync.partial_sync``).
- ``threads.stage_thread`` and ``audit.audit_mailbox``: behind ``crm replay-thread``
  and ``crm audit``; ``auth_flow.authorise`` behind ``crm gmail auth``.

Every call goes to ``gmail.api_endpoint`` (batches included, see service.py), is paid
for from the mailbox's quota bucket first (quota.py) and retried while Gmail answers
429, 403 rate-limit or 5xx (calls.py, fetch.py).

Quota units per message, measured at the fake Gmail server (tests/gmail/
test_calls_and_quota.py): a full sync spends 5.011 units per message (5 for each
messages.get, 5 per list page of 500 ids, 1 for getProfile); a partial sync 5.02 per
new message (5 for each get, 2 per history page of up to 500 records). Messages the
ledger already has are never fetched again; label changes and deletes cost only their
share of a history page.
"""
