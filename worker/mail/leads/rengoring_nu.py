"""Leads from Rengøring.nu, relayed by Leadmail (noreply@leadmail.no, leads@leadmail.no).

Subjects seen: "Nyt lead fra Rengøring.nu", "Anna Jensen fra Rengøring.nu",
"Ny opgave fra Rengøring.nu - Flytterengøring". The subject supplies the name or
the task when the body lacks them.
"""

from __future__ import annotations

import re

from worker.mail.leads.fields import Found
from worker.mail.leads.labels import COMMON_LABELS, extend_labels
from worker.mail.leads.reading import IsCustomer, LeadReading, LeadSource, read_lead
from worker.mail.message import LeadData, ParsedMessage

_PLATFORM = r"reng(?:ø|o|oe)ring\.nu"
_NAME_IN_SUBJECT = re.compile(rf"^(?P<name>.+?)\s+fra\s+{_PLATFORM}", re.IGNORECASE)
_TASK_IN_SUBJECT = re.compile(rf"{_PLATFORM}\s*[-–:]\s*(?P<task>.+)$", re.IGNORECASE)
# "Nyt lead fra …", "Ny opgave fra …", "Fwd: …": not a person's name.
_NOT_A_NAME = re.compile(r"^(?:(?:re|fw|fwd|vs|sv)\s*:|nyt?\b|new\b|lead\b)", re.IGNORECASE)


def _read_subject(subject: str, found: dict[str, Found]) -> None:
    match = _NAME_IN_SUBJECT.search(subject)
    has_name = {"name", "first_name", "sender"} & found.keys()
    if not has_name and match and not _NOT_A_NAME.match(match["name"]):
        found["name"] = Found(match["name"], "subject")
    if "task_type" not in found and (match := _TASK_IN_SUBJECT.search(subject)):
        found["task_type"] = Found(match["task"].strip(), "subject")


SOURCE = LeadSource(
    name="rengoring.nu",
    labels=extend_labels(COMMON_LABELS),
    footers=(r"reng(?:ø|o|oe)ring\.nu\b", r"leadmail\b"),
    read_subject=_read_subject,
)


def read(message: ParsedMessage, region: str, is_customer: IsCustomer | None = None) -> LeadReading:
    return read_lead(message, region, SOURCE, is_customer)


def parse(
    message: ParsedMessage, region: str, is_customer: IsCustomer | None = None, /
) -> LeadData | None:
    return read(message, region, is_customer).lead
