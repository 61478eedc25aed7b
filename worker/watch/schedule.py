"""When each mailbox is due for a sync or a watch renewal. Pure: time is passed in."""

from __future__ import annotations

from dataclasses import dataclass, field

from crm_core.normalize import mailbox_key
from worker.config import MailboxConfig

# After a failed watch renewal, try again this much later (not every tick).
RENEW_RETRY_SECONDS = 300.0


@dataclass
class MailboxSchedule:
    """Per mailbox: poll mode syncs every poll interval; push mode relies on
    notifications, with a backstop sync every backstop interval (Google may delay or
    drop notifications) and users.watch renewed on start and then periodically."""

    address: str
    push: bool
    sync_every: float
    renew_every: float
    next_sync: float = 0.0  # due at once: a start-up sync catches up on the downtime
    next_renewal: float = 0.0

    def sync_due(self, now: float) -> bool:
        return now >= self.next_sync

    def synced(self, now: float) -> None:
        self.next_sync = now + self.sync_every

    def renewal_due(self, now: float) -> bool:
        return self.push and now >= self.next_renewal

    def renewed(self, now: float, ok: bool) -> None:
        self.next_renewal = now + (self.renew_every if ok else RENEW_RETRY_SECONDS)


@dataclass
class Schedule:
    mailboxes: list[MailboxSchedule] = field(default_factory=list)

    @classmethod
    def for_mailboxes(
        cls,
        mailboxes: list[MailboxConfig],
        *,
        poll_seconds: float,
        backstop_seconds: float,
        renew_hours: float,
    ) -> Schedule:
        return cls(
            [
                MailboxSchedule(
                    address=mailbox_key(m.address),
                    push=m.mode == "push",
                    sync_every=backstop_seconds if m.mode == "push" else poll_seconds,
                    renew_every=renew_hours * 3600,
                )
                for m in mailboxes
            ]
        )

    def push_mailboxes(self) -> set[str]:
        return {m.address for m in self.mailboxes if m.push}
