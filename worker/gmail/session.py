"""Everything around the actual work of a sync: status, lease, credentials, client, errors.

``run_guarded(runtime, address, step)`` returns at once, without a Gmail call, when
the mailbox needs re-authorisation or another sync holds its lease. Otherwise it
builds the client, runs ``step`` and records the result on the Mailbox row: success
(last_sync_at), ``invalid_grant`` (status needs_reauth, never retried), or any other
error (last_error, then re-raised for the caller to retry or report).

``open_client`` is the same without the lease, for one-off commands (audit, thread
replay) that read Gmail but never move the cursor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from googleapiclient.errors import HttpError

from crm_core.db import transaction
from crm_core.mailboxes import get_mailbox, mark_needs_reauth, record_error, record_sync
from crm_core.normalize import mailbox_key
from crm_core.planner import GrowthWatch
from crm_core.statuses import MailboxStatus
from worker.gmail.batch_sizer import BatchSizer
from worker.gmail.calls import GmailClient, RetryPolicy, describe
from worker.gmail.credentials import (
    SCOPES,
    SEND_SCOPES,
    MailboxCredentials,
    credentials_path,
    load_credentials,
    reauth_hint,
)
from worker.gmail.errors import LeaseLostError, NeedsReauthError
from worker.gmail.fetch import batch_sizer
from worker.gmail.lease import Lease
from worker.gmail.quota import bucket_for
from worker.gmail.report import SyncReport
from worker.gmail.service import build_gmail_service
from worker.gmail.transport import NoRepeatHttp
from worker.observability.errors import describe_error
from worker.runtime import Runtime

log = logging.getLogger("worker.gmail")


@dataclass(frozen=True)
class SyncOptions:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Renewed before every Gmail call once renew_every has passed; the longest pause
    # between calls (a backoff of up to 32 s, a batch of inline ingest jobs) is far
    # shorter than the ttl.
    lease_ttl: timedelta = timedelta(minutes=3)
    lease_renew_every: timedelta = timedelta(seconds=30)
    owner: str | None = None


# What a sync uses when the caller passes no options (the job, `crm sync`).
DEFAULT_OPTIONS = SyncOptions()


@dataclass
class SyncContext:
    runtime: Runtime
    mailbox: str  # lower-case address: the ledger's key
    client: GmailClient
    report: SyncReport
    history_id: int | None  # the stored cursor when the sync started
    growth: GrowthWatch  # refreshes planner statistics as staging grows the tables

    @property
    def page_size(self) -> int:
        return self.runtime.settings.gmail.list_page_size

    @cached_property
    def sizer(self) -> BatchSizer:
        return batch_sizer(self.client, self.runtime.settings.gmail)


Step = Callable[[SyncContext], None]


def run_guarded(
    runtime: Runtime, address: str, step: Step, options: SyncOptions | None = None
) -> SyncReport:
    options = options or DEFAULT_OPTIONS
    mailbox = mailbox_key(address)
    report = SyncReport(mailbox=mailbox)
    started = time.monotonic()
    lease = Lease(
        runtime.sessions,
        mailbox,
        ttl=options.lease_ttl,
        renew_every=options.lease_renew_every,
        owner=options.owner,
    )
    if not lease.acquire():
        report.status = "already_running"
        log.info("sync already running", extra={"mailbox": mailbox})
        return report
    try:
        status, history_id, last_error = _state(runtime, mailbox)
        if status is MailboxStatus.NEEDS_REAUTH:
            report.status, report.error = "needs_reauth", last_error
            return report
        with open_client(runtime, mailbox, options, heartbeat=lease.keep_alive) as client:
            try:
                growth = runtime.growth_watch()
                step(SyncContext(runtime, mailbox, client, report, history_id, growth))
            finally:
                _usage_into(report, client)
        with transaction(runtime.sessions) as session:
            record_sync(session, mailbox, full=report.kind == "full")
    except NeedsReauthError as exc:
        report.status, report.error = "needs_reauth", str(exc)
    except LeaseLostError:
        report.status = "lease_lost"
        log.warning("sync lease lost; another sync continues", extra={"mailbox": mailbox})
    except Exception as exc:
        # Status and reason of a Gmail answer; type and first line of anything else
        # (never a statement's parameters, which may hold a message body).
        message = describe(exc) if isinstance(exc, HttpError) else describe_error(exc)
        report.status, report.error = "failed", message
        with suppress(Exception), transaction(runtime.sessions) as session:
            record_error(session, mailbox, report.error)
        raise
    finally:
        report.seconds = round(time.monotonic() - started, 3)
        with suppress(Exception):
            lease.release()
    return report


def _state(runtime: Runtime, mailbox: str) -> tuple[MailboxStatus, int | None, str | None]:
    with transaction(runtime.sessions) as session:
        row = get_mailbox(session, mailbox)
        if row is None:
            return MailboxStatus.ACTIVE, None, None
        return row.status, row.history_id, row.last_error


def ensure_active(runtime: Runtime, address: str) -> None:
    """Raise NeedsReauthError (with the recorded reason) while the mailbox needs it."""
    status, _, last_error = _state(runtime, mailbox_key(address))
    if status is MailboxStatus.NEEDS_REAUTH:
        raise NeedsReauthError(last_error or reauth_hint(address))


@contextmanager
def open_client(
    runtime: Runtime,
    address: str,
    options: SyncOptions | None = None,
    *,
    heartbeat: Callable[[], None] = lambda: None,
    sending: bool = False,
) -> Iterator[GmailClient]:
    """A Gmail client for the mailbox. An ``invalid_grant`` inside the block sets the
    mailbox to needs_reauth and raises NeedsReauthError with the fix; a refreshed
    access token is written back to the credentials file afterwards.

    ``sending``: the client of replies, on the transport that never repeats a request
    (transport.py), its credentials holding the send scopes; ``client.credentials``
    tells what was granted."""
    mailbox = mailbox_key(address)
    credentials = load_credentials(
        credentials_path(runtime.settings, mailbox),
        mailbox,
        SEND_SCOPES if sending else SCOPES,
    )
    gmail = runtime.settings.gmail
    http = NoRepeatHttp(credentials.credentials) if sending else None
    client = GmailClient(
        build_gmail_service(gmail.api_endpoint, credentials.credentials, http),
        bucket_for(mailbox, runtime.settings),
        policy=(options or DEFAULT_OPTIONS).retry,
        heartbeat=heartbeat,
    )
    client.credentials = credentials
    try:
        yield client
    except NeedsReauthError:
        message = _reauth_message(mailbox, credentials)
        # The reason comes from the token endpoint; it never holds the token itself.
        log.warning("gmail authorisation refused", extra={"mailbox": mailbox})
        with transaction(runtime.sessions) as session:
            mark_needs_reauth(session, mailbox, message)
        raise NeedsReauthError(message) from None
    finally:
        with suppress(OSError):
            credentials.save_if_refreshed()


def _reauth_message(mailbox: str, credentials: MailboxCredentials) -> str:
    if credentials.service_account:
        return (
            f"the service account may not act for {mailbox} (invalid_grant): "
            "check its domain-wide delegation"
        )
    return reauth_hint(mailbox)


def _usage_into(report: SyncReport, client: GmailClient) -> None:
    usage = client.usage
    report.units = dict(usage.units)
    report.calls = dict(usage.calls)
    report.retries = usage.retries
    report.rate_limited = usage.rate_limited
    report.quota_wait_seconds = round(client.quota_wait_seconds, 3)
