"""Leads from Leadpoint (…@leadpoint.dk).

Subjects name the trade and town: "Rengøring Aarhus", "Nyt lead: Rengøring Aarhus",
"Ny forespørgsel - Rengøring Aarhus"; that becomes the task when the body names none.
The message's Reply-To is usually the customer, which the classifier uses when the
body has no email.
"""

from __future__ import annotations

import re

from worker.mail.leads.fields import Found
from worker.mail.leads.labels import COMMON_LABELS, extend_labels
from worker.mail.leads.reading import IsCustomer, LeadReading, LeadSource, read_lead
from worker.mail.message import LeadData, ParsedMessage

_SUBJECT_PREFIX = re.compile(
    r"^(?:(?:re|fw|fwd|vs|sv)\s*:\s*)*(?:(?:nyt?\s+)?(?:lead|forespørgsel|opgave)\s*[:\-–]\s*)?",
    re.IGNORECASE,
)


def _read_subject(subject: str, found: dict[str, Found]) -> None:
    if "task_type" not in found and (task := _SUBJECT_PREFIX.sub("", subject).strip()):
        found["task_type"] = Found(task, "subject")


SOURCE = LeadSource(
    name="leadpoint",
    labels=extend_labels(
        COMMON_LABELS,
        task_type=("Kategori", "Branche", "Type opgave"),
        message=("Opgavebeskrivelse", "Beskrivelse af opgaven", "Opgavens beskrivelse"),
    ),
    footers=(r"leadpoint\b",),
    read_subject=_read_subject,
)


def read(message: ParsedMessage, region: str, is_customer: IsCustomer | None = None) -> LeadReading:
    return read_lead(message, region, SOURCE, is_customer)


def parse(
    message: ParsedMessage, region: str, is_customer: IsCustomer | None = None, /
) -> LeadData | None:
    return read(message, region, is_customer).lead
