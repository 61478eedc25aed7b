"""The website's contact form: Danish or English labels, a few plugin layouts."""

from __future__ import annotations

from worker.mail.leads import PARSERS
from worker.mail.message import LeadData

from .conftest import build_message

parse = PARSERS["website_form"]


def lead(body: str, subject: str = "Ny henvendelse fra kontaktformular") -> LeadData | None:
    message = build_message(from_="WordPress <wordpress@rendetalje.dk>", subject=subject, body=body)
    return parse(message, "DK")


def test_danish_labels() -> None:
    body = """Ny henvendelse fra kontaktformularen på rendetalje.dk

Navn: Sofie Holm
Email: sofie.holm@yahoo.dk
Telefon: 28 29 30 31
Adresse: Skovvej 4, 8600 Silkeborg
Besked: Hej
Vi flytter 1. juli og skal have flytterengøring af 3 værelser.

Mvh Sofie

--
Denne e-mail blev sendt fra en kontaktformular på Rendetalje (https://rendetalje.dk)
"""
    assert lead(body) == LeadData(
        source="website",
        name="Sofie Holm",
        email="sofie.holm@yahoo.dk",
        phone="+4528293031",
        address="Skovvej 4, 8600 Silkeborg",
        message="Hej\nVi flytter 1. juli og skal have flytterengøring af 3 værelser.",
    )


def test_english_labels() -> None:
    body = (
        "Name: John Smith\n"
        "Email address: john.smith@example.co.uk\n"
        "Phone: +44 7700 900123\n"
        "Message: Quote for office cleaning, 300 sqm.\n"
    )
    result = lead(body, subject="Kontaktformular: Office cleaning")
    assert result is not None
    assert (result.name, result.email, result.phone) == (
        "John Smith",
        "john.smith@example.co.uk",
        "+447700900123",
    )
    assert result.message == "Quote for office cleaning, 300 sqm."


def test_contact_form_7_default_template() -> None:
    body = """From: Jonas Berg <jonas.berg@gmail.com>
Subject: Vinduespudsning

Message Body:
Hvad koster vinduespudsning af et rækkehus?

--
This e-mail was sent from a contact form on Rendetalje (https://rendetalje.dk)
"""
    assert lead(body, subject='Rendetalje "Vinduespudsning"') == LeadData(
        source="website",
        name="Jonas Berg",
        email="jonas.berg@gmail.com",
        message="Hvad koster vinduespudsning af et rækkehus?",
    )


def test_phone_only_form() -> None:
    result = lead("Navn: Ib Madsen\nTelefon: 86 12 34 56\nBesked: Ring mig op")
    assert result is not None
    assert (result.name, result.email, result.phone) == ("Ib Madsen", None, "+4586123456")


def test_wordpress_notice_is_no_lead() -> None:
    body = "Howdy! Some plugins have automatically updated to their latest versions on your site."
    assert lead(body, subject="[Rendetalje] Some plugins were automatically updated") is None
