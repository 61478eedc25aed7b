"""What a lead is scored on: its facts, and the feature values derived from them.

Every feature is a small set of named values, so that the model can count them and a
reason can be read by a person ("postcode area 80xx", "first reply within 1 h").
A feature that is not known yet is left out rather than guessed: a lead that came in
an hour ago has no "time to first reply" until we answer it, and leaving it out
keeps "never answered" (a feature of leads that went nowhere) off new leads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

# The office's clock: weekday and hour are the customer's and ours, not UTC's.
OFFICE_TIME = ZoneInfo("Europe/Copenhagen")
# A lead still open after this long is counted as not converted; a younger open
# lead is not counted at all (it may still become a booking).
DECIDED_AFTER = timedelta(days=30)

FEATURE_LABELS = {
    "source": "source",
    "task": "task",
    "size": "size",
    "area": "postcode area",
    "reply": "first reply",
    "bookings": "earlier bookings",
    "revenue": "earlier revenue",
    "weekday": "received on",
    "hour": "received",
}
FEATURES = tuple(FEATURE_LABELS)

_POSTCODE = re.compile(r"\b(?:DK-?)?([1-9]\d{3})\b")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """What the database knows about a lead that bears on whether it converts."""

    lead_id: str
    source: str
    task_type: str | None
    size_m2: int | None
    address: str | None
    received_at: datetime
    first_reply_at: datetime | None = None
    earlier_bookings: int = 0
    earlier_revenue: Decimal = Decimal(0)
    converted: bool = False
    closed: bool = False  # won or lost by hand, or converted

    def decided(self, now: datetime) -> bool:
        """Whether the lead's outcome is known (so it can be learned from)."""
        return self.converted or self.closed or self.received_at <= now - DECIDED_AFTER


def postcode_area(address: str | None) -> str | None:
    """The first two digits of the last Danish postcode in an address: "8000 Aarhus C" → 80xx."""
    if not address:
        return None
    found = _POSTCODE.findall(address)
    return f"{found[-1][:2]}xx" if found else None


def _size(size_m2: int | None) -> str | None:
    if size_m2 is None or size_m2 <= 0:
        return None
    for limit, label in ((50, "under 50 m²"), (100, "50–99 m²"), (150, "100–149 m²")):
        if size_m2 < limit:
            return label
    return "150 m² or more"


def _reply(facts: LeadFacts, now: datetime) -> str | None:
    if facts.first_reply_at is None:
        return "never" if facts.decided(now) else None
    waited = facts.first_reply_at - facts.received_at
    for limit, label in ((1, "within 1 h"), (4, "within 4 h"), (24, "within a day")):
        if waited <= timedelta(hours=limit):
            return label
    return "after more than a day"


def _revenue(revenue: Decimal) -> str:
    if revenue <= 0:
        return "none"
    return "under 5.000 kr" if revenue < 5000 else "5.000 kr or more"


def _hour(local: datetime) -> str:
    if local.hour < 6:
        return "at night"
    if local.hour < 12:
        return "in the morning"
    return "in the afternoon" if local.hour < 18 else "in the evening"


def features_of(facts: LeadFacts, now: datetime) -> dict[str, str]:
    """The lead's feature values, by feature name (unknown features left out)."""
    local = facts.received_at.astimezone(OFFICE_TIME)
    task = " ".join((facts.task_type or "").lower().split())[:60]
    values: dict[str, str | None] = {
        "source": facts.source.strip().lower()[:100] or None,
        "task": task or None,
        "size": _size(facts.size_m2),
        "area": postcode_area(facts.address),
        "reply": _reply(facts, now),
        "bookings": "2 or more" if facts.earlier_bookings >= 2 else str(facts.earlier_bookings),
        "revenue": _revenue(facts.earlier_revenue),
        "weekday": _WEEKDAYS[local.weekday()],
        "hour": _hour(local),
    }
    return {name: value for name, value in values.items() if value is not None}
