"""The mailbox lease: one sync per mailbox at a time, across processes and machines.

A sync takes the lease (a conditional UPDATE on the Mailbox row) before any Gmail
call and renews it while it works, at most every ``renew_every``; a crashed holder's
lease simply expires after ``ttl``. A sync that finds the lease held returns at once,
unless the holder was a process on this machine that no longer exists (killed, out
of memory): then it takes the lease over at once instead of waiting for the expiry.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import transaction
from crm_core.mailboxes import (
    acquire_lease,
    get_or_create_mailbox,
    release_lease,
    renew_lease,
    take_over_lease,
)
from worker.gmail.errors import LeaseLostError


def new_owner() -> str:
    """host:pid:thread:random, unique per sync."""
    host = socket.gethostname()[:40]
    return f"{host}:{os.getpid()}:{threading.get_ident() % 100000}:{uuid.uuid4().hex[:12]}"


def is_dead_local_owner(owner: str | None) -> bool:
    """True when ``owner`` names a process of this machine that is gone."""
    host, _, rest = (owner or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


class Lease:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        mailbox: str,
        *,
        ttl: timedelta,
        renew_every: timedelta,
        owner: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.mailbox = mailbox
        self.ttl = ttl
        self.renew_every = renew_every.total_seconds()
        self.owner = owner or new_owner()
        self.held = False
        self._renewed_at = 0.0

    def acquire(self) -> bool:
        with transaction(self.sessions) as session:
            row = get_or_create_mailbox(session, self.mailbox)
            self.held = acquire_lease(session, self.mailbox, self.owner, self.ttl)
            holder = row.lease_owner
            if not self.held and is_dead_local_owner(holder):
                assert holder is not None
                self.held = take_over_lease(session, self.mailbox, holder, self.owner, self.ttl)
        self._renewed_at = time.monotonic()
        return self.held

    def keep_alive(self) -> None:
        """Renew when due; raise LeaseLostError when another sync has taken over."""
        if not self.held or time.monotonic() - self._renewed_at < self.renew_every:
            return
        with transaction(self.sessions) as session:
            renewed = renew_lease(session, self.mailbox, self.owner, self.ttl)
        if not renewed:
            self.held = False
            raise LeaseLostError(f"lost the sync lease of {self.mailbox}")
        self._renewed_at = time.monotonic()

    def release(self) -> None:
        if not self.held:
            return
        with transaction(self.sessions) as session:
            release_lease(session, self.mailbox, self.owner)
        self.held = False
