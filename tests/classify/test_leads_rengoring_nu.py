"""Rengøring.nu leads relayed by Leadmail: the layouts and spellings seen in the mailbox."""

from __future__ import annotations

from worker.mail.leads import PARSERS
from worker.mail.leads.fields import html_to_text
from worker.mail.message import LeadData

from .conftest import build_message, parse_raw

parse = PARSERS["rengoring_nu"]


def lead(body: str, subject: str = "Nyt lead fra Rengøring.nu") -> LeadData | None:
    message = build_message(from_="Rengøring.nu <noreply@leadmail.no>", subject=subject, body=body)
    return parse(message, "DK")


def test_colon_layout_with_separate_postcode_and_town() -> None:
    body = """Du har modtaget et nyt lead fra Rengøring.nu

Navn: Anna Jensen
E-mail: anna.jensen@gmail.com
Tlf.: 12 34 56 78
Adresse: Vestergade 12
Postnr: 8000
By: Aarhus C
Boligtype: Lejlighed
Behov: Fast rengøring hver 14. dag
Hvor stort er området?: 120 m2
Antal rum: 4
Ønsket dato: Snarest muligt
Besked: Vi har en hund og to katte.
Nøglen kan hentes hos naboen.

Med venlig hilsen
Rengøring.nu
Telefon: 70 70 70 70
"""
    assert lead(body) == LeadData(
        source="rengoring.nu",
        name="Anna Jensen",
        email="anna.jensen@gmail.com",
        phone="+4512345678",
        address="Vestergade 12, 8000 Aarhus C",
        property_type="Lejlighed",
        task_type="Fast rengøring hver 14. dag",
        size_m2=120,
        rooms=4,
        preferred_dates="Snarest muligt",
        message="Vi har en hund og to katte.\nNøglen kan hentes hos naboen.",
    )


def test_label_on_one_line_value_on_the_next() -> None:
    body = """Ny opgave

Navn
Peter Hansen

E-mailadresse
Peter.Hansen@Hansen.dk

Telefonnummer
+46 70 123 45 67

Adresse
Strandvejen 5

2900 Hellerup

Type rengøring
Flytterengøring

Størrelse
ca. 85 m²

Værelser
3-4

Hvornår
Uge 23

Yderligere information
Huset skal være klar til syn.

Der er kælder på 20 m2.

Dette lead er sendt via Leadmail
"""
    result = lead(body, subject="Ny opgave fra Rengøring.nu - Flytterengøring")
    assert result == LeadData(
        source="rengoring.nu",
        name="Peter Hansen",
        email="Peter.Hansen@Hansen.dk",  # stored as written; the database normalises
        phone="+46701234567",
        address="Strandvejen 5, 2900 Hellerup",
        task_type="Flytterengøring",
        size_m2=85,
        rooms=3,
        preferred_dates="Uge 23",
        message="Huset skal være klar til syn.\n\nDer er kælder på 20 m2.",
    )


HTML_TABLE = """<html><body><h2>Nyt lead</h2><table>
<tr><td><b>Navn:</b></td><td>Mette Sørensen</td></tr>
<tr><td><b>E-mail:</b></td><td><a href="mailto:mette@sorensen.dk">mette@sorensen.dk</a></td></tr>
<tr><td>Mobil</td><td>0045 22 33 44 55</td></tr>
<tr><td><b>Adresse:</b></td><td>Nørregade 3, 1. th<br>5000 Odense C</td></tr>
<tr><td>Boligtype</td><td>Rækkehus</td></tr>
<tr><td><b>Areal:</b></td><td>85m2</td></tr>
<tr><td><b>Kommentar:</b></td><td>Gerne en tirsdag.<br>Ring før I kommer.</td></tr>
</table><p>Rengøring.nu – Danmarks største rengøringsportal</p></body></html>"""

HTML_TABLE_LEAD = LeadData(
    source="rengoring.nu",
    name="Mette Sørensen",
    email="mette@sorensen.dk",
    phone="+4522334455",
    address="Nørregade 3, 1. th, 5000 Odense C",
    property_type="Rækkehus",
    size_m2=85,
    message="Gerne en tirsdag.\nRing før I kommer.",
)


def test_html_table_through_the_message_parser() -> None:
    """Cells without a colon ("Mobil" | "0045 …") come out as "Mobil 0045 …"."""
    message = parse_raw(
        {
            "From": "=?utf-8?q?Reng=C3=B8ring=2Enu?= <noreply@leadmail.no>",
            "To": "info@rendetalje.dk",
            "Subject": "=?utf-8?q?Nyt_lead_fra_Reng=C3=B8ring=2Enu?=",
        },
        HTML_TABLE,
    )
    assert parse(message, "DK") == HTML_TABLE_LEAD


def test_html_table_as_markdown_or_raw_html() -> None:
    assert lead(html_to_text(HTML_TABLE)) == HTML_TABLE_LEAD  # "Navn:| Mette" tables
    assert lead(HTML_TABLE) == HTML_TABLE_LEAD  # HTML handed over unconverted


def test_one_space_labels_need_evidence() -> None:
    """A sentence that starts with a label word is no field in a colon-style lead."""
    body = "Navn: Ida Bach\nTelefon: 20304050\nBesked: Hej.\nOpgave er at gøre trappen ren.\n"
    result = lead(body)
    assert result is not None
    assert result.task_type is None
    assert result.message == "Hej.\nOpgave er at gøre trappen ren."


def test_html_paragraphs_with_bold_labels() -> None:
    html = (
        "<p><strong>Navn:</strong> Lone Kristensen<br>"
        "<strong>Email:</strong> lone_k@live.dk<br>"
        "<strong>Telefon:</strong> 51 52 53 54<br>"
        "<strong>Behov:</strong> Vinduespudsning</p>"
        "<p><strong>Besked:</strong></p><p>Vi har 14 vinduer.</p>"
        "<p>Venlig hilsen<br>Rengøring.nu</p>"
    )
    result = lead(html_to_text(html))
    assert result is not None
    assert (result.name, result.email, result.phone) == (
        "Lone Kristensen",
        "lone_k@live.dk",
        "+4551525354",
    )
    assert result.task_type == "Vinduespudsning"
    assert result.message == "Vi har 14 vinduer."


def test_name_and_task_from_the_subject_when_the_body_lacks_them() -> None:
    body = "E-mail: karen@post.tele.dk\nTlf: 98 76 54 32\n"
    result = lead(body, subject="Karen Mortensen fra Rengøring.nu")
    assert result is not None
    assert result.name == "Karen Mortensen"
    result = lead(body, subject="Ny opgave fra Rengoring.nu: Erhvervsrengøring")
    assert result is not None
    assert result.name is None  # "Ny opgave" is no name
    assert result.task_type == "Erhvervsrengøring"


def test_unparseable_phone_is_kept_as_written() -> None:
    result = lead("Navn: Ole\nTelefon:  ring via   platformen \n")
    assert result is not None
    assert result.phone == "ring via platformen"


def test_invalid_email_is_dropped() -> None:
    result = lead("Navn: Ole Bak\nEmail: ole(at)bak.dk\nTelefon: 20202020\n")
    assert result is not None
    assert (result.email, result.phone) == (None, "+4520202020")


def test_no_person_no_lead() -> None:
    assert lead("Hej partner\n\nDer er nye leads i dit område. Log ind for at se dem.") is None
