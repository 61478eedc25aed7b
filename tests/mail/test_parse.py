"""parse_message on real-world-shaped mail: the values a user of the CRM would see."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from worker.mail.message import (
    Address,
    Attachment,
    DeliveryReport,
    ParsedMessage,
    ParseLimits,
    Unparseable,
)
from worker.mail.parse import parse_message

CORPUS = Path(__file__).parent / "corpus"


def parsed(raw: bytes, limits: ParseLimits = ParseLimits()) -> ParsedMessage:
    result = parse_message(raw, limits)
    assert isinstance(result, ParsedMessage), result
    return result


def corpus(name: str) -> ParsedMessage:
    return parsed((CORPUS / name).read_bytes())


def message(headers: str, body: str = "Hej\n") -> bytes:
    """A small message; headers given one per line, body after a blank line."""
    return (headers.strip("\n") + "\n\n" + body).encode("utf-8")


# --- subjects, names and charsets ---------------------------------------------------


def test_danish_subject_and_sender_in_utf8_quoted_printable() -> None:
    mail = corpus("subject_utf8_q.eml")

    assert mail.subject == "Tilbud på rengøring"
    assert mail.from_ == Address("Soren.Ostergaard@gmail.com", "Søren Østergaard")
    assert mail.to == (Address("info@rendetalje.dk", "Rendetalje"),)
    assert mail.date == datetime(2024, 9, 3, 15, 14, 15, tzinfo=UTC)
    assert mail.message_id == "CAJx9kq3rZy+Ab0Lq=8n6fWq7Xc4t@mail.gmail.com"
    # The soft line break inside "Aarhus" is joined again.
    assert "ugentlig rengøring af mit hus i Aarhus V." in mail.body_text
    assert "142 m² med 2 badeværelser" in mail.body_text
    assert mail.body_preview.startswith("Hej Rendetalje, Jeg vil gerne have et tilbud")
    assert mail.headers["return-path"] == "<soren.ostergaard@gmail.com>"
    assert mail.content_type == "text/plain"
    assert mail.report is None
    assert mail.defects == ()


def test_danish_subject_and_sender_in_latin1_base64() -> None:
    mail = corpus("subject_latin1_b.eml")

    assert mail.subject == "Flytterengøring af lejlighed i Århus"
    assert mail.from_ == Address("soeren.aeroe@stofanet.dk", "Søren Ærø")
    assert "lejlighed på Ørstedsgade den 30. september" in mail.body_text
    assert "78 m² med altan" in mail.body_text


def test_utf8_text_labelled_latin1_is_read_as_utf8() -> None:
    mail = corpus("mislabelled_latin1_is_utf8.eml")

    assert mail.subject == "Hovedrengøring før jul"
    assert mail.from_ == Address("mette.kjaer@hotmail.com", "Mette Kjær")
    assert "rækkehus på 110 m²" in mail.body_text
    assert "Køkkenet trænger især." in mail.body_text
    assert "charset iso8859-1 mislabels utf-8 text" in mail.defects


def test_windows_1252_text_labelled_utf8_is_read_as_windows_1252() -> None:
    mail = corpus("mislabelled_utf8_is_latin1.eml")

    assert mail.subject == "Træppevask i opgangen"
    assert mail.from_ == Address("bjarne.moller@mail.tele.dk", "Bjarne Møller")
    assert "andelsforening på Nørrebro" in mail.body_text
    assert "5 etager – ring gerne på 40 12 77 90" in mail.body_text  # cp1252 en dash
    assert "text not decodable as utf-8" in mail.defects


def test_unknown_charsets_fall_back_and_are_noted() -> None:
    mail = corpus("unknown_charset.eml")

    assert mail.subject == "Tilbud på vinduespudsning"
    assert mail.from_ == Address("bente@sorensen-vvs.dk", "Bente Sørensen")
    assert mail.body_text == "Vi ønsker tilbud på vinduespudsning af værkstedet."
    assert "unknown charset x-foo-bar" in mail.defects
    assert "unknown charset x-unknown" in mail.defects


def test_raw_8bit_headers_are_decoded() -> None:
    mail = corpus("eightbit_headers.eml")

    assert mail.subject == "Rengøring af værelser i København"
    assert mail.from_ == Address("soren.k@filosofi.dk", "Søren Kierkegaard")
    # One header in UTF-8, this one in Latin-1: each is guessed on its own.
    assert mail.to[1] == Address("jorgen@leth.dk", "Jørgen Leth")
    assert mail.headers["x-note"] == "Fra højre til venstre"
    assert "8-bit header without encoding" in mail.defects


@pytest.mark.parametrize(
    ("header", "subject"),
    [
        ("Subject: =?UTF-8?Q?Tilbud_p=C3=A5_reng=C3=B8ring?=", "Tilbud på rengøring"),
        ("Subject: =?utf-8?q?Tilbud_p=C3=A5?= =?utf-8?q?_reng=C3=B8ring?=", "Tilbud på rengøring"),
        # A multi-byte character split across two encoded words.
        ("Subject: =?UTF-8?B?VGlsYnVkIHDD?=\n =?UTF-8?B?pSByZW5nw7hyaW5n?=", "Tilbud på rengøring"),
        ("Subject: SV: =?ISO-8859-1?Q?Tilbud_p=E5?= rengøring", "SV: Tilbud på rengøring"),
        ("Subject: =?windows-1252?Q?Pris_=96_hovedreng=F8ring?=", "Pris – hovedrengøring"),
        ("Subject: =?UTF-8*da?Q?K=C3=B8kken?=", "Køkken"),  # RFC 2231 language tag
        ("Subject: =?UTF-8?B?VGlsYnVkIHDDpSByZW5nw7hyaW5n?=", "Tilbud på rengøring"),
        # Unterminated: left as it is rather than guessed at.
        ("Subject: =?UTF-8?B?VGlsYnVkIHDD", "=?UTF-8?B?VGlsYnVkIHDD"),
        ("Subject: =?UTF-8?B?VGlsYnVkIHDDpSByZW5nw7hyaW5n==?=", "Tilbud på rengøring"),
        ("Subject:   Tilbud\n\tpå\n   rengøring  ", "Tilbud på rengøring"),
        ("Subject: =?bogus?Q?Tilbud_p=E5_reng=F8ring?=", "Tilbud på rengøring"),
        ("Subject: =??Q?Tilbud_p=C3=A5?=", "Tilbud på"),
        ("X-Other: no subject at all", ""),
    ],
)
def test_subject_decoding(header: str, subject: str) -> None:
    assert parsed(message("From: a@b.dk\n" + header)).subject == subject


# --- addresses ----------------------------------------------------------------------


def test_groups_and_garbage_addresses_are_sorted_out() -> None:
    mail = corpus("address_groups_and_garbage.eml")

    # Case kept as written; the second From address is not the sender.
    assert mail.from_ == Address("Jens.Hansen@Firma.DK", "Hansen, Jens (Kundeservice)")
    assert mail.to == ()  # "undisclosed-recipients:;" is an empty group
    assert mail.cc == (
        Address("anna@kunde.dk", "Anna"),
        Address("aase@boegh.dk", "Åse Bøgh"),
    )
    assert mail.reply_to == (Address("svar@firma.dk", "Svar her"),)
    assert "invalid address in Cc: 'foo@'" in mail.defects
    assert "invalid address in Cc: '\"Bar\" <bar@>'" in mail.defects
    assert "invalid address in Cc: 'John Doe'" in mail.defects


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("info@rendetalje.dk", [Address("info@rendetalje.dk")]),
        ("Rendetalje <info@rendetalje.dk>", [Address("info@rendetalje.dk", "Rendetalje")]),
        (
            '"Hansen, Jens" <jens@x.dk>, pia@x.dk',
            [Address("jens@x.dk", "Hansen, Jens"), Address("pia@x.dk")],
        ),
        ("'Jens Hansen' <jens@x.dk>", [Address("jens@x.dk", "Jens Hansen")]),
        ("jens@x.dk (Jens Hansen)", [Address("jens@x.dk", "Jens Hansen")]),
        ("jens@x.dk; pia@x.dk", [Address("jens@x.dk"), Address("pia@x.dk")]),
        ("jens . hansen @ x.dk", [Address("jens.hansen@x.dk")]),
        ('"=?utf-8?Q?S=C3=B8ren?=" <s@x.dk>', [Address("s@x.dk", "Søren")]),
        ("=?utf-8?Q?Hansen,_Jens?= <jens@x.dk>", [Address("jens@x.dk", "Hansen, Jens")]),
        ('"john doe"@x.dk', [Address('"john doe"@x.dk')]),
        ("Søren <søren@blåbær.dk>", [Address("søren@blåbær.dk", "Søren")]),
        ("<JENS@X.DK>", [Address("JENS@X.DK")]),
        ("jens@localhost, @x.dk, jens@, jens@x..dk, a b@x.dk, <>", []),
        ("", []),
        (",,,;;;:::", []),
    ],
)
def test_address_parsing(header: str, expected: list[Address]) -> None:
    assert parsed(message(f"From: a@b.dk\nTo: {header}")).to == tuple(expected)


def test_missing_from_is_none_and_noted() -> None:
    mail = corpus("missing_from.eml")

    assert mail.from_ is None
    assert "missing From" in mail.defects
    assert mail.subject == "Rengøring?"
    assert mail.body_text == "Hvad koster det at få gjort rent i et sommerhus?"


# --- threading headers and dates ----------------------------------------------------


def test_outlook_reply() -> None:
    mail = corpus("reply_outlook.eml")

    assert mail.subject == "SV: Tilbud på rengøring"
    assert mail.from_ == Address("Jens.Hansen@Firma-Hansen.dk", "Jens Hansen")
    assert mail.to == (Address("info@rendetalje.dk", "Rendetalje"),)
    assert mail.cc == (Address("pia.hansen@firma-hansen.dk", "Hansen, Pia"),)
    assert mail.message_id == "VI1PR03MB6XXXA1B2C3D4E5F6@VI1PR03MB6XXX.eurprd03.prod.outlook.com"
    assert mail.in_reply_to == "CAK7Lp9Qw3eRt5yU1iO0pA@mail.gmail.com"
    assert mail.references == (
        "CAJx9kq3rZy+Ab0Lq=8n6fWq7Xc4t@mail.gmail.com",
        "CAK7Lp9Qw3eRt5yU1iO0pA@mail.gmail.com",
    )
    assert mail.headers["thread-topic"] == "Tilbud på rengøring"
    assert "Det lyder fint – vi tager imod tilbuddet. Kan I starte mandag?" in mail.body_text
    assert "Hej Jens, hvor stort er området?" in mail.body_text


def test_gmail_reply() -> None:
    mail = corpus("reply_gmail.eml")

    assert mail.subject == "Re: Tilbud på rengøring"
    assert mail.in_reply_to == "CAK7Lp9Qw3eRt5yU1iO0pA@mail.gmail.com"
    assert mail.references == (
        "65d5b0a5.a70a0220.4f1e2.9c3d@rendetalje.dk",
        "CAJx9kq3rZy+Ab0Lq=8n6fWq7Xc4t@mail.gmail.com",
        "CAK7Lp9Qw3eRt5yU1iO0pA@mail.gmail.com",
    )
    assert mail.headers["x-gm-thrid"] == "1809876543210987654"
    assert mail.headers["x-gmail-labels"] == "Indbakke,Kunder"
    assert mail.body_text.startswith("Tak for tilbuddet! Det er ca. 95 m2, og vi vil gerne have")
    assert "> Tak for din henvendelse. Hvor stort er området, der skal gøres" in mail.body_text


def test_garbage_date_and_bracketless_ids() -> None:
    mail = corpus("garbage_date.eml")

    assert mail.date is None
    assert mail.message_id == "poul.erik.1953@jubii.dk"
    assert mail.in_reply_to == "tilbud-77@rendetalje.dk"
    assert mail.from_ == Address("pouleriksen1953@jubii.dk", "Poul Erik")
    assert mail.body_text == "hvad koster det at pudse 14 vinduer"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Tue, 3 Sep 2024 17:14:15 +0200", datetime(2024, 9, 3, 15, 14, 15, tzinfo=UTC)),
        ("3 Sep 2024 17:14:15 -0000", datetime(2024, 9, 3, 17, 14, 15, tzinfo=UTC)),
        ("Mon, 07 Oct 2024 02:11:09 -0700 (PDT)", datetime(2024, 10, 7, 9, 11, 9, tzinfo=UTC)),
        ("Tue, 3 Sep 24 17:14:15 GMT", datetime(2024, 9, 3, 17, 14, 15, tzinfo=UTC)),
        ("2024-09-03T17:14:15+02:00", datetime(2024, 9, 3, 15, 14, 15, tzinfo=UTC)),
        ("Fri, 30 Feb 2024 10:00:00 +0000", None),
        ("Mon, 1 Jan 99999 00:00:00 +0000", None),
        ("i går", None),
        ("", None),
    ],
)
def test_dates_are_aware_utc_or_none(header: str, expected: datetime | None) -> None:
    date = parsed(message(f"From: a@b.dk\nDate: {header}")).date
    assert date == expected
    assert date is None or date.tzinfo is UTC


def test_references_are_deduplicated_and_bounded() -> None:
    ids = " ".join(f"<id{n}@x.dk>" for n in range(300))
    mail = parsed(message(f"From: a@b.dk\nReferences: <id0@x.dk> {ids}"))

    assert len(mail.references) == 100
    assert mail.references[0] == "id0@x.dk"  # the thread root survives
    assert mail.references[-1] == "id299@x.dk"


# --- bodies ---------------------------------------------------------------------------


def test_html_only_web_form_becomes_readable_text() -> None:
    mail = corpus("html_only_webform.eml")

    assert mail.content_type == "text/html"
    assert mail.subject == "Ny henvendelse fra kontaktformularen på rendetalje.dk"
    assert mail.reply_to == (Address("karina.bach82@gmail.com", "Karina Bach"),)
    assert "Navn: Karina Bach" in mail.body_text
    assert "Telefon: +45 31 62 80 15" in mail.body_text
    assert "Adresse: Vestergade 12, 1. th, 8000 Aarhus C" in mail.body_text
    assert "Besked: Hej! Hvor meget koster 1. gangs rengøring af en lejlighed" in mail.body_text
    assert "Sendt fra rendetalje.dk/kontakt" in mail.body_text
    # No Markdown noise: no URLs, image alt texts, heading marks, bold marks or escapes.
    for noise in ("https://", "logo", "##", "**", "\\", "td{"):
        assert noise not in mail.body_text
    assert mail.body_preview.startswith("Ny henvendelse fra kontaktformularen Navn: Karina Bach")


def test_multipart_alternative_prefers_plain_text() -> None:
    mail = corpus("multipart_alternative.eml")

    assert mail.content_type == "multipart/alternative"
    assert "Vi søger et fast firma til rengøring af vores kontor på 240 m2" in mail.body_text
    assert "HTML-udgaven" not in mail.body_text
    assert mail.to == (Address("info@rendetalje.dk", "Rendetalje ApS"),)
    assert mail.cc == (Address("bogholderi@vinther-ejendomme.dk"),)
    assert mail.attachments == ()


def test_empty_plain_part_falls_back_to_html() -> None:
    raw = message(
        'From: a@b.dk\nContent-Type: multipart/alternative; boundary="b"',
        "--b\nContent-Type: text/plain\n\n \n--b\nContent-Type: text/html\n\n"
        "<p>Hvor stort er <b>området</b>?</p>\n--b--\n",
    )
    assert parsed(raw).body_text == "Hvor stort er området?"


def html_body(markup: str) -> str:
    raw = message("From: a@b.dk\nContent-Type: text/html; charset=utf-8", markup)
    return parsed(raw).body_text


def test_html_markup_noise_is_dropped() -> None:
    markup = (
        "<!DOCTYPE html><html><head><title>Kvittering</title><style>p{x:1}</style></head>"
        "<body><!-- skjult --><p>1 &lt; 2 &amp; <a title='a>b' href='https://x.dk'>se her</a>"
        "<br/>ny linje</p><ul><li>Vinduer</li><li>Trapper</li></ul>"
        "<script>alert('x')</script></body></html>"
    )
    assert html_body(markup) == "1 < 2 & se her\nny linje\n\n  - Vinduer\n  - Trapper"


def test_large_html_is_stripped_rather_than_converted() -> None:
    rows = "".join(f"<tr><td>Felt {n}:</td><td>værdi {n}</td></tr>" for n in range(20_000))
    text = html_body(f"<style>td{{}}</style><table>{rows}</table><p>Hvor stort er området?</p>")

    assert text.startswith("Felt 0: værdi 0\n")
    assert text.endswith("Hvor stort er området?")
    assert "td{" not in text


@pytest.mark.parametrize(
    "pattern",
    ["<a b='>' c=\"", "<style", "<!--", "<a ", "</", "<<>", "<!", "&#x1F600;&#0;&#xD800;"],
)
def test_hostile_html_is_converted_in_linear_time(pattern: str) -> None:
    started = time.monotonic()
    text = html_body(pattern * (100_000 // len(pattern)))

    assert "\x00" not in text
    assert time.monotonic() - started < 10


def test_html_labelled_as_plain_text_is_converted() -> None:
    mail = corpus("html_in_text_plain.eml")

    assert mail.body_text == "Navn: Camilla Berg\n\nBoligtype: Villa\n\nStørrelse: 160 m²"


def test_list_mail_headers_are_kept_for_classification() -> None:
    mail = corpus("list_newsletter.eml")

    assert mail.headers["list-id"] == "Byggeri og Bolig nyhedsbrev <nyhedsbrev.byggeribolig.dk>"
    assert mail.headers["list-unsubscribe"] == (
        "<mailto:unsubscribe@byggeribolig.dk?subject=unsubscribe>, "
        "<https://byggeribolig.dk/afmeld?id=abc123>"
    )
    assert mail.headers["precedence"] == "bulk"
    assert mail.headers["auto-submitted"] == "auto-generated"
    assert mail.from_ == Address("nyhedsbrev@byggeribolig.dk", "Byggeri & Bolig")
    assert mail.body_text == "Uge 37\n\nLæs om nye regler for fugt."


def test_null_bytes_are_stripped_everywhere() -> None:
    mail = corpus("null_bytes.eml")

    assert mail.subject == "Rengøring af trappeopgang"
    assert mail.from_ == Address("kim.larsen@gmail.com", "Kim Larsen")
    assert mail.message_id == "nul-bytes-0001@gmail.com"
    assert mail.body_text == "Hej med jer.\nVi har 3 opgange der skal vaskes."
    assert mail.headers["x-form-id"] == "kontaktform"
    assert "\x00" not in repr(mail)


def test_huge_header_is_capped() -> None:
    mail = corpus("huge_header.eml")

    assert len(mail.headers["x-spam-report"]) == 2000
    assert mail.headers["x-spam-report"].startswith("* 0.0 RULE_00000 Rule number 0")
    assert "header x-spam-report cut to 2000 characters" in mail.defects
    assert mail.subject == "Ugens tilbud"
    assert mail.body_text == "Se ugens tilbud på rengøringsartikler."


def test_broken_boundary_is_repaired() -> None:
    mail = corpus("broken_boundary.eml")

    assert mail.body_text == (
        "Navn: Torben Friis\nTelefon: 22 33 44 55\n"
        "Besked: Hvor hurtigt kan I starte på kontoret i Vejle?"
    )
    assert "repaired multipart boundary" in mail.defects


def test_unrepairable_multipart_body_is_read_as_text() -> None:
    raw = message(
        'From: a@b.dk\nContent-Type: multipart/mixed; boundary="nowhere"',
        "Ingen dele her, bare tekst om vinduespudsning.\n",
    )
    mail = parsed(raw)

    assert mail.body_text == "Ingen dele her, bare tekst om vinduespudsning."
    assert "start boundary not found" in mail.defects


def test_missing_close_boundary_keeps_all_parts() -> None:
    mail = corpus("missing_close_boundary.eml")

    assert mail.body_text == "Her er billederne af badeværelset, som blev lovet."
    assert mail.attachments == (Attachment("bad.jpg", "image/jpeg", 51),)
    assert "close boundary not found" in mail.defects


def test_message_without_headers_keeps_its_text() -> None:
    mail = corpus("no_headers.eml")

    assert mail.headers == {}
    assert mail.from_ is None
    assert mail.subject == ""
    assert "Ring til mig på 20 30 40 50." in mail.body_text


def test_preview_is_collapsed_and_bounded() -> None:
    body = "Hej   med\n\n\tjer. " + "Vi skal have gjort rent. " * 40
    mail = parsed(message("From: a@b.dk", body), ParseLimits(preview_chars=30))

    assert mail.body_preview == "Hej med jer. Vi skal have gjor"
    assert parsed(message("From: a@b.dk", body), ParseLimits(preview_chars=0)).body_preview == ""


# --- attachments --------------------------------------------------------------------


def test_attachments_with_encoded_filenames() -> None:
    mail = corpus("attachments_rfc2231.eml")

    assert mail.body_text == "Her er billeder af køkkenet og plantegningen."
    assert mail.attachments == (
        Attachment("Plantegning østfløj.pdf", "application/pdf", 66),
        Attachment("Billede af køkken.jpg", "image/jpeg", 51),
        Attachment(
            "Tilbud på rengøring.docx",  # RFC 2231 continuations in ISO-8859-1
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            14,
        ),
    )


def test_forwarded_message_is_an_attachment_not_body() -> None:
    mail = corpus("forwarded_message.eml")

    assert mail.body_text == "Se vedhæftede mail fra kunden."
    assert len(mail.attachments) == 1
    forwarded = mail.attachments[0]
    assert (forwarded.filename, forwarded.content_type) == ("Faktura 1042.eml", "message/rfc822")
    assert forwarded.size > 100
    assert mail.report is None


# --- delivery reports -----------------------------------------------------------------


def test_gmail_bounce_names_the_original_and_the_recipient() -> None:
    mail = corpus("dsn_gmail_bounce.eml")

    assert mail.content_type == "multipart/report"
    assert mail.from_ == Address("mailer-daemon@googlemail.com", "Mail Delivery Subsystem")
    assert mail.report == DeliveryReport(
        original_message_id="CAK7Lp9Qw3eRt5yU1iO0pA@mail.gmail.com",
        failed_recipients=("jens.hansen@hotmial.com",),
        action="failed",
        status="5.1.2",
    )
    # The body is the notice, not the bounced original.
    assert "Your message wasn't delivered to jens.hansen@hotmial.com" in mail.body_text
    assert "Hvor stort er området" not in mail.body_text
    assert [a.content_type for a in mail.attachments] == ["image/png", "message/rfc822"]


def test_postfix_bounce_with_headers_only_and_a_delayed_recipient() -> None:
    mail = corpus("dsn_postfix_headers_only.eml")

    assert mail.report == DeliveryReport(
        original_message_id="a1b2c3d4e5f6@rendetalje.dk",  # folded Message-ID header
        failed_recipients=("Birgitte@Familien-Holm.dk",),  # the delayed one has not failed
        action="failed",
        status="5.2.2",
    )
    assert mail.from_ == Address("MAILER-DAEMON@mx1.simply.com", "Mail Delivery System")
    assert mail.attachments == (Attachment(None, "text/rfc822-headers", 263),)


def test_plain_text_qmail_bounce_is_recognised() -> None:
    mail = corpus("bounce_qmail_plain.eml")

    assert mail.report == DeliveryReport(
        original_message_id="65d5b0a5.a70a0220.4f1e2.9c3d@rendetalje.dk",
        failed_recipients=("ole.dahl@webhotel.dk",),
        action="failed",
        status="5.1.1",
    )


def test_original_message_id_field_in_the_status_part() -> None:
    raw = message(
        "From: postmaster@mail.dk\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        "--r\nContent-Type: text/plain\n\nKunne ikke leveres.\n"
        "--r\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mail.dk\nOriginal-Message-ID: <tilbud-9@rendetalje.dk>\n\n"
        "Final-Recipient: rfc822;<kunde@mail.dk>\nAction: Failed\nStatus: 5.0.0 (permanent)\n"
        "--r--\n",
    )
    assert parsed(raw).report == DeliveryReport(
        "tilbud-9@rendetalje.dk", ("kunde@mail.dk",), "failed", "5.0.0"
    )


def test_delivery_status_part_outside_a_report_is_found() -> None:
    raw = message(
        'From: Mail System <mailer-daemon@mx.dk>\nContent-Type: multipart/mixed; boundary="m"',
        "--m\nContent-Type: text/plain\n\nDelay.\n"
        "--m\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.dk\n\nFinal-Recipient: rfc822; sen@mx.dk\nAction: delayed\n"
        "Status: 4.4.7\n--m--\n",
    )
    assert parsed(raw).report == DeliveryReport(None, (), "delayed", "4.4.7")


def test_ordinary_mail_from_postmaster_is_no_bounce() -> None:
    raw = message("From: postmaster@rendetalje.dk\nSubject: Ny adgangskode til webmail")
    assert parsed(raw).report is None


# --- limits and nothing-to-parse ------------------------------------------------------


def nested_multiparts(depth: int) -> bytes:
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{n}"\n\n--b{n}\n' for n in range(depth)
    )
    closing = "".join(f"--b{n}--\n" for n in reversed(range(depth)))
    body = "Content-Type: text/plain\n\nHvor stort er området?\n"
    return ("From: a@b.dk\n" + opening + body + closing).encode()


def test_nesting_up_to_the_limit_is_parsed() -> None:
    assert parsed(nested_multiparts(20)).body_text == "Hvor stort er området?"


def test_nesting_over_the_limit_is_unparseable() -> None:
    assert parse_message(nested_multiparts(21)) == Unparseable("too deep: MIME nesting over 20")


def test_pathological_nesting_neither_recurses_out_nor_hangs() -> None:
    started = time.monotonic()
    result = parse_message(nested_multiparts(10_000))

    assert result == Unparseable("too deep: MIME nesting over 20")
    assert time.monotonic() - started < 10


def test_nested_attached_messages_count_as_depth() -> None:
    raw = b"From: a@b.dk\nSubject: inderst\n\nHej\n"
    for _ in range(4):
        raw = b"From: a@b.dk\nContent-Type: message/rfc822\n\n" + raw
    assert parse_message(raw, ParseLimits(max_depth=3)) == Unparseable(
        "too deep: MIME nesting over 3"
    )
    assert isinstance(parse_message(raw, ParseLimits(max_depth=4)), ParsedMessage)


def many_parts(count: int) -> bytes:
    parts = "".join(f"--p\nContent-Type: text/plain\n\ndel {n}\n" for n in range(count))
    return message('From: a@b.dk\nContent-Type: multipart/mixed; boundary="p"', parts + "--p--\n")


def test_part_count_limit() -> None:
    # The multipart container itself is a part too.
    assert isinstance(parse_message(many_parts(499)), ParsedMessage)
    assert parse_message(many_parts(500)) == Unparseable("too many parts: over 500")


def test_part_count_limit_stops_the_parse_early() -> None:
    started = time.monotonic()
    assert parse_message(many_parts(100_000)) == Unparseable("too many parts: over 500")
    assert time.monotonic() - started < 10


def test_delivery_status_fields_are_not_counted_as_parts() -> None:
    recipients = "".join(
        f"\nFinal-Recipient: rfc822; kunde{n}@mail.dk\nAction: failed\n" for n in range(600)
    )
    raw = message(
        'From: mailer-daemon@mail.dk\nContent-Type: multipart/report; boundary="r"',
        "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.dk\n"
        + recipients
        + "--r--\n",
    )
    report = parsed(raw).report

    assert report is not None
    assert len(report.failed_recipients) == 600


def test_size_limit() -> None:
    raw = b"From: a@b.dk\n\n" + b"x" * (25 * 1024 * 1024)
    assert parse_message(raw) == Unparseable(f"too large: {len(raw)} bytes > 26214400")
    assert parse_message(b"x" * 101, ParseLimits(max_bytes=100)) == Unparseable(
        "too large: 101 bytes > 100"
    )


@pytest.mark.parametrize(
    "raw",
    [
        # The stdlib parameter parser is quadratic in ";" inside an open quote.
        b'From: a@b.dk\nContent-Type: multipart/mixed; boundary="x' + b";" * 300_000 + b"\n\nx",
        b'From: a@b.dk\nContent-Disposition: attachment; filename="' + b";" * 300_000 + b"\n\nx",
        b"From: a@b.dk\nTo: " + b"Jens <jens@x.dk>, " * 500_000 + b"\n\nx",
        b"From: a@b.dk\nSubject: " + b"=?utf-8?Q?p=C3=A5?= " * 500_000 + b"\n\nx",
        b"From: mailer-daemon@x.dk\nSubject: failure notice\n\n<" + b"@" * 500_000 + b"\n",
    ],
    ids=["content-type", "content-disposition", "to", "subject", "bounce-line"],
)
def test_hostile_headers_are_parsed_quickly(raw: bytes) -> None:
    started = time.monotonic()
    assert isinstance(parse_message(raw), ParsedMessage)
    assert time.monotonic() - started < 10


def test_rfc2231_charset_on_8bit_text_does_not_break_parsing() -> None:
    # The stdlib's own payload access raises TypeError on this combination.
    raw = "From: a@b.dk\nContent-Type: text/plain; charset*=utf-8''utf-8\n\nRengøring\n"
    assert parsed(raw.encode()).body_text == "Rengøring"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"\r\n\r\n \t\x00", "empty message"),
        (b"\n\n\n\nx".replace(b"x", b"\x00"), "empty message"),
        (b":\n\n", "no headers and no body"),
    ],
)
def test_nothing_usable_is_unparseable(raw: bytes, reason: str) -> None:
    assert parse_message(raw) == Unparseable(reason)


def test_headers_without_body_are_a_message() -> None:
    mail = parsed(b"From: Jens <jens@x.dk>\nSubject: Tom mail\n")

    assert mail.subject == "Tom mail"
    assert mail.body_text == ""
    assert mail.body_preview == ""


def test_bytes_like_and_wrong_types() -> None:
    from_bytearray = parse_message(bytearray(b"From: a@b.dk\n\nHej\n"))  # type: ignore[arg-type]
    assert isinstance(from_bytearray, ParsedMessage)
    assert from_bytearray.body_text == "Hej"
    assert parse_message("From: a@b.dk\n\nHej\n") == Unparseable("not bytes: str")  # type: ignore[arg-type]
