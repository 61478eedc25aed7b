"""The names of the lead parsers, without the parsers.

``[[ingest.lead_sources]] parser = "…"`` is checked against these when the settings
load; importing the parsers themselves (and phonenumbers with them) there would cost
every ``crm`` command about a tenth of a second. ``worker.mail.leads`` checks that
its ``PARSERS`` has exactly these names.
"""

from __future__ import annotations

PARSER_NAMES: tuple[str, ...] = ("rengoring_nu", "leadpoint", "website_form")
