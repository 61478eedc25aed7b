"""Posts from the company website's contact form (wordpress@…, formular@… or the mailbox).

Form plugins label in Danish or English, and some (Contact Form 7's default
template) write the visitor as one line: "From: Anna Jensen <anna@example.com>".
"""

from __future__ import annotations

from worker.mail.leads.fields import body_lines, extract_fields
from worker.mail.leads.labels import COMMON_LABELS, extend_labels
from worker.mail.leads.values import lead_from_fields
from worker.mail.message import LeadData, ParsedMessage

SOURCE = "website"

LABELS = extend_labels(
    COMMON_LABELS,
    name=("Name", "Your name", "Full name", "Fornavn og efternavn"),
    email=("Email address", "E-mail address", "Your email", "Your e-mail"),
    phone=("Phone", "Phone number", "Telephone", "Your phone", "Mobile"),
    address=("Address", "Your address"),
    postcode=("Zip", "Zip code", "Postal code"),
    city=("City",),
    message=("Message", "Your message", "Message body", "Din besked", "Din henvendelse"),
    sender=("From", "Fra", "Afsender"),
    ignore=("Subject", "Page", "Side", "Sendt fra", "Date", "Time"),
)


def parse(message: ParsedMessage, region: str) -> LeadData | None:
    fields = extract_fields(body_lines(message.body_text), LABELS)
    return lead_from_fields(SOURCE, fields, region)
