"""Leads from Leadpoint (…@leadpoint.dk).

Subjects name the trade and town: "Rengøring Aarhus", "Nyt lead: Rengøring Aarhus",
"Ny forespørgsel - Rengøring Aarhus"; that becomes the task when the body names none.
The message's Reply-To is usually the customer, which the classifier uses when the
body has no email.
"""

from __future__ import annotations

import re

from worker.mail.leads.fields import body_lines, extract_fields
from worker.mail.leads.labels import COMMON_LABELS, extend_labels
from worker.mail.leads.values import lead_from_fields
from worker.mail.message import LeadData, ParsedMessage

SOURCE = "leadpoint"

LABELS = extend_labels(
    COMMON_LABELS,
    task_type=("Kategori", "Branche", "Type opgave"),
    message=("Opgavebeskrivelse", "Beskrivelse af opgaven", "Opgavens beskrivelse"),
)
FOOTERS = (r"leadpoint\b",)

_SUBJECT_PREFIX = re.compile(
    r"^(?:(?:re|fw|fwd|vs|sv)\s*:\s*)*(?:(?:nyt?\s+)?(?:lead|forespørgsel|opgave)\s*[:\-–]\s*)?",
    re.IGNORECASE,
)


def parse(message: ParsedMessage, region: str) -> LeadData | None:
    fields = extract_fields(body_lines(message.body_text), LABELS, footers=FOOTERS)
    if "task_type" not in fields:
        task = _SUBJECT_PREFIX.sub("", " ".join(message.subject.split())).strip()
        if task:
            fields["task_type"] = task
    return lead_from_fields(SOURCE, fields, region)
