"""The shared helpers: phone numbers, numbers in text, addresses, label layouts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_core.normalize import normalize_phone
from worker.mail.leads.fields import body_lines, extract_fields
from worker.mail.leads.labels import COMMON_LABELS
from worker.mail.leads.values import find_email, join_address, parse_int


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12 34 56 78", "+4512345678"),
        ("12345678", "+4512345678"),
        ("+45 12345678", "+4512345678"),
        ("0045 12 34 56 78", "+4512345678"),
        ("+45 12 34 56 78", "+4512345678"),
        ("+46 70 123 45 67", "+46701234567"),
        ("22 33 44 55 (efter kl. 16)", "+4522334455"),
        ("  ukendt  ", "ukendt"),
        ("123", "123"),
        ("", None),
        ("   ", None),
    ],
)
def test_normalize_phone(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw, "DK") == expected


def test_normalize_phone_other_region() -> None:
    assert normalize_phone("070-123 45 67", "SE") == "+46701234567"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("120 m2", 120),
        ("ca. 85 m²", 85),
        ("85m2", 85),
        ("m2: 85", 85),
        ("85,5 m2", 85),
        ("1.200 m2", 1200),
        ("100-120 m2", 100),
        ("3 værelser", 3),
        ("ved ikke", None),
    ],
)
def test_parse_int(text: str, expected: int | None) -> None:
    assert parse_int(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anna@example.com", "anna@example.com"),
        ("<Anna@Example.com>", "Anna@Example.com"),
        ("[anna@example.com](mailto:anna@example.com)", "anna@example.com"),
        ("skriv til anna@example.com.", "anna@example.com"),
        ("anna(at)example.com", None),
    ],
)
def test_find_email(text: str, expected: str | None) -> None:
    assert find_email(text) == expected


def test_join_address_does_not_repeat() -> None:
    assert join_address("Vestergade 12", "8000", "Aarhus C") == "Vestergade 12, 8000 Aarhus C"
    assert join_address("Vestergade 12, 8000 Aarhus C", "8000", "Aarhus C") == (
        "Vestergade 12, 8000 Aarhus C"
    )
    assert join_address(None, "8000", "Aarhus C") == "8000 Aarhus C"
    assert join_address(None, None, None) is None


def test_label_boundaries() -> None:
    lines = body_lines(
        "Navnet på firmaet er ligegyldigt\n"
        "Bygningen er gammel\n"
        "Navn  :  Anna\n"
        "Tlf. 12 34 56 78\n"
        "Hvor stort er området (m2)? 95\n"
        "By\n"
        "Aarhus\n"
    )
    assert extract_fields(lines, COMMON_LABELS) == {
        "name": "Anna",
        "phone": "12 34 56 78",
        "size_m2": "95",
        "city": "Aarhus",
    }


def test_first_occurrence_wins_and_empty_values_are_skipped() -> None:
    lines = body_lines("Telefon:\nNavn: Anna\nTelefon: 11 22 33 44\n\nTelefon: 70 70 70 70\n")
    assert extract_fields(lines, COMMON_LABELS) == {"name": "Anna", "phone": "11 22 33 44"}


def test_address_block_stops_at_unknown_labels_and_text() -> None:
    lines = body_lines("Adresse: Vestergade 12\nKilde: Google\n")
    assert extract_fields(lines, COMMON_LABELS)["address"] == "Vestergade 12"
    lines = body_lines("Adresse\nVestergade 12\nHar I tid i næste uge?\n")
    assert extract_fields(lines, COMMON_LABELS)["address"] == "Vestergade 12"


def test_message_runs_until_next_label() -> None:
    lines = body_lines("Besked: Første linje\nAnden linje\nTelefon: 12345678\n")
    assert extract_fields(lines, COMMON_LABELS) == {
        "message": "Første linje\nAnden linje",
        "phone": "12345678",
    }


@given(st.text(max_size=3000))
def test_extraction_never_raises(text: str) -> None:
    extract_fields(body_lines(text), COMMON_LABELS)
