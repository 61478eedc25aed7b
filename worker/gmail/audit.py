"""Does every message in the Gmail mailbox have a final outcome in the ledger?

Lists every message id (spam and trash included: 5 units per 500 ids) and reads the
ledger for them. Final outcomes are stored, bounce, quarantined, erased (at the
person's request, crm_core.privacy.erase) and skipped with a reason. A message without
a ledger row is missing: something lost it. A pending one is staged but not yet (or
never) ingested.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crm_core.db import transaction
from crm_core.inbox import count_in_mailbox, entries
from crm_core.normalize import mailbox_key
from crm_core.statuses import IngestOutcome
from worker.gmail.listing import message_id_pages
from worker.gmail.session import SyncOptions, ensure_active, open_client
from worker.runtime import Runtime


@dataclass
class AuditResult:
    mailbox: str
    listed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # among the listed messages
    missing: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)  # skipped without a reason
    ledger_only: int = 0  # ledger rows of messages no longer in Gmail (deleted there)
    units: int = 0

    @property
    def clean(self) -> bool:
        return not (self.missing or self.pending or self.unexplained)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "clean": self.clean,
            "listed": self.listed,
            "outcomes": dict(sorted(self.outcomes.items())),
            "missing": self.missing,
            "pending": self.pending,
            "skipped_without_reason": self.unexplained,
            "ledger_only": self.ledger_only,
            "units": self.units,
        }


def audit_mailbox(
    runtime: Runtime, address: str, options: SyncOptions | None = None
) -> AuditResult:
    mailbox = mailbox_key(address)
    ensure_active(runtime, mailbox)
    result = AuditResult(mailbox)
    with open_client(runtime, mailbox, options) as client:
        pages = message_id_pages(client, runtime.settings.gmail.list_page_size)
        ids = list(dict.fromkeys(i for page in pages for i in page))
        result.units = client.usage.total_units
    result.listed = len(ids)
    with transaction(runtime.sessions) as session:
        found = entries(session, mailbox, ids)
        in_ledger = count_in_mailbox(session, mailbox)
    result.ledger_only = in_ledger - len(found)
    for gmail_id in ids:
        entry = found.get(gmail_id)
        if entry is None:
            result.missing.append(gmail_id)
            continue
        result.outcomes[entry.outcome.value] += 1
        if entry.outcome is IngestOutcome.PENDING:
            result.pending.append(gmail_id)
        elif entry.outcome is IngestOutcome.SKIPPED and not entry.reason:
            result.unexplained.append(gmail_id)
    return result
