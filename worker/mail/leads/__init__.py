"""Lead parsers: read the person and the job out of a lead platform's email.

``PARSERS`` maps the names used in ``[[ingest.lead_sources]] parser = "…"`` to the
parser functions. A parser takes the message and the default phone region ("DK")
and returns the lead, or None when the message names no person at all. Parsers
are pure and tolerant: a missing field is None, never an error.
"""

from __future__ import annotations

from collections.abc import Callable

from worker.mail.leads import leadpoint, rengoring_nu, website_form
from worker.mail.message import LeadData, ParsedMessage

LeadParser = Callable[[ParsedMessage, str], LeadData | None]

PARSERS: dict[str, LeadParser] = {
    "rengoring_nu": rengoring_nu.parse,
    "leadpoint": leadpoint.parse,
    "website_form": website_form.parse,
}

__all__ = ["PARSERS", "LeadParser"]
