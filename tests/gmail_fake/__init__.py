"""A fake Gmail API server for tests: REST endpoints, batch, OAuth refresh, quota, faults."""

from .faults import DEFAULT_COSTS, Fault
from .mailbox import HistoryRecord, Mailbox, StoredMessage, WatchState
from .oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from .server import FakeGmailServer
from .stats import RequestRecord, ServerStats, UserStats

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_COSTS",
    "FakeGmailServer",
    "Fault",
    "HistoryRecord",
    "Mailbox",
    "RequestRecord",
    "ServerStats",
    "StoredMessage",
    "UserStats",
    "WatchState",
]
