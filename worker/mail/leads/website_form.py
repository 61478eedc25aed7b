"""Posts from the company website's contact form (wordpress@…, formular@… or the mailbox).

Form plugins (Contact Form 7, Gravity Forms, Elementor, Typeform, Jotform) label in
Danish or English, and some (Contact Form 7's default template) write the visitor as
one line: "From: Anna Jensen <anna@example.com>".
"""

from __future__ import annotations

from worker.mail.leads.labels import COMMON_LABELS, extend_labels
from worker.mail.leads.reading import IsCustomer, LeadReading, LeadSource, read_lead
from worker.mail.message import LeadData, ParsedMessage

SOURCE = LeadSource(
    name="website",
    labels=extend_labels(
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
    ),
)


def read(message: ParsedMessage, region: str, is_customer: IsCustomer | None = None) -> LeadReading:
    return read_lead(message, region, SOURCE, is_customer)


def parse(
    message: ParsedMessage, region: str, is_customer: IsCustomer | None = None, /
) -> LeadData | None:
    return read(message, region, is_customer).lead
