"""Leads from Rengøring.nu, relayed by Leadmail (noreply@leadmail.no, leads@leadmail.no).

Subjects seen: "Nyt lead fra Rengøring.nu", "Anna Jensen fra Rengøring.nu",
"Ny opgave fra Rengøring.nu - Flytterengøring". The subject supplies the name or
the task when the body lacks them.
"""

from __future__ import annotations

import re

from worker.mail.leads.fields import body_lines, extract_fields
from worker.mail.leads.labels import COMMON_LABELS, extend_labels
from worker.mail.leads.values import lead_from_fields
from worker.mail.message import LeadData, ParsedMessage

SOURCE = "rengoring.nu"

LABELS = extend_labels(COMMON_LABELS)
FOOTERS = (r"reng(?:ø|o|oe)ring\.nu\b", r"leadmail\b")

_PLATFORM = r"reng(?:ø|o|oe)ring\.nu"
_NAME_IN_SUBJECT = re.compile(rf"^(?P<name>.+?)\s+fra\s+{_PLATFORM}", re.IGNORECASE)
_TASK_IN_SUBJECT = re.compile(rf"{_PLATFORM}\s*[-–:]\s*(?P<task>.+)$", re.IGNORECASE)
# "Nyt lead fra …", "Ny opgave fra …", "Fwd: …": not a person's name.
_NOT_A_NAME = re.compile(r"^(?:(?:re|fw|fwd|vs|sv)\s*:|nyt?\b|new\b|lead\b)", re.IGNORECASE)


def parse(message: ParsedMessage, region: str) -> LeadData | None:
    fields = extract_fields(body_lines(message.body_text), LABELS, footers=FOOTERS)
    subject = " ".join(message.subject.split())
    match = _NAME_IN_SUBJECT.search(subject)
    if "name" not in fields and match and not _NOT_A_NAME.match(match["name"]):
        fields["name"] = match["name"]
    if "task_type" not in fields and (match := _TASK_IN_SUBJECT.search(subject)):
        fields["task_type"] = match["task"].strip()
    return lead_from_fields(SOURCE, fields, region)
