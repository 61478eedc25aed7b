"""Leadpoint leads: Danish labels, the customer often only in Reply-To."""

from __future__ import annotations

import pytest

from worker.mail.leads import PARSERS
from worker.mail.message import LeadData

from .conftest import build_message

parse = PARSERS["leadpoint"]


def lead(body: str, subject: str = "Rengøring Aarhus") -> LeadData | None:
    message = build_message(from_="Leadpoint <leads@leadpoint.dk>", subject=subject, body=body)
    return parse(message, "DK")


def test_full_lead() -> None:
    body = """Hej Rendetalje

Du har fået en ny forespørgsel via Leadpoint.

Navn: Bo Nielsen
E-mail: bo.nielsen@hotmail.com
Telefon: 40 50 60 70
Adresse: Grenåvej 101
Postnummer: 8240
By: Risskov
Boligtype: Villa
Størrelse: 160 m2
Opgavebeskrivelse: Hovedrengøring før indflytning.
Huset har to etager og trappe.
Lead ID: 884512
Kilde: leadpoint.dk/rengoering

Leadpoint ApS · Vesterbrogade 1 · 1620 København V
"""
    assert lead(body, subject="Nyt lead: Rengøring Aarhus") == LeadData(
        source="leadpoint",
        name="Bo Nielsen",
        email="bo.nielsen@hotmail.com",
        phone="+4540506070",
        address="Grenåvej 101, 8240 Risskov",
        property_type="Villa",
        task_type="Rengøring Aarhus",
        size_m2=160,
        message="Hovedrengøring før indflytning.\nHuset har to etager og trappe.",
    )


@pytest.mark.parametrize(
    ("subject", "task"),
    [
        ("Rengøring Aarhus", "Rengøring Aarhus"),
        ("Nyt lead: Rengøring Aarhus", "Rengøring Aarhus"),
        ("Ny forespørgsel - Rengøring Aarhus", "Rengøring Aarhus"),
        ("Fwd: Ny forespørgsel – Vinduespudsning Silkeborg", "Vinduespudsning Silkeborg"),
    ],
)
def test_task_from_subject(subject: str, task: str) -> None:
    result = lead("Navn: Bo\nTelefon: 40506070", subject=subject)
    assert result is not None
    assert result.task_type == task


def test_task_label_beats_subject() -> None:
    result = lead(
        "Navn: Bo\nTelefon: 40506070\nKategori: Erhvervsrengøring", subject="Rengøring Aarhus"
    )
    assert result is not None
    assert result.task_type == "Erhvervsrengøring"


def test_postcode_and_town_label_without_street() -> None:
    result = lead("Navn: Bo Nielsen\nTelefon: 40506070\nPostnr. og by: 8200 Aarhus N\n")
    assert result is not None
    assert result.address == "8200 Aarhus N"
    assert result.email is None


def test_plain_text_columns_and_quoted_forward() -> None:
    body = """---------- Forwarded message ---------
> Navn:        Signe Lund
> E-mail:      signe@lund.dk
> Telefon      +45 61 62 63 64
> Størrelse    ca. 1.200 m2
"""
    result = lead(body)
    assert result is not None
    assert (result.name, result.email, result.phone, result.size_m2) == (
        "Signe Lund",
        "signe@lund.dk",
        "+4561626364",
        1200,
    )
