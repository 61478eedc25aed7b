"""Generate large Google Takeout style mailboxes for ingestion benchmarks.

    python -m bench.mailbox_generator OUT.mbox 20000 [--seed N]

``generate_mailbox(path, n_messages, seed=0)`` writes exactly ``n_messages`` messages
to a new mbox at ``path`` and returns a summary of what it wrote, including what
correct ingestion should find (leads, customers, skips by reason, bounces). The mix,
by message count:

    ~10 %  lead emails: Rengøring.nu via Leadmail, Leadpoint, the website form
    ~54 %  customer threads of 1–6 messages, with replies from info@rendetalje.dk
           (some following up a lead, a few sent to a mistyped address that bounces)
    ~25 %  noise: newsletters, no-reply notifications, mailing lists, bulk, auto-replies
     ~5 %  spam and trash
     ~2 %  internal mail, ~2 % drafts
     ~1 %  bounces, ~1 % malformed (broken MIME, headers only)

There are about n/4 distinct customers; some write in several letter cases. The
same seed gives the same bytes. Messages use the shapes of the shipped sample
(``worker/samples``): the same From_ lines, Gmail headers, encodings and quoting.
"""

from __future__ import annotations

import argparse
import mailbox
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from worker.samples.build_sample import (
    MAILBOX,
    US,
    Addr,
    Body,
    Header,
    alternative,
    danish_attribution,
    encode_header,
    encode_q,
    format_address,
    gmail_boundary,
    gmail_html,
    gmail_message_id,
    lead_html,
    outlook_message_id,
    quote_lines,
    received_header,
    render_message,
    rfc_date,
    takeout_from_line,
    text_body,
    token,
)

START = datetime(2024, 1, 2, 6, 0, tzinfo=UTC)
SPAN_SECONDS = int((datetime(2025, 11, 28, 18, 0, tzinfo=UTC) - START).total_seconds())

FIRST_NAMES = (
    "Anne",
    "Kirsten",
    "Mette",
    "Hanne",
    "Helle",
    "Susanne",
    "Lene",
    "Camilla",
    "Louise",
    "Julie",
    "Sofie",
    "Ida",
    "Emma",
    "Maria",
    "Karina",
    "Birgitte",
    "Pia",
    "Tina",
    "Peter",
    "Jens",
    "Lars",
    "Michael",
    "Henrik",
    "Thomas",
    "Søren",
    "Niels",
    "Jesper",
    "Rasmus",
    "Mads",
    "Anders",
    "Christian",
    "Martin",
    "Jakob",
    "Frederik",
    "Kasper",
    "Morten",
)
LAST_NAMES = (
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Christiansen",
    "Poulsen",
    "Johansen",
    "Møller",
    "Mortensen",
    "Knudsen",
    "Holm",
    "Lund",
    "Bach",
    "Winther",
    "Kjær",
    "Dahl",
    "Skov",
    "Friis",
    "Bruun",
)
EXPAT_NAMES = (
    ("James", "O'Connor"),
    ("Emily", "Clarke"),
    ("Lukas", "Schneider"),
    ("Giulia", "Romano"),
    ("Priya", "Sharma"),
    ("Daniel", "Novak"),
    ("Sarah", "Mitchell"),
    ("Tomasz", "Kowalski"),
)
DOMAINS = (
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "hotmail.com",
    "hotmail.dk",
    "outlook.dk",
    "live.dk",
    "yahoo.dk",
    "mail.dk",
    "icloud.com",
    "outlook.com",
)
STREETS = (
    "Søndergade",
    "Vestergade",
    "Skovvejen",
    "Egevej",
    "Birkevej",
    "Frederiks Allé",
    "Guldsmedgade",
    "Tranehøjen",
    "Grønnedalen",
    "Jægergårdsgade",
    "Nørrebrogade",
    "Viborgvej",
    "Randersvej",
    "Marselis Boulevard",
    "Silkeborgvej",
    "Ole Rømers Gade",
)
TOWNS = (
    ("8000", "Aarhus C"),
    ("8200", "Aarhus N"),
    ("8210", "Aarhus V"),
    ("8220", "Brabrand"),
    ("8230", "Åbyhøj"),
    ("8240", "Risskov"),
    ("8260", "Viby J"),
    ("8270", "Højbjerg"),
    ("8300", "Odder"),
    ("8330", "Beder"),
    ("8361", "Hasselager"),
    ("8520", "Lystrup"),
)
TASKS = (
    "Flytterengøring",
    "Almindelig rengøring",
    "Hovedrengøring",
    "Vinduespudsning",
    "Fast rengøring hver 14. dag",
    "Erhvervsrengøring",
    "Rengøring efter håndværkere",
)
PROPERTY_TYPES = ("Lejlighed", "Rækkehus", "Villa", "Kontor", "Sommerhus")
TOPICS_DA = (
    "Tilbud på flytterengøring",
    "Vinduespudsning",
    "Spørgsmål om fast rengøring",
    "Hovedrengøring inden jul",
    "Ændring af tid på torsdag",
    "Faktura for rengøring",
    "Rengøring af kontor",
    "Trappevask i opgangen",
    "Nøgler til lejligheden",
    "Aflysning af næste rengøring",
    "Ekstra rengøring før fødselsdag",
    "Pris på ovnrens",
)
TOPICS_EN = ("Cleaning quote", "Move-out cleaning", "Question about regular cleaning")
OPENERS_DA = (
    "Tak for sidst, det var rigtig fint.",
    "Jeg har et spørgsmål til jeres priser.",
    "Vi skal flytte i næste måned og har brug for hjælp.",
    "Kan I komme en dag i næste uge?",
    "Jeg fik jeres navn fra en nabo.",
    "Vi vil gerne ændre tidspunktet.",
)
REPLIES_US = (
    "Tak for din mail. Vi kan komme {day} kl. {hour}.00, og prisen er {price} kr. inkl. moms.",
    "Det kan vi sagtens. Jeg har sat dig i kalenderen {day}.",
    "Tak for henvendelsen. Et fast tilbud på opgaven er {price} kr. inkl. moms.",
    "Selvfølgelig. Vi flytter rengøringen til {day}.",
)
REPLIES_CUSTOMER = (
    "Det lyder godt, vi siger ja tak.",
    "{day} passer fint.",
    "Kan I også tage vinduerne med?",
    "Tak! Nøglen ligger under måtten.",
    "Hvad koster det, hvis I også tager ovnen?",
)
DAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag")
OPENERS_EN = (
    "I'm looking for someone to clean my apartment every other week.",
    # A body line starting with "From " is escaped as ">From " in the mbox.
    "From what I can see on your website you also clean windows.\nCould you send me a price?",
    "We are moving out at the end of the month and need a move-out cleaning.",
)
REPLIES_US_EN = (
    "Thanks for your email. We can come on {day_en} at {hour}:00 for {price} DKK incl. VAT.",
    "No problem, I have put you in the calendar for {day_en}.",
)
REPLIES_CUSTOMER_EN = (
    "Sounds good, let's do that.",
    "{day_en} works for me.",
    "Could you also do the windows?",
)
DAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
SIGNATURE = "Med venlig hilsen\n\nRendetalje\nTlf. 86 20 40 60 · info@rendetalje.dk\n"

NOISE_SENDERS: tuple[tuple[str, Addr, str, str], ...] = (
    # (shape, sender, subject, expected skip reason)
    (
        "newsletter",
        ("RenoKlar Engros", "kampagner@renoklar-engros.dk"),
        "Ugens tilbud på rengøringsmidler",
        "bulk:list-unsubscribe",
    ),
    (
        "newsletter",
        ("Byggecentret", "marketing@byggecentret-aarhus.dk"),
        "Nyheder fra Byggecentret",
        "bulk:list-unsubscribe",
    ),
    (
        "newsletter",
        ("Erhverv Aarhus", "info@erhverv-aarhus.dk"),
        "Invitation: netværksmøde for små virksomheder",
        "bulk:list-unsubscribe",
    ),
    (
        "noreply",
        ("MobilePay", "no-reply@mobilepay.dk"),
        "Du har modtaget en betaling",
        "noise:no-reply",
    ),
    (
        "noreply",
        ("Regnskabsportalen", "noreply@regnskabsportalen.dk"),
        "Ny faktura er bogført",
        "noise:no-reply",
    ),
    ("noreply", ("Google", "no-reply@accounts.google.com"), "Sikkerhedsadvarsel", "noise:no-reply"),
    (
        "noreply",
        ("Kalender", "calendar-notification@google.com"),
        "Påmindelse: besigtigelse kl. 15",
        "noise:no-reply",
    ),
    (
        "list",
        ("Erfagruppe", "erfa-rengoering@lister.renbranchen.dk"),
        "[Erfa-rengøring] Erfaringer med nye kunder",
        "bulk:list-id",
    ),
    ("bulk", ("RenBooking Drift", "drift@renbooking.dk"), "Driftsmeddelelse", "bulk:precedence"),
    (
        "autoreply",
        ("Kontoret", "kontor@kjaer-ejendomme.dk"),
        "Automatisk svar: Rengøring",
        "bulk:auto-submitted",
    ),
    (
        "autoreply",
        ("Ferieautosvar", "sekretariat@bach-fysio.dk"),
        "Fraværende: Re: Tilbud",
        "bulk:auto-submitted",
    ),
)


@dataclass(slots=True)
class Customer:
    name: str
    email: str  # canonical spelling, lower-case
    variant: str | None  # another spelling in mixed case, used now and then
    english: bool

    def address(self, rng: random.Random) -> Addr:
        if self.variant and rng.random() < 0.4:
            return (self.name, self.variant)
        return (self.name, self.email)


@dataclass(slots=True)
class Item:
    when: datetime
    raw: bytes
    kind: str
    category: str
    customer: str | None = None
    lead_source: str | None = None
    skip_reason: str | None = None
    thread: Item | None = None
    message_id: str = ""
    text: str = ""
    sender: Addr = ("", "")
    subject: str = ""
    spellings: tuple[str, ...] = ()
    gmail_id: str = ""
    thread_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _ascii_local(text: str) -> str:
    return text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa").replace("'", "")


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.serial = 0
        self.items: list[Item] = []

    # -- people

    def make_customers(self, count: int) -> list[Customer]:
        rng = self.rng
        seen: set[str] = set()
        result: list[Customer] = []
        while len(result) < count:
            english = rng.random() < 0.06
            if english:
                first, last = rng.choice(EXPAT_NAMES)
            else:
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            style = rng.randrange(4)
            local = _ascii_local(
                (f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}", f"{first}.{last[0]}")[
                    style
                ]
            )
            if rng.random() < 0.6 or local in seen:
                local += str(rng.randrange(1, 99))
            email = f"{local}@{rng.choice(DOMAINS)}"
            if email in seen:
                continue
            seen.add(email)
            variant = None
            if rng.random() < 0.2:
                user, _, domain = email.partition("@")
                variant = (
                    ".".join(part.capitalize() for part in user.split("."))
                    + "@"
                    + domain.capitalize()
                )
                if variant == email:
                    variant = email.upper()
            result.append(Customer(f"{first} {last}", email, variant, english))
        return result

    # -- messages

    def key(self) -> str:
        self.serial += 1
        return f"{self.seed}-{self.serial}"

    def headers(
        self,
        key: str,
        when: datetime,
        *,
        sender: Addr,
        to: Sequence[Addr],
        subject: str,
        message_id: str,
        delivered: bool,
        parent: Item | None = None,
        extra: Sequence[Header] = (),
        reply_to: Addr | None = None,
        subject_charset: str = "UTF-8",
    ) -> list[Header]:
        out: list[Header] = []
        if delivered:
            out += [
                ("Delivered-To", MAILBOX),
                received_header(when, key),
                ("Return-Path", f"<{sender[1]}>"),
            ]
        out += extra
        out.append(("MIME-Version", "1.0"))
        if parent is not None:
            refs = [*parent.extra.get("references", ()), parent.message_id]
            out.append(("References", "\n ".join(f"<{ref}>" for ref in refs[-8:])))
            out.append(("In-Reply-To", f"<{parent.message_id}>"))
        out += [
            ("From", format_address(sender)),
            ("Date", rfc_date(when)),
            ("Message-ID", f"<{message_id}>"),
            ("Subject", encode_header(subject, subject_charset)),
            ("To", ", ".join(format_address(a) for a in to)),
        ]
        if reply_to is not None:
            out.append(("Reply-To", format_address(reply_to)))
        return out

    def conversation_message(
        self,
        when: datetime,
        *,
        sender: Addr,
        to: Addr,
        subject: str,
        text: str,
        labels: str,
        parent: Item | None,
        kind: str,
        category: str,
        customer: str | None,
        skip_reason: str | None = None,
    ) -> Item:
        key = self.key()
        message_id = gmail_message_id(key)
        full = text
        attribution = None
        if parent is not None:
            attribution = danish_attribution(parent.when, parent.sender)
            full = f"{text}\n{attribution}\n\n{quote_lines(parent.text)}\n"
        delivered = "Sent" not in labels and "Draft" not in labels
        headers = self.headers(
            key,
            when,
            sender=sender,
            to=[to],
            subject=subject,
            message_id=message_id,
            delivered=delivered,
            parent=parent,
        )
        body = alternative(
            full,
            gmail_html(text, attribution, parent.text if parent else None),
            gmail_boundary(key),
        )
        item = Item(
            when,
            b"",
            kind,
            category,
            customer=customer,
            skip_reason=skip_reason,
            thread=parent.thread if parent and parent.thread else parent,
            message_id=message_id,
            text=text,
            sender=sender,
            subject=subject,
        )
        item.extra["labels"] = labels
        item.extra["headers"] = headers
        item.extra["body"] = body
        if parent is not None:
            item.extra["references"] = (*parent.extra.get("references", ()), parent.message_id)
        self.items.append(item)
        return item

    def lead(self, when: datetime, customer: Customer, source: str) -> Item:
        rng, key = self.rng, self.key()
        street = f"{rng.choice(STREETS)} {rng.randrange(1, 120)}"
        postcode, town = rng.choice(TOWNS)
        phone = rng.choice(
            (
                "{} {} {} {}",
                "+45 {}{}{}{}",
                "0045 {} {} {} {}",
                "+45 {} {} {} {}",
            )
        ).format(*(f"{rng.randrange(20, 99)}" for _ in range(4)))
        size = rng.choice(("{} m2", "ca. {} m²", "{} kvm", "{}m2")).format(rng.randrange(35, 260))
        task = rng.choice(TASKS)
        email = customer.address(rng)[1]
        message = rng.choice(
            (
                "Vi har en hund, så der er en del hår.",
                "Gerne hurtigst muligt.",
                "Der er to badeværelser.",
                "Vi skal aflevere lejligheden til udlejer.",
                "",
            )
        )
        if source == "rengoring.nu":
            fields = [
                ("Navn", customer.name),
                (rng.choice(("Email", "E-mail")), email),
                (rng.choice(("Telefon", "Tlf", "Mobil")), phone),
                ("Adresse", f"{street}, {postcode} {town}"),
                ("Boligtype", rng.choice(PROPERTY_TYPES)),
                ("Behov", task),
                ("Hvor stort er området", size),
                ("Antal rum", str(rng.randrange(1, 8))),
                (
                    "Ønsket dato",
                    rng.choice(("Snarest muligt", "Efter aftale", f"Uge {rng.randrange(1, 53)}")),
                ),
                ("Besked", message or "-"),
            ]
            layout = rng.randrange(3)
            if layout == 0:
                text = "Du har modtaget et nyt lead fra Rengøring.nu\n\n" + "\n".join(
                    f"{a}: {b}" for a, b in fields
                )
            else:
                text = "Du har modtaget et nyt lead fra Rengøring.nu\n\n" + "\n\n".join(
                    f"{a}\n{b}" for a, b in fields
                )
            text += (
                "\n\nMed venlig hilsen\nRengøring.nu\n\n--\nAfmeld leads: https://leadmail.no/u/"
                + token(key, 8)
                + "\n"
            )
            subject = rng.choice(("Nyt lead fra Rengøring.nu", f"{customer.name} fra Rengøring.nu"))
            sender: Addr = ("Rengøring.nu via Leadmail", "noreply@leadmail.no")
            message_id = f"{when:%Y%m%d%H%M%S}.{token(key, 10)}@leadmail.no"
            extra: list[Header] = [
                ("List-Unsubscribe", f"<https://leadmail.no/u/{token(key, 20)}>")
            ]
            if layout == 2:
                body = text_body(
                    lead_html("Nyt lead fra Rengøring.nu", fields, "Leadmail"),
                    "html",
                    encoding="base64",
                )
            else:
                body = text_body(text)
            reply_to = (customer.name, email) if rng.random() < 0.5 else None
            subject_charset = "UTF-8"
        elif source == "leadpoint":
            text = (
                f"Nyt lead fra Leadpoint\n\nNavn: {customer.name}\nE-mail: {email}\n"
                f"Telefon: {phone}\n"
                f"Adresse: {street}\nPostnummer: {postcode}\nBy: {town}\n"
                f"Opgavebeskrivelse: {task}. {message}\nStørrelse: {size.replace('²', '2')}\n\n"
                "Leadet er sendt til højst 3 firmaer.\nLeadpoint ApS · leadpoint.dk\n"
            )
            subject = rng.choice(
                ("Rengøring Aarhus", "Nyt lead: Rengøring Aarhus", f"Nyt lead: {task} {town}")
            )
            sender = ("Leadpoint", "leads@leadpoint.dk")
            message_id = f"lead-{rng.randrange(10000, 99999)}.{int(when.timestamp())}@leadpoint.dk"
            extra = [("X-Mailer", "Leadpoint Mailer")]
            subject_charset = rng.choice(("UTF-8", "ISO-8859-1"))
            body = text_body(text, charset=subject_charset)
            reply_to = (customer.name, email)
        else:
            text = (
                f"Navn: {customer.name}\nEmail: {email}\nTelefon: {phone}\n"
                f"Besked: Hej, vi vil gerne have et tilbud på {task.lower()} af {size}. "
                f"{message}\n\n"
                "--\nDenne e-mail blev sendt fra kontaktformularen på Rendetalje (https://rendetalje.dk)\n"
            )
            subject = "Ny henvendelse fra kontaktformular"
            sender = ("Rendetalje", "wordpress@rendetalje.dk")
            message_id = f"{token(key, 32)}@rendetalje.dk"
            extra = [("X-Mailer", "PHPMailer 6.9.1 (https://github.com/PHPMailer/PHPMailer)")]
            body = text_body(text, encoding="8bit")
            reply_to = (customer.name, email)
            subject_charset = "UTF-8"
        headers = self.headers(
            key,
            when,
            sender=sender,
            to=[US],
            subject=subject,
            message_id=message_id,
            delivered=True,
            extra=extra,
            reply_to=reply_to,
            subject_charset=subject_charset,
        )
        item = Item(
            when,
            b"",
            "inbound",
            "lead",
            customer=customer.email,
            lead_source=source,
            message_id=message_id,
            text=text,
            sender=sender,
            subject=subject,
            spellings=(email,),
        )
        item.extra.update(labels="Inbox,Opened,Category Updates,Leads", headers=headers, body=body)
        self.items.append(item)
        return item

    def thread(
        self, when: datetime, customer: Customer, length: int, first: Item | None = None
    ) -> None:
        """A conversation of ``length`` messages, optionally continuing a lead."""
        rng = self.rng
        parent = first
        subject = (
            first.subject if first else rng.choice(TOPICS_EN if customer.english else TOPICS_DA)
        )
        ours = first is not None or rng.random() < 0.15  # who writes the next message
        for _ in range(length):
            when += timedelta(minutes=rng.randrange(20, 60 * 30))
            weekday = rng.randrange(5)
            fill = {
                "day": DAYS[weekday],
                "day_en": DAYS_EN[weekday],
                "hour": rng.randrange(8, 16),
                "price": rng.randrange(6, 60) * 75,
            }
            re_subject = (
                subject if parent is None or subject.startswith("Re: ") else f"Re: {subject}"
            )
            if ours:
                address = customer.address(rng)
                first_name = customer.name.split()[0]
                if customer.english:
                    text = f"Hi {first_name}\n\n{rng.choice(REPLIES_US_EN).format(**fill)}\n\n"
                    text += "Kind regards\nRendetalje\n"
                else:
                    text = f"Hej {first_name}\n\n{rng.choice(REPLIES_US).format(**fill)}\n\n"
                    text += SIGNATURE
                parent = self.conversation_message(
                    when,
                    sender=US,
                    to=address,
                    subject=re_subject,
                    text=text,
                    labels="Sent",
                    parent=parent,
                    kind="outbound",
                    category="thread",
                    customer=customer.email,
                )
            else:
                address = customer.address(rng)
                openers, replies = (
                    (OPENERS_EN, REPLIES_CUSTOMER_EN)
                    if customer.english
                    else (OPENERS_DA, REPLIES_CUSTOMER)
                )
                body = rng.choice(openers) if parent is None else rng.choice(replies).format(**fill)
                if customer.english:
                    text = f"Hi,\n\n{body}\n\nBest,\n{customer.name}\n"
                else:
                    text = f"Hej\n\n{body}\n\nVenlig hilsen\n{customer.name}\n"
                labels = rng.choice(
                    (
                        "Inbox,Opened",
                        "Inbox,Important,Opened",
                        "Inbox,Opened,Kunder",
                        "Inbox,Unread",
                    )
                )
                parent = self.conversation_message(
                    when,
                    sender=address,
                    to=US,
                    subject=re_subject,
                    text=text,
                    labels=labels,
                    parent=parent,
                    kind="inbound",
                    category="thread",
                    customer=customer.email,
                )
            parent.spellings = (address[1],)
            ours = not ours

    def bounce(self, when: datetime, customer: Customer) -> None:
        """An offer sent to a mistyped address, and Gmail's delivery failure."""
        user, _, domain = customer.email.partition("@")
        typo = f"{user}@{domain.replace('mail', 'mial', 1) if 'mail' in domain else 'x' + domain}"
        original = self.conversation_message(
            when,
            sender=US,
            to=(customer.name, typo),
            subject=self.rng.choice(TOPICS_DA),
            text=f"Hej {customer.name.split()[0]}\n\nHermed vores tilbud.\n\n{SIGNATURE}",
            labels="Sent",
            parent=None,
            kind="outbound",
            category="thread",
            customer=typo,
        )
        original.spellings = (typo,)
        key = self.key()
        later = when + timedelta(seconds=3)
        report = Body(
            (("Content-Type", "message/delivery-status"),),
            (
                "Reporting-MTA: dns; googlemail.com\n"
                f"X-Original-Message-ID: <{original.message_id}>\n\n"
                f"Final-Recipient: rfc822; {typo}\nAction: failed\nStatus: 5.1.1\n"
                f"Diagnostic-Code: smtp; 550 5.1.1 <{typo}>: "
                "Recipient address rejected: User unknown\n"
            ).encode(),
        )
        human = text_body(
            f"** Adressen blev ikke fundet **\n\nDin meddelelse blev ikke leveret til {typo}.\n"
        )
        boundary = gmail_boundary(key)
        parts = b"".join(
            f"--{boundary}\n".encode() + part.render() + b"\n" for part in (human, report)
        )
        body = Body(
            (
                (
                    "Content-Type",
                    f'multipart/report; boundary="{boundary}"; report-type=delivery-status',
                ),
            ),
            parts + f"--{boundary}--\n".encode(),
        )
        message_id = f"{token(key, 12)}.BOUNCE@mx.google.com"
        headers: list[Header] = [
            ("Delivered-To", MAILBOX),
            received_header(later, key),
            ("Return-Path", "<>"),
            ("Auto-Submitted", "auto-replied"),
            ("MIME-Version", "1.0"),
            ("From", "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"),
            ("To", MAILBOX),
            ("X-Failed-Recipients", typo),
            ("Subject", "Delivery Status Notification (Failure)"),
            ("References", f"<{original.message_id}>"),
            ("In-Reply-To", f"<{original.message_id}>"),
            ("Message-ID", f"<{message_id}>"),
            ("Date", rfc_date(later)),
        ]
        item = Item(later, b"", "bounce", "bounce", thread=original, message_id=message_id)
        item.extra.update(
            labels="Inbox,Opened", headers=headers, body=body, bounced=original.message_id
        )
        self.items.append(item)

    def noise(self, when: datetime) -> None:
        rng, key = self.rng, self.key()
        shape, sender, subject, reason = rng.choice(NOISE_SENDERS)
        extra: list[Header] = []
        if shape == "newsletter":
            extra = [
                (
                    "List-Unsubscribe",
                    f"<https://{sender[1].split('@')[1]}/afmeld?u={token(key, 8)}>",
                ),
                ("List-Id", f"<nyheder.{sender[1].split('@')[1]}>"),
            ]
        elif shape == "list":
            extra = [
                (
                    "List-Id",
                    f"{encode_q('Erfagruppe for rengøringsfirmaer')} "
                    "<erfa-rengoering.lister.renbranchen.dk>",
                )
            ]
        elif shape == "bulk":
            extra = [("Precedence", "bulk")]
        elif shape == "autoreply":
            extra = [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]
        elif rng.random() < 0.3:  # notification services often carry List-Unsubscribe as well
            extra = [
                ("List-Unsubscribe", f"<https://{sender[1].split('@')[1]}/notifikationer/afmeld>")
            ]
        message_id = f"{token(key, 20)}@{sender[1].split('@')[1]}"
        text = (
            f"{subject}\n\nDenne besked er sendt automatisk.\nReference: {token(key, 8).upper()}\n"
        )
        headers = self.headers(
            key,
            when,
            sender=sender,
            to=[US],
            subject=subject,
            message_id=message_id,
            delivered=True,
            extra=extra,
        )
        body = (
            text_body(text)
            if rng.random() < 0.5
            else alternative(text, f"<p>{text}</p>\n", gmail_boundary(key))
        )
        item = Item(when, b"", "skip", "noise", skip_reason=reason, message_id=message_id)
        labels = rng.choice(
            ("Inbox,Category Updates", "Inbox,Category Promotions,Opened", "Inbox,Opened")
        )
        item.extra.update(labels=labels, headers=headers, body=body)
        self.items.append(item)

    def spam_or_trash(self, when: datetime) -> None:
        rng, key = self.rng, self.key()
        spam = rng.random() < 0.7
        sender: Addr = (
            rng.choice(("Prize Center", "Pakkeservice", "SEO Experts", "Crypto Gains")),
            f"{token(key, 6)}@{rng.choice(('promo-mail', 'pakke-levering', 'rank-boost'))}.example",
        )
        subject = rng.choice(
            (
                "Congratulations, you have won!",
                "Din pakke kunne ikke leveres",
                "Top ranking on Google",
                "Invitation: julefrokost 2025",
                "Tilbud på kontorartikler",
            )
        )
        message_id = f"{token(key, 24)}@{sender[1].split('@')[1]}"
        extra: list[Header] = (
            [("List-Unsubscribe", "<mailto:remove@promo-mail.example>")]
            if rng.random() < 0.5
            else []
        )
        headers = self.headers(
            key,
            when,
            sender=sender,
            to=[US],
            subject=subject,
            message_id=message_id,
            delivered=True,
            extra=extra,
        )
        item = Item(
            when,
            b"",
            "skip",
            "spam_trash",
            skip_reason="label:spam" if spam else "label:trash",
            message_id=message_id,
        )
        item.extra.update(
            labels="Spam,Unread" if spam else "Trash,Opened",
            headers=headers,
            body=text_body(f"{subject}\n\nKlik her: http://{sender[1].split('@')[1]}/x\n"),
        )
        self.items.append(item)

    def internal(self, when: datetime) -> None:
        colleague: Addr = self.rng.choice(
            (("Lars Pedersen", "lars@rendetalje.dk"), ("Mia Holm", "mia@rendetalje.dk"), US)
        )
        subject = self.rng.choice(
            ("Vagtplan næste uge", "Husk nøgler", "Indkøb af rengøringsmidler", "Ferieplan")
        )
        labels = "Sent,Inbox,Opened" if colleague == US else "Inbox,Opened"
        self.conversation_message(
            when,
            sender=colleague,
            to=US,
            subject=subject,
            text=f"{subject}: se kalenderen.\n",
            labels=labels,
            parent=None,
            kind="skip",
            category="internal",
            customer=None,
            skip_reason="internal",
        )

    def draft(self, when: datetime, customer: Customer) -> None:
        self.conversation_message(
            when,
            sender=US,
            to=customer.address(self.rng),
            subject="Re: " + self.rng.choice(TOPICS_DA),
            text=f"Hej {customer.name.split()[0]}\n\n[udkast]\n",
            labels="Draft",
            parent=None,
            kind="skip",
            category="draft",
            customer=None,
            skip_reason="label:draft",
        )

    def malformed(self, when: datetime, customer: Customer | None, index: int) -> None:
        key = self.key()
        received = ": ".join(received_header(when, key))
        message_id = outlook_message_id(key)
        if index % 2 == 0 and customer is not None:
            raw = (
                f"Delivered-To: {MAILBOX}\n{received}\nMIME-Version: 1.0\nDate: i går kl. 25:61\n"
                f"Message-ID: <{message_id}>\nSubject: Sp\xf8rgsm\xe5l om reng\xf8ring\n"
                f"From: {customer.name} <{customer.email}>\nTo: {MAILBOX}\n"
                'Content-Type: multipart/mixed; boundary="----=_Part_1_declared"\n\n'
                "------=_Part_2_used\nContent-Type: text/plain; charset=iso-8859-1\n"
                "Content-Transfer-Encoding: quoted-printable\n\nKan I ogs=E5 tage ovnen med?\n"
                "------=_Part_2_used\nContent-Type: application/pdf\n"
                "Content-Transfer-Encoding: base64\n\n"
                "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5n"
            ).encode("latin-1")
        else:
            message_id = f"{when:%Y%m%d%H%M%S}.{token(key, 10).upper()}@smtp.relay.example"
            raw = (
                f"Delivered-To: {MAILBOX}\n{received}\nReturn-Path: <>\n"
                f"Message-ID: <{message_id}>\n"
                "Content-Type: text/plain; charset=unknown-8bit\n"
            ).encode()
        item = Item(
            when,
            b"",
            "quarantine_or_skip",
            "malformed",
            customer=customer.email if customer is not None and index % 2 == 0 else None,
            message_id=message_id,
        )
        item.extra.update(labels="Inbox,Unread", raw=raw)
        self.items.append(item)


def _plan(n: int) -> dict[str, int]:
    """Message counts per category; threads take what the others leave."""
    counts = {
        "lead": round(0.10 * n),
        "noise": round(0.25 * n),
        "spam_trash": round(0.05 * n),
        "internal": round(0.02 * n),
        "draft": round(0.02 * n),
        "bounce": max(1, round(0.01 * n)) if n >= 40 else 0,
        "malformed": max(1, round(0.01 * n)) if n >= 40 else 0,
    }
    counts["thread"] = n - sum(counts.values()) - counts["bounce"]  # each bounce has an original
    if counts["thread"] < 0:  # tiny mailboxes: only threads and leads
        counts = dict.fromkeys(counts, 0) | {"lead": n // 3, "thread": n - n // 3}
    return counts


def _thread_lengths(rng: random.Random, total: int) -> list[int]:
    lengths = []
    while total > 0:
        length = min(total, rng.choices((1, 2, 3, 4, 5, 6), weights=(18, 30, 24, 14, 8, 6))[0])
        lengths.append(length)
        total -= length
    return lengths


def generate_mailbox(
    path: str | os.PathLike[str], n_messages: int, seed: int = 0
) -> dict[str, Any]:
    """Write ``n_messages`` Takeout-style messages to a new mbox at ``path``; return a summary."""
    if n_messages < 0:
        raise ValueError("n_messages must not be negative")
    gen = Generator(seed)
    rng = gen.rng
    plan = _plan(n_messages)
    customers = gen.make_customers(max(1, n_messages // 4))

    def moment() -> datetime:
        return START + timedelta(seconds=rng.randrange(SPAN_SECONDS))

    # Conversations: leads (some followed up in a thread), threads, bounced offers.
    thread_budget = plan["thread"]
    lead_sources = rng.choices(
        ("rengoring.nu", "leadpoint", "website"), weights=(2, 1, 1), k=plan["lead"]
    )
    follow_ups = []
    for _ in lead_sources:
        extra = min(thread_budget, rng.choice((0, 0, 1, 1, 2, 3))) if rng.random() < 0.6 else 0
        follow_ups.append(extra)
        thread_budget -= extra
    lengths = _thread_lengths(rng, thread_budget)
    units = len(lead_sources) + len(lengths) + plan["bounce"]
    # Every customer once (as far as there are conversations), then repeat customers.
    order = list(range(len(customers)))
    rng.shuffle(order)
    assignment = order[:units] + [
        rng.randrange(len(customers)) for _ in range(max(0, units - len(order)))
    ]
    rng.shuffle(assignment)
    picks = iter(customers[i] for i in assignment)

    for source, extra in zip(lead_sources, follow_ups, strict=True):
        customer = next(picks)
        lead = gen.lead(moment(), customer, source)
        if extra:
            gen.thread(lead.when, customer, extra, first=lead)
    for length in lengths:
        gen.thread(moment(), next(picks), length)
    for _ in range(plan["bounce"]):
        gen.bounce(moment(), next(picks))
    for _ in range(plan["noise"]):
        gen.noise(moment())
    for _ in range(plan["spam_trash"]):
        gen.spam_or_trash(moment())
    for _ in range(plan["internal"]):
        gen.internal(moment())
    for _ in range(plan["draft"]):
        gen.draft(moment(), rng.choice(customers))
    conversing = {item.customer for item in gen.items if item.kind == "inbound" and item.customer}
    known = [c for c in customers if c.email in conversing] or None
    for index in range(plan["malformed"]):
        gen.malformed(moment(), rng.choice(known) if known else None, index)

    items = sorted(gen.items, key=lambda item: (item.when, item.message_id))
    assert len(items) == n_messages, (len(items), n_messages)
    used_ids: set[str] = set()
    for index, item in enumerate(items):
        gid = int(item.when.timestamp()) * 1000 << 20 | (index * 7919 + seed) & 0xFFFFF
        while str(gid) in used_ids:
            gid += 1
        item.gmail_id = str(gid)
        used_ids.add(item.gmail_id)
    for item in items:  # thread ids: the first message's id (the thread's root sorts first)
        root = item.thread or item
        item.thread_id = root.gmail_id or item.gmail_id

    _write(Path(path), items)
    return _summary(items, n_messages, Path(path))


def _write(path: Path, items: Sequence[Item]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    box = mailbox.mbox(path, create=True)
    try:
        for item in items:
            top: list[Header] = [
                ("X-GM-THRID", item.thread_id),
                ("X-Gmail-Labels", item.extra["labels"]),
            ]
            if "raw" in item.extra:
                lines = "".join(f"{name}: {value}\n" for name, value in top)
                raw = lines.encode() + item.extra["raw"]
            else:
                raw = render_message([*top, *item.extra["headers"]], item.extra["body"])
            message = mailbox.mboxMessage(raw)
            message.set_from(takeout_from_line(item.gmail_id, item.when))
            box.add(message)
        box.flush()
    finally:
        box.close()


def _summary(items: Sequence[Item], n: int, path: Path) -> dict[str, Any]:
    spellings: dict[str, set[str]] = {}
    for item in items:
        if item.kind in ("inbound", "outbound") and item.customer:
            spellings.setdefault(item.customer, set()).update(item.spellings or (item.customer,))
    leads = Counter(item.lead_source for item in items if item.lead_source)
    return {
        "messages": n,
        "bytes": path.stat().st_size,
        "by_category": dict(sorted(Counter(item.category for item in items).items())),
        "by_kind": dict(sorted(Counter(item.kind for item in items).items())),
        "skipped_by_reason": dict(
            sorted(Counter(i.skip_reason for i in items if i.skip_reason).items())
        ),
        "leads": sum(leads.values()),
        "leads_by_source": dict(sorted(leads.items())),
        "customers": len(spellings),
        "customers_in_several_cases": sum(1 for s in spellings.values() if len(s) > 1),
        "threads": len({item.thread_id for item in items}),
        "bounces": sum(1 for item in items if item.kind == "bounce"),
        "bounced_message_ids": [item.extra["bounced"] for item in items if item.kind == "bounce"],
        "malformed": sum(1 for item in items if item.kind == "quarantine_or_skip"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="the mbox file to write (replaced)")
    parser.add_argument("n_messages", type=int, help="how many messages")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    summary = generate_mailbox(args.out, args.n_messages, seed=args.seed)
    summary.pop("bounced_message_ids")
    elapsed = time.perf_counter() - started
    for key, value in summary.items():
        print(f"{key}: {value}")
    print(f"seconds: {elapsed:.1f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
