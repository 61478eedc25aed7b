"""Lead parsers: read the person and the job out of a lead platform's email.

``PARSERS`` maps the names used in ``[[ingest.lead_sources]] parser = "…"`` to the
parser functions. A parser takes the message, the default phone region ("DK") and
optionally the classifier's test of who can be the customer (not us, not the
platform, not a robot), and returns the lead, or None when the message names no
person at all. Parsers are pure and tolerant: a missing field is None, never an
error. ``READERS`` are the same parsers returning a ``LeadReading``: the lead and
what produced each field (``crm explain`` shows it). How a lead is read:
``reading.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from worker.mail.lead_parser_names import PARSER_NAMES
from worker.mail.leads import leadpoint, rengoring_nu, website_form
from worker.mail.leads.reading import IsCustomer, LeadReading
from worker.mail.message import LeadData, ParsedMessage


class LeadParser(Protocol):
    def __call__(
        self, message: ParsedMessage, region: str, is_customer: IsCustomer | None = None, /
    ) -> LeadData | None: ...


# The same, with what produced each field and the classifier's idea of who can be the
# customer (``crm explain`` and the classifier use these).
LeadReader = Callable[[ParsedMessage, str, IsCustomer | None], LeadReading]

PARSERS: dict[str, LeadParser] = {
    "rengoring_nu": rengoring_nu.parse,
    "leadpoint": leadpoint.parse,
    "website_form": website_form.parse,
}
READERS: dict[str, LeadReader] = {
    "rengoring_nu": rengoring_nu.read,
    "leadpoint": leadpoint.read,
    "website_form": website_form.read,
}

assert tuple(PARSERS) == tuple(READERS) == PARSER_NAMES, "leads.names lists every parser"

__all__ = ["PARSERS", "READERS", "IsCustomer", "LeadParser", "LeadReader", "LeadReading"]
