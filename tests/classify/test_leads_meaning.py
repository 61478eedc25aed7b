"""Labels read by their words, values by their shape, and the name fallbacks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.mail.leads import PARSERS
from worker.mail.leads.meaning import label_meaning
from worker.mail.leads.shapes import postcode_town_by_shape, size_by_shape

from .conftest import build_message


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Kundenavn", "name"),
        ("Kontaktnavn", "name"),
        ("Navn på kunde", "name"),
        ("Your name", "name"),
        ("Fornavn", "first_name"),
        ("Last Name", "last_name"),
        ("Kundens e-mailadresse", "email"),
        ("Your Email (required)", "email"),
        ("Kontakttelefon", "phone"),
        ("Mobilnr.", "phone"),
        ("Kundens telefon", "phone"),
        ("Adresse på opgaven", "address"),
        ("Vejnavn", "address"),  # a street's name, not a person's
        ("Postnr. og by", "postcode"),
        ("Boligareal", "size_m2"),
        ("Hvor stor er boligen?", "size_m2"),
        ("Rengøringstype", "task_type"),
        ("Opgavebeskrivelse", "message"),
        ("Ønsket dato", "preferred_dates"),
        ("Dato", "ignore"),  # when the form was sent
        ("IP-adresse", "ignore"),
        ("Firmanavn", "ignore"),
    ],
)
def test_labels_by_meaning(label: str, key: str) -> None:
    meaning = label_meaning(label)
    assert meaning is not None and meaning.key == key


@pytest.mark.parametrize(
    "text", ["Søren Ødegaard", "Bygningen er gammel", "Ring gerne efter kl 16", "tider", ""]
)
def test_words_that_are_no_label(text: str) -> None:
    assert label_meaning(text) is None


def test_a_question_may_hold_unknown_words_only_after_a_colon_or_question_mark() -> None:
    assert label_meaning("Hvor mange kvm skal gøres rent?") is None
    meaning = label_meaning("Hvor mange kvm skal gøres rent?", max_unknown=3)
    assert meaning is not None and meaning.key == "size_m2"


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("8000 Aarhus C", "8000 Aarhus C"),
        ("DK-2100 København Ø", "2100 København Ø"),
        ("Huset ligger på Kongensgade 8, 6700 Esbjerg og er stort", "Kongensgade 8, 6700 Esbjerg"),
        ("Vi flytter fra en lejlighed i 2200 København N.", "2200 København N"),
        ("Mødet er i 2024 hos os", None),
        ("Ordre 4711 Aarhus", None),
    ],
)
def test_postcode_and_town_by_shape(line: str, found: str | None) -> None:
    assert postcode_town_by_shape([line]) == found


@pytest.mark.parametrize(
    ("line", "size"),
    [("ca. 120m² stort", 120), ("1.200 m2 lager", 1200), ("85 kvm.", 85), ("4 m lang", None)],
)
def test_size_by_shape(line: str, size: int | None) -> None:
    assert size_by_shape([line]) == size


def lead(body: str, **headers: object):  # type: ignore[no-untyped-def]
    message = build_message(body=body, **headers)  # type: ignore[arg-type]
    return PARSERS["leadpoint"](message, "DK")


def test_names_fall_back_to_reply_to_then_from_but_never_the_platform() -> None:
    body = "Telefon: 22 33 44 55\n"
    replied = lead(body, from_="Leadpoint <leads@leadpoint.dk>", reply_to=["Bo Berg <bo@x.dk>"])
    assert replied is not None and replied.name == "Bo Berg"
    sent = lead(body, from_="Bo Berg <formular@leadpoint.dk>")
    assert sent is not None and sent.name == "Bo Berg"
    platform = lead(
        body, from_="Leadpoint <leads@leadpoint.dk>", reply_to=["Leadpoint <x@leadpoint.dk>"]
    )
    assert platform is not None and platform.name is None


def test_nothing_is_taken_from_the_platform_footer() -> None:
    found = lead(
        "Navn: Bo Berg\n\n"
        "Leadpoint ApS · Vesterbrogade 1 · 1620 København V · CVR 32165498 · Tlf. 70 70 12 12\n"
        "Spørgsmål: support@leadpoint.dk\n",
        from_="Leadpoint <leads@leadpoint.dk>",
    )
    assert found is not None
    assert (found.name, found.email, found.phone, found.address) == ("Bo Berg", None, None, None)


def test_labelled_details_after_the_signature_are_the_platforms() -> None:
    body = (
        "Navn: Bo Berg\nBesked: Hej\n\n--\nRengøring.nu ApS\nTelefon: 70 20 40 60\n"
        "E-mail: support@rengoring.nu\nAdresse: Vesterbrogade 1, 1620 København V\n"
    )
    message = build_message(from_="noreply@leadmail.no", subject="Nyt lead", body=body)
    found = PARSERS["rengoring_nu"](message, "DK")
    assert found is not None
    assert (found.name, found.email, found.phone, found.address) == ("Bo Berg", None, None, None)


def test_a_notice_above_the_lead_does_not_end_it() -> None:
    body = "Du har modtaget et nyt lead.\n\nNavn: Bo Berg\nRing på 22 33 44 55\n"
    found = lead(body, from_="Leadpoint <leads@leadpoint.dk>")
    assert found is not None and found.phone == "+4522334455"


@pytest.mark.parametrize(
    "line",
    [
        "Remote IP: 87.61.12.34",
        "Lead ID: 48211920",
        "Ordrenr 20231187",
        "Sagsnummer 22334455",
        "CVR 32165498",
    ],
)
def test_numbers_under_labels_we_do_not_keep_are_no_phone(line: str) -> None:
    found = lead(f"Navn: Bo Berg\n{line}\n", from_="Leadpoint <leads@leadpoint.dk>")
    assert found is not None and found.phone is None


def test_a_phone_anywhere_in_the_lead_is_found() -> None:
    found = lead("Navn: Bo Berg\nRing gerne på 22 33 44 55 efter kl. 16\n")
    assert found is not None and found.phone == "+4522334455"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_parsers_never_raise(text: str) -> None:
    for parse in PARSERS.values():
        parse(build_message(body=text, from_="X <leads@leadpoint.dk>"), "DK")


def test_table_values_that_start_with_label_words_stay_whole() -> None:
    """html2text joins table cells with a space: "Hvornår Uge 42", "Besked Vi skal …"."""
    body = (
        "Navn Sofie Lund\nTelefon 34 56 78 90\nHvornår Uge 42 – gerne før fredag\n"
        "Besked Vi skal have gjort rent.\nAddress of the job Birkevej 23, 8330 Beder\n"
    )
    found = lead(body, from_="Leadpoint <leads@leadpoint.dk>")
    assert found is not None
    assert found.preferred_dates == "Uge 42 – gerne før fredag"
    assert found.message == "Vi skal have gjort rent."
    assert found.address == "Birkevej 23, 8330 Beder"


def test_what_the_second_unseen_set_found_wrong() -> None:
    assert postcode_town_by_shape(["Tøjhushaven 4", "8900 Randers C"]) == (
        "Tøjhushaven 4, 8900 Randers C"
    )
    assert postcode_town_by_shape(["Pris på en 3-værelses i 2300 København S?"]) == (
        "2300 København S"
    )
    priced = lead("E-mail: k@l.dk\nBesked: Pris på flytterengøring af 3-værelses (82 m2)?\n")
    assert priced is not None and priced.size_m2 == 82
    parts = lead("Name (First)\nOlivia\nName (Last)\nBaker\nEmail\nolivia@baker.uk\n")
    assert parts is not None and parts.name == "Olivia Baker"
