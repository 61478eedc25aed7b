"""What one sync did, in numbers: for the command line, the logs and the tests."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SyncReport:
    mailbox: str
    # ok | already_running | needs_reauth | lease_lost | failed
    status: str = "ok"
    kind: str = ""  # full | partial
    error: str | None = None
    history_expired: bool = False  # a partial sync found its history id too old
    listed: int = 0  # ids listed (full sync) or named by history records (partial)
    history_records: int = 0
    known: int = 0  # already in the ledger: not fetched again
    fetched: int = 0
    staged: int = 0  # newly staged (an ingest job was sent for each)
    resent: int = 0  # staged earlier, still pending: ingest job sent again
    gone: int = 0  # deleted between listing and fetching
    labels_updated: int = 0
    deleted: int = 0  # known messages deleted in Gmail (recorded, history kept)
    reopened: int = 0  # taken out of spam or trash: classified again
    history_from: int | None = None
    history_to: int | None = None
    units: dict[str, int] = field(default_factory=dict)  # quota units spent, by method
    calls: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    rate_limited: int = 0
    quota_wait_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Nothing went wrong (another sync running or taking over is not a failure)."""
        return self.status in ("ok", "already_running", "lease_lost")

    @property
    def total_units(self) -> int:
        return sum(self.units.values())

    @property
    def units_per_fetched(self) -> float | None:
        return self.total_units / self.fetched if self.fetched else None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["total_units"] = self.total_units
        data["units_per_fetched"] = (
            round(self.units_per_fetched, 3) if self.units_per_fetched is not None else None
        )
        return data
