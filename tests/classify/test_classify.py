"""classify(): every rule, in order, with realistic Danish mail."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from worker.mail.classify import classify
from worker.mail.leads import PARSERS
from worker.mail.message import (
    Address,
    Classification,
    DeliveryReport,
    Kind,
    LeadData,
    ParsedMessage,
)
from worker.mail.rules import IngestRules

from .conftest import build_message, parse_raw

Factory = Callable[..., ParsedMessage]

RENGORING_NU_BODY = """Du har modtaget et nyt lead fra Rengøring.nu

Navn: Anna Jensen
E-mail: anna.jensen@gmail.com
Telefon: 12 34 56 78
Adresse: Vestergade 12, 8000 Aarhus C
Behov: Fast rengøring
Hvor stort er området?: 120 m2

Med venlig hilsen
Rengøring.nu
"""

LEADPOINT_NO_EMAIL_BODY = """Ny forespørgsel fra Leadpoint

Navn: Bo Nielsen
Telefon: 40 50 60 70
Postnummer: 8200
By: Aarhus N
Opgavebeskrivelse: Vinduespudsning af rækkehus.
"""


def inbound(customer: str, name: str = "") -> Classification:
    return Classification(Kind.INBOUND, customer=Address(customer, name))


# --- 1. labels ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "reason"),
    [
        ("SPAM", "label:spam"),
        ("TRASH", "label:trash"),
        ("DRAFT", "label:draft"),
        ("CHAT", "label:chat"),
        ("spam", "label:spam"),
    ],
)
def test_skip_labels(make_message: Factory, rules: IngestRules, label: str, reason: str) -> None:
    result = classify(make_message(), {"INBOX", label}, rules)
    assert result == Classification(Kind.SKIP, skip_reason=reason)


def test_spam_label_wins_over_a_lead(make_message: Factory, rules: IngestRules) -> None:
    message = make_message(
        from_="noreply@leadmail.no", subject="Nyt lead fra Rengøring.nu", body=RENGORING_NU_BODY
    )
    assert classify(message, ["SPAM"], rules).skip_reason == "label:spam"


def test_other_labels_do_not_skip(make_message: Factory, rules: IngestRules) -> None:
    result = classify(make_message(), ["INBOX", "UNREAD", "CATEGORY_PERSONAL", "Label_12"], rules)
    assert result == inbound("anna.jensen@gmail.com", "Anna Jensen")


# --- 2. bounces --------------------------------------------------------------


def _report(original: str | None) -> DeliveryReport:
    return DeliveryReport(
        original_message_id=original,
        failed_recipients=("anna@gmial.com",),
        action="failed",
        status="5.1.1",
    )


def test_bounce_uses_the_reports_original_message_id(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(
        from_="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        subject="Delivery Status Notification (Failure)",
        content_type="multipart/report",
        report=_report("<CAF=orig123@mail.gmail.com>"),
        in_reply_to="other@mail.gmail.com",
    )
    result = classify(message, ["INBOX"], rules)
    assert result == Classification(
        Kind.BOUNCE, bounced_message_ids=("CAF=orig123@mail.gmail.com",)
    )
    assert result.customer is None


def test_bounce_without_original_id_falls_back_to_in_reply_to(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(
        from_="postmaster@outlook.com",
        content_type="multipart/report",
        report=_report(None),
        in_reply_to="sent-quote-7@rendetalje.dk",
        references=["first@rendetalje.dk", "sent-quote-7@rendetalje.dk"],
    )
    assert classify(message, [], rules).bounced_message_ids == ("sent-quote-7@rendetalje.dk",)


def test_unparsed_multipart_report_is_a_bounce_using_references(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(
        from_="MAILER-DAEMON@mx.example.net",
        subject="Undelivered Mail Returned to Sender",
        content_type="multipart/report",
        headers={"content-type": 'multipart/report; report-type="delivery-status"'},
        references=["a@rendetalje.dk", "b@rendetalje.dk"],
    )
    result = classify(message, [], rules)
    assert result.kind is Kind.BOUNCE
    assert result.bounced_message_ids == ("b@rendetalje.dk",)


def test_plain_text_bounce_from_mailer_daemon(make_message: Factory, rules: IngestRules) -> None:
    message = make_message(
        from_="Mail Delivery System <MAILER-DAEMON@smtp.one.com>",
        subject="Mail delivery failed: returning message to sender",
        in_reply_to="<tilbud-42@rendetalje.dk>",
    )
    result = classify(message, [], rules)
    assert result == Classification(Kind.BOUNCE, bounced_message_ids=("tilbud-42@rendetalje.dk",))


def test_bounce_with_no_reference_at_all(make_message: Factory, rules: IngestRules) -> None:
    message = make_message(from_="mailer-daemon@x.dk", report=_report(None))
    assert classify(message, [], rules) == Classification(Kind.BOUNCE)


def test_read_receipt_is_no_bounce(make_message: Factory, rules: IngestRules) -> None:
    message = make_message(
        subject="Læst: Tilbud på rengøring",
        content_type="multipart/report",
        headers={"content-type": "multipart/report; report-type=disposition-notification"},
    )
    assert classify(message, [], rules) == inbound("anna.jensen@gmail.com", "Anna Jensen")


# --- 3. sender ---------------------------------------------------------------


@pytest.mark.parametrize("sender", [None, "undisclosed-recipients:;", "anna at gmail dot com", ""])
def test_missing_or_invalid_sender(
    make_message: Factory, rules: IngestRules, sender: str | None
) -> None:
    result = classify(make_message(from_=sender), ["INBOX"], rules)
    assert result == Classification(Kind.SKIP, skip_reason="invalid:no-sender")


# --- 4. leads (details of each parser are in test_leads_*.py) -----------------


def test_rengoring_nu_lead_customer_is_the_person_not_the_platform(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(
        from_="Rengøring.nu <noreply@leadmail.no>",
        reply_to=["noreply@leadmail.no"],
        subject="Nyt lead fra Rengøring.nu",
        body=RENGORING_NU_BODY,
    )
    result = classify(message, ["INBOX"], rules)
    assert result.kind is Kind.INBOUND
    assert result.customer == Address("anna.jensen@gmail.com", "Anna Jensen")
    assert result.lead is not None
    assert result.lead.source == "rengoring.nu"
    assert result.lead.phone == "+4512345678"
    assert result.lead.size_m2 == 120


def test_lead_platform_with_list_unsubscribe_is_still_a_lead(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(
        from_="leads@leadmail.no",
        subject="Anna Jensen fra Rengøring.nu",
        body=RENGORING_NU_BODY,
        headers={
            "list-unsubscribe": "<https://leadmail.no/unsubscribe?u=123>",
            "precedence": "bulk",
            "auto-submitted": "auto-generated",
        },
    )
    result = classify(message, ["INBOX"], rules)
    assert result.kind is Kind.INBOUND
    assert result.customer == Address("anna.jensen@gmail.com", "Anna Jensen")


def test_lead_without_email_uses_reply_to(make_message: Factory, rules: IngestRules) -> None:
    message = make_message(
        from_="Leadpoint <leads@leadpoint.dk>",
        reply_to=["Bo Nielsen <bo.nielsen@hotmail.com>"],
        subject="Nyt lead: Vinduespudsning Aarhus",
        body=LEADPOINT_NO_EMAIL_BODY,
    )
    result = classify(message, ["INBOX"], rules)
    assert result.kind is Kind.INBOUND
    assert result.customer == Address("bo.nielsen@hotmail.com", "Bo Nielsen")
    assert result.lead is not None
    assert result.lead.source == "leadpoint"
    assert result.lead.email is None  # the body had none; the customer carries Reply-To
    assert result.lead.phone == "+4540506070"
    assert result.lead.address == "8200 Aarhus N"


@pytest.mark.parametrize(
    "reply_to",
    [[], ["support@leadpoint.dk"], ["no-reply@mailer.example"], ["info@rendetalje.dk"]],
)
def test_lead_without_any_person_address_is_unlinked_with_its_data(
    make_message: Factory, rules: IngestRules, reply_to: list[str]
) -> None:
    """Ingestion keeps such a lead without a customer; the reason says why."""
    message = make_message(
        from_="leads@leadpoint.dk",
        reply_to=reply_to,
        subject="Rengøring Aarhus",
        body=LEADPOINT_NO_EMAIL_BODY,
    )
    result = classify(message, ["INBOX"], rules)
    assert result.kind is Kind.SKIP
    assert result.skip_reason == "lead:unlinked:leadpoint"
    assert result.customer is None
    assert result.lead is not None
    assert (result.lead.name, result.lead.phone) == ("Bo Nielsen", "+4540506070")


def test_lead_mail_without_a_person_is_unparseable(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(
        from_="nyhedsbrev@leadpoint.dk",
        subject="Leadpoint: Nye funktioner i din konto",
        body="Kære partner\n\nVi har lanceret en ny app. Læs mere på vores side.",
    )
    result = classify(message, [], rules)
    assert result == Classification(Kind.SKIP, skip_reason="lead:unparseable:leadpoint")


def test_lead_whose_email_is_our_own_falls_back_to_reply_to(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(
        from_="leads@leadpoint.dk",
        reply_to=["Bo Nielsen <bo@nielsen.dk>"],
        subject="Rengøring Aarhus",
        body="Navn: Bo Nielsen\nE-mail: info@rendetalje.dk\nTelefon: 40506070\n",
    )
    result = classify(message, [], rules)
    assert result.customer == Address("bo@nielsen.dk", "Bo Nielsen")


def test_rengoring_nu_subject_must_match(make_message: Factory, rules: IngestRules) -> None:
    """Leadmail sends other mail too (invoices, news): without the platform in the subject it is
    ordinary mail, here noise because of the no-reply sender."""
    message = make_message(
        from_="noreply@leadmail.no", subject="Din faktura for maj", body="Navn: Rendetalje ApS"
    )
    assert classify(message, [], rules).skip_reason == "noise:no-reply"


def test_website_form_from_wordpress(make_message: Factory, rules: IngestRules) -> None:
    message = make_message(
        from_="WordPress <wordpress@rendetalje.dk>",
        to=["info@rendetalje.dk"],
        subject='Rendetalje "Tilbud på flytterengøring"',
        body="Navn: Sofie Holm\nEmail: sofie.holm@yahoo.dk\nTelefon: 28 29 30 31\n"
        "Besked: Vi flytter 1. juli fra en 3-værelses.\n",
    )
    result = classify(message, ["INBOX"], rules)
    assert result.kind is Kind.INBOUND
    assert result.customer == Address("sofie.holm@yahoo.dk", "Sofie Holm")
    assert result.lead is not None
    assert result.lead.source == "website"
    assert result.lead.message == "Vi flytter 1. juli fra en 3-værelses."


def test_website_form_sent_as_the_mailbox_to_itself_is_a_lead_not_internal(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(
        from_="Rendetalje <info@rendetalje.dk>",
        to=["info@rendetalje.dk"],
        reply_to=["Jonas Berg <jonas.berg@gmail.com>"],
        subject="Ny henvendelse fra kontaktformular",
        body="Navn: Jonas Berg\nTelefon: +45 31 32 33 34\nBesked: Pris på vinduespudsning?\n",
    )
    result = classify(message, ["INBOX", "SENT"], rules)
    assert result.kind is Kind.INBOUND
    assert result.customer == Address("jonas.berg@gmail.com", "Jonas Berg")
    assert result.lead is not None
    assert result.lead.phone == "+4531323334"


def test_reply_to_a_form_post_stays_outbound(make_message: Factory, rules: IngestRules) -> None:
    message = make_message(
        from_="info@rendetalje.dk",
        to=["Jonas Berg <jonas.berg@gmail.com>"],
        subject="Re: Ny henvendelse fra kontaktformular",
        body="Hej Jonas\n\nTak for din henvendelse.\n\n> Navn: Jonas Berg\n> Telefon: 31323334",
    )
    result = classify(message, ["SENT"], rules)
    assert result == Classification(
        Kind.OUTBOUND, customer=Address("jonas.berg@gmail.com", "Jonas Berg")
    )


def test_a_failing_parser_is_accounted_for(
    make_message: Factory, rules: IngestRules, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(message: ParsedMessage, region: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(PARSERS, "leadpoint", broken)
    message = make_message(from_="leads@leadpoint.dk", body=LEADPOINT_NO_EMAIL_BODY)
    assert classify(message, [], rules).skip_reason == "lead:unparseable:leadpoint"


# --- 5. outbound -------------------------------------------------------------


def test_outbound_customer_is_first_recipient_not_ours(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(
        from_="Rendetalje <info@rendetalje.dk>",
        to=[
            "kontakt@rendetalje.dk",
            "noreply@booking.example",
            "Anna Jensen <Anna.Jensen@Gmail.com>",
        ],
        cc=["Peter <peter@hansen.dk>"],
        subject="Tilbud på rengøring",
    )
    result = classify(message, ["SENT"], rules)
    assert result == Classification(
        Kind.OUTBOUND, customer=Address("Anna.Jensen@Gmail.com", "Anna Jensen")
    )


def test_outbound_customer_can_be_in_cc(make_message: Factory, rules: IngestRules) -> None:
    message = make_message(
        from_="info@rendetalje.dk",
        to=["lars@rendetalje.dk"],
        cc=["Peter Hansen <peter@hansen.dk>"],
    )
    result = classify(message, ["SENT"], rules)
    assert result.customer == Address("peter@hansen.dk", "Peter Hansen")


@pytest.mark.parametrize(
    "sender",
    ["INFO@Rendetalje.DK", "Info@rendetalje.dk", "kontakt@RENDETALJE.dk", "lars@rendetalje.dk"],
)
def test_own_addresses_compare_case_insensitively(
    make_message: Factory, rules: IngestRules, sender: str
) -> None:
    message = make_message(from_=sender, to=["anna@example.com"])
    assert classify(message, ["SENT"], rules) == Classification(
        Kind.OUTBOUND, customer=Address("anna@example.com")
    )


def test_own_subdomain_counts_as_own(make_message: Factory, rules: IngestRules) -> None:
    message = make_message(from_="system@mail.rendetalje.dk", to=["anna@example.com"])
    assert classify(message, [], rules).kind is Kind.OUTBOUND


def test_mail_to_self_is_internal_whatever_the_labels(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(from_="info@rendetalje.dk", to=["INFO@rendetalje.dk"], subject="Husk")
    for labels in (["SENT", "INBOX"], ["INBOX"], ["SENT"]):
        assert classify(message, labels, rules) == Classification(Kind.SKIP, skip_reason="internal")


def test_internal_mail_between_colleagues(make_message: Factory, rules: IngestRules) -> None:
    message = make_message(
        from_="lars@rendetalje.dk", to=["info@rendetalje.dk"], cc=["mette@rendetalje.dk"]
    )
    assert classify(message, ["INBOX"], rules).skip_reason == "internal"


def test_outbound_to_blocklisted_only_is_internal(make_message: Factory) -> None:
    rules = IngestRules.for_mailbox(
        "info@rendetalje.dk", own_domains=["rendetalje.dk"], blocklist=["revisor.dk"]
    )
    message = make_message(from_="info@rendetalje.dk", to=["bogholder@revisor.dk"])
    assert classify(message, ["SENT"], rules).skip_reason == "internal"


def test_inbound_labels_do_not_make_own_mail_inbound(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(from_="info@rendetalje.dk", to=["anna@example.com"])
    assert classify(message, ["INBOX"], rules).kind is Kind.OUTBOUND


# --- 6. noise ----------------------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        "noreply@mitid.dk",
        "No-Reply@e-boks.dk",
        "no-reply-notifications@facebookmail.com",
        "donotreply@skat.dk",
        "bounces+12345-abcd=rendetalje.dk@sendgrid.net",
        "calendar-notification@google.com",
        "postmaster@example.com",
    ],
)
def test_noise_senders(make_message: Factory, rules: IngestRules, sender: str) -> None:
    result = classify(make_message(from_=sender), ["INBOX"], rules)
    assert result == Classification(Kind.SKIP, skip_reason="noise:no-reply")


@pytest.mark.parametrize(
    "sender", ["noreplyanna@gmail.com", "anna.noreplyer@gmail.com", "reply@x.dk"]
)
def test_noise_words_must_stand_alone(
    make_message: Factory, rules: IngestRules, sender: str
) -> None:
    assert classify(make_message(from_=sender), [], rules).kind is Kind.INBOUND


def test_blocklist_by_domain_address_and_subdomain(make_message: Factory) -> None:
    rules = IngestRules.for_mailbox(
        "info@rendetalje.dk",
        own_domains=["rendetalje.dk"],
        blocklist=["spam.example", "Konkurrent@Firma.DK", "@annoncer.dk"],
    )
    for sender in (
        "sales@spam.example",
        "x@mail.spam.example",
        "konkurrent@firma.dk",
        "a@annoncer.dk",
    ):
        assert classify(make_message(from_=sender), [], rules).skip_reason == "blocklist", sender
    assert classify(make_message(from_="kunde@firma.dk"), [], rules).kind is Kind.INBOUND
    assert classify(make_message(from_="a@notspam.example"), [], rules).kind is Kind.INBOUND


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"list-unsubscribe": "<mailto:unsub@nyhedsbrev.ikea.dk>"}, "bulk:list-unsubscribe"),
        ({"list-id": "Grundejerforeningen <gf.lists.example>"}, "bulk:list-id"),
        ({"precedence": "bulk"}, "bulk:precedence"),
        ({"precedence": "List"}, "bulk:precedence"),
        ({"precedence": "junk"}, "bulk:precedence"),
        ({"auto-submitted": "auto-replied"}, "bulk:auto-submitted"),
        ({"auto-submitted": "auto-generated; owner-email=x@y.dk"}, "bulk:auto-submitted"),
    ],
)
def test_bulk_headers(
    make_message: Factory, rules: IngestRules, headers: dict[str, str], reason: str
) -> None:
    message = make_message(from_="IKEA <nyheder@ikea.dk>", subject="Forårsudsalg", headers=headers)
    assert classify(message, ["INBOX"], rules) == Classification(Kind.SKIP, skip_reason=reason)


def test_harmless_header_values_are_not_bulk(make_message: Factory, rules: IngestRules) -> None:
    message = make_message(headers={"auto-submitted": "no", "precedence": "first-class"})
    assert classify(message, [], rules).kind is Kind.INBOUND


def test_blocklist_is_checked_before_noise_words(make_message: Factory) -> None:
    rules = IngestRules.for_mailbox("info@rendetalje.dk", blocklist=["ads.example"])
    message = make_message(from_="noreply@ads.example", headers={"list-id": "x"})
    assert classify(message, [], rules).skip_reason == "blocklist"


# --- 7. inbound --------------------------------------------------------------


def test_ordinary_customer_mail_keeps_the_spelling(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(
        from_="Mette Sørensen <Mette.Sorensen@Outlook.dk>", to=["INFO@rendetalje.dk"]
    )
    result = classify(message, ["INBOX", "UNREAD"], rules)
    assert result == inbound("Mette.Sorensen@Outlook.dk", "Mette Sørensen")


def test_customer_reply_with_reply_to_is_filed_under_from(
    make_message: Factory, rules: IngestRules
) -> None:
    message = make_message(reply_to=["anna.privat@gmail.com"], subject="Re: Tilbud")
    assert classify(message, [], rules).customer == Address("anna.jensen@gmail.com", "Anna Jensen")


def test_without_own_addresses_nothing_is_outbound(make_message: Factory) -> None:
    message = make_message(from_="info@rendetalje.dk", to=["anna@example.com"])
    assert classify(message, [], IngestRules()).kind is Kind.INBOUND


# --- never raises ------------------------------------------------------------

_text = st.text(max_size=200)
_addresses = st.one_of(st.emails(), _text)


@settings(max_examples=200, deadline=None)
@given(
    sender=st.one_of(st.none(), _addresses),
    to=st.lists(_addresses, max_size=3),
    reply_to=st.lists(_addresses, max_size=2),
    subject=_text,
    body=st.text(max_size=2000),
    labels=st.lists(st.sampled_from(["INBOX", "SENT", "SPAM", "x"]), max_size=3),
)
def test_classify_never_raises(
    sender: str | None,
    to: list[str],
    reply_to: list[str],
    subject: str,
    body: str,
    labels: list[str],
) -> None:
    rules = IngestRules.for_mailbox("info@rendetalje.dk", own_domains=["rendetalje.dk"])
    for from_ in (sender, "noreply@leadmail.no", "leads@leadpoint.dk", "wordpress@rendetalje.dk"):
        message = build_message(
            from_=from_,
            to=to,
            reply_to=reply_to,
            subject=subject + " fra Rengøring.nu",
            body=body,
        )
        result = classify(message, labels, rules)
        assert isinstance(result, Classification)
        # The safety net in classify() must not be what kept it from raising.
        assert not (result.skip_reason or "").startswith("error:"), result
        if result.kind in (Kind.INBOUND, Kind.OUTBOUND):
            assert result.customer is not None


# --- through the real message parser -------------------------------------------


def test_raw_leadpoint_mail_with_reply_to_and_list_unsubscribe(rules: IngestRules) -> None:
    html = """<html><body><p>Ny forespørgsel via Leadpoint</p><table>
<tr><th>Navn</th><td>Bo Nielsen</td></tr>
<tr><th>Telefon</th><td>40 50 60 70</td></tr>
<tr><th>Postnummer</th><td>8200</td></tr>
<tr><th>By</th><td>Aarhus N</td></tr>
<tr><th>Størrelse</th><td>ca. 95 m&sup2;</td></tr>
<tr><th>Opgavebeskrivelse</th><td>Ugentlig rengøring af kontor.</td></tr>
</table><p>Leadpoint ApS</p></body></html>"""
    message = parse_raw(
        {
            "From": "Leadpoint <noreply@leadpoint.dk>",
            "To": "Rendetalje <info@rendetalje.dk>",
            "Reply-To": "Bo Nielsen <Bo.Nielsen@hotmail.com>",
            "Subject": "=?utf-8?q?Ny_foresp=C3=B8rgsel_-_Reng=C3=B8ring_Aarhus?=",
            "List-Unsubscribe": "<https://leadpoint.dk/afmeld>",
        },
        html,
    )
    result = classify(message, ["INBOX", "CATEGORY_UPDATES"], rules)
    assert result.kind is Kind.INBOUND
    assert result.customer == Address("Bo.Nielsen@hotmail.com", "Bo Nielsen")
    assert result.lead == LeadData(
        source="leadpoint",
        name="Bo Nielsen",
        phone="+4540506070",
        address="8200 Aarhus N",
        task_type="Rengøring Aarhus",
        size_m2=95,
        message="Ugentlig rengøring af kontor.",
    )


def test_raw_newsletter_is_skipped(rules: IngestRules) -> None:
    message = parse_raw(
        {
            "From": "Bauhaus <nyheder@bauhaus.dk>",
            "To": "info@rendetalje.dk",
            "Subject": "Weekendtilbud",
            "List-Unsubscribe": "<mailto:unsubscribe@bauhaus.dk>, <https://bauhaus.dk/u>",
        },
        "<html><body><p>Spar 30 % på rengøringsartikler</p></body></html>",
    )
    assert classify(message, ["INBOX", "CATEGORY_PROMOTIONS"], rules) == Classification(
        Kind.SKIP, skip_reason="bulk:list-unsubscribe"
    )


def test_raw_outbound_reply(rules: IngestRules) -> None:
    message = parse_raw(
        {
            "From": "Rendetalje <Info@Rendetalje.dk>",
            "To": "=?utf-8?q?Mette_S=C3=B8rensen?= <mette@sorensen.dk>",
            "Cc": "info@rendetalje.dk",
            "Subject": "Re: Tilbud",
        },
        "Hej Mette\n\nVi kan komme tirsdag kl. 9.\n\nMvh\nRendetalje",
        content_type="text/plain",
    )
    assert classify(message, ["SENT", "INBOX"], rules) == Classification(
        Kind.OUTBOUND, customer=Address("mette@sorensen.dk", "Mette Sørensen")
    )


# --- configuration -------------------------------------------------------------


def test_empty_config_has_every_lead_source() -> None:
    rules = IngestRules.model_validate({})
    assert [(rule.name, rule.parser) for rule in rules.lead_sources] == [
        ("rengoring.nu", "rengoring_nu"),
        ("leadpoint", "leadpoint"),
        ("website", "website_form"),
        ("website", "website_form"),
    ]
    assert rules.skip_labels == ["SPAM", "TRASH", "DRAFT", "CHAT"]
    assert rules.phone_region == "DK"
    assert rules.own_addresses == [] and rules.own_domains == []


def test_entries_are_normalised() -> None:
    rules = IngestRules.model_validate(
        {
            "own_addresses": [" Info@Rendetalje.DK "],
            "own_domains": ["@Rendetalje.DK"],
            "blocklist": ["@Spam.Example", "X@Y.dk"],
            "noise_local_parts": ["No-Reply"],
            "skip_labels": ["spam"],
            "phone_region": "se",
        }
    )
    assert rules.own_addresses == ["info@rendetalje.dk"]
    assert rules.own_domains == ["rendetalje.dk"]
    assert rules.blocklist == ["spam.example", "x@y.dk"]
    assert rules.noise_local_parts == ["no-reply"]
    assert rules.skip_labels == ["SPAM"]
    assert rules.phone_region == "SE"


def test_for_mailbox_merges_and_deduplicates() -> None:
    rules = IngestRules.for_mailbox(
        "INFO@rendetalje.dk",
        ["info@rendetalje.dk", "kontakt@rendetalje.dk"],
        ["Rendetalje.dk"],
        blocklist=["spam.example"],
    )
    assert rules.own_addresses == ["info@rendetalje.dk", "kontakt@rendetalje.dk"]
    assert rules.own_domains == ["rendetalje.dk"]
    assert rules.blocklist == ["spam.example"]
    again = rules.with_mailbox("info@rendetalje.dk", own_domains=["rendetalje.com"])
    assert again.own_addresses == rules.own_addresses
    assert again.own_domains == ["rendetalje.dk", "rendetalje.com"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"own_adresses": ["info@rendetalje.dk"]}, "extra_forbidden"),
        ({"own_addresses": ["info(at)rendetalje.dk"]}, "value_error"),
        ({"phone_region": "Danmark"}, "value_error"),
        (
            {"lead_sources": [{"name": "x", "parser": "nope", "sender_domains": ["x.dk"]}]},
            "value_error",
        ),
        ({"lead_sources": [{"name": "x", "parser": "leadpoint"}]}, "value_error"),
        (
            {
                "lead_sources": [
                    {
                        "name": "x",
                        "parser": "leadpoint",
                        "sender_domains": ["x.dk"],
                        "subject_patterns": ["(unclosed"],
                    }
                ]
            },
            "value_error",
        ),
        (
            {"lead_sources": [{"name": "x", "parser": "leadpoint", "sender_domain": ["x.dk"]}]},
            "extra_forbidden",
        ),
    ],
)
def test_config_mistakes_are_reported(data: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        IngestRules.model_validate(data)
    assert [error["type"] for error in caught.value.errors()] == [problem]


def test_configured_lead_sources_replace_the_defaults(make_message: Factory) -> None:
    rules = IngestRules.model_validate(
        {
            "own_addresses": ["info@rendetalje.dk"],
            "lead_sources": [
                {
                    "name": "3byggetilbud",
                    "parser": "leadpoint",
                    "sender_addresses": ["Leads@3byggetilbud.dk"],
                    "subject_patterns": ["^Ny opgave"],
                }
            ],
        }
    )
    message = make_message(
        from_="leads@3byggetilbud.dk",
        subject="NY OPGAVE: Rengøring efter håndværkere",
        body="Navn: Kim Olsen\nE-mail: kim@olsen.dk\n",
    )
    result = classify(message, [], rules)
    assert result.customer == Address("kim@olsen.dk", "Kim Olsen")
    assert result.lead is not None and result.lead.source == "3byggetilbud"
    # Rengøring.nu is no longer a lead source: its mail is now just no-reply noise.
    rengoring = make_message(from_="noreply@leadmail.no", subject="Nyt lead fra Rengøring.nu")
    assert classify(rengoring, [], rules).skip_reason == "noise:no-reply"
