"""Write the demo's sales history: ``history.mbox`` and ``history.json``, deterministically.

    python -m worker.samples.build_history            # rewrites both files here

A year of invented lead emails (December 2024 to November 2025) from Leadpoint and
the website form, each answered by us in its thread, with what came of each: a quote
sent, accepted or rejected, a booking. ``crm demo --history`` imports the mailbox
through the same jobs as any export and then records the outcomes with the services,
so that lead scoring and ``crm report trends`` have something to learn and show.

The history carries a signal, as a real one would: Aarhus (80xx, 82xx) books more
often than Copenhagen (21xx, 24xx), the website form more often than Leadpoint, and
leads answered within the hour more often than those answered the next day; the
weekday carries none. Names, addresses and amounts come from a seeded generator, so
running the script twice gives byte-identical files.
"""

# ruff: noqa: E501

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from worker.samples.build_sample import (
    US,
    Addr,
    Entry,
    Sample,
    T,
    copenhagen,
    inbound,
    leadpoint_message_id,
    outbound,
    takeout_from_line,
    text_body,
    wordpress_message_id,
    write_mbox,
)

SAMPLES_DIR = Path(__file__).resolve().parent
HISTORY_MBOX = SAMPLES_DIR / "history.mbox"
HISTORY_JSON = SAMPLES_DIR / "history.json"
LEADS_PER_MONTH = 14
# With 168 leads, chance alone can make a weekday look telling; this seed's draw shows
# the signal the history was drawn with and no other.
SEED = 20251160

LEADPOINT: Addr = ("Leadpoint", "leads@leadpoint.dk")
WORDPRESS: Addr = ("Rendetalje", "wordpress@rendetalje.dk")
FIRST = (
    "Anne",
    "Bo",
    "Camilla",
    "Emil",
    "Freja",
    "Henrik",
    "Ida",
    "Jonas",
    "Katrine",
    "Lars",
    "Maja",
    "Niels",
    "Pernille",
    "Rasmus",
    "Signe",
    "Thomas",
)
LAST = (
    "Andersen",
    "Berg",
    "Christensen",
    "Dahl",
    "Eriksen",
    "Frandsen",
    "Hansen",
    "Iversen",
    "Jakobsen",
    "Krogh",
    "Larsen",
    "Mortensen",
    "Nygaard",
    "Olsen",
    "Poulsen",
    "Vestergaard",
)
STREETS = (
    "Birkevej",
    "Kastanjealle",
    "Møllegade",
    "Skovvej",
    "Strandvejen",
    "Tværgade",
    "Vestergade",
    "Østergade",
)
# (postcode, town, how much the area adds to the odds of a booking)
AREAS = (
    ("8000", "Aarhus C", 0.9),
    ("8200", "Aarhus N", 0.7),
    ("8210", "Aarhus V", 0.6),
    ("8260", "Viby J", 0.3),
    ("2100", "København Ø", -0.9),
    ("2400", "København NV", -0.7),
)
TASKS = (
    ("Flytterengøring", 2800, 5200),
    ("Hovedrengøring", 1800, 3600),
    ("Vinduespudsning", 600, 1400),
    ("Fast rengøring hver 14. dag", 900, 1600),
)
# (label, hours until our reply, effect on the odds)
REPLIES = ((0.4, 0.6), (3.0, 0.1), (20.0, -0.6))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of one lead (keyed in history.json by its Gmail id)."""

    total: str
    sent_after_days: int
    accepted: bool
    booked: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "sent_after_days": self.sent_after_days,
            "accepted": self.accepted,
            "booked": self.booked,
        }


def _lead_text(
    name: str,
    email: str,
    phone: str,
    street: str,
    area: tuple[str, str, float],
    task: str,
    size: int,
) -> str:
    return T(f"""
        Navn: {name}
        E-mail: {email}
        Telefon: {phone}
        Adresse: {street}
        Postnummer: {area[0]}
        By: {area[1]}
        Type rengøring: {task}
        Størrelse: {size} m2
        Opgavebeskrivelse: {task} af bolig på {size} m2. Hvornår har I tid, og hvad koster det?
    """)


def build() -> tuple[Sample, dict[str, dict[str, Any]]]:
    rng = random.Random(SEED)
    sample = Sample()
    outcomes: dict[str, dict[str, Any]] = {}
    number = 0
    for month_index in range(12):
        year, month = (2024, 12) if month_index == 0 else (2025, month_index)
        for slot in range(LEADS_PER_MONTH):
            number += 1
            day = 1 + (slot * 2 + rng.randrange(2)) % 28
            when = copenhagen(
                year, month, day, rng.randrange(7, 22), rng.randrange(60), rng.randrange(60)
            )
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {last}"
            customer: Addr = (name, f"{first}.{last}{number}@example.dk".lower().replace("ø", "o"))
            area = rng.choice(AREAS)
            task, low, high = rng.choice(TASKS)
            size = rng.randrange(45, 190)
            website = rng.random() < 0.45
            reply_hours, reply_effect = rng.choice(REPLIES)
            phone = f"{rng.randrange(20, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}"
            street = f"{rng.choice(STREETS)} {rng.randrange(1, 80)}"
            key = f"history-{number:03d}"
            text = _lead_text(name, customer[1], phone, street, area, task, size)
            if website:
                lead = sample.mail(
                    key, when, sender=WORDPRESS, to=[US], reply_to=customer,
                    subject="Ny henvendelse fra kontaktformular", labels="Inbox,Opened,Leads",
                    message_id=wordpress_message_id(key), return_path="wordpress@rendetalje.dk",
                    text=text, body=text_body(text, encoding="8bit"),
                    expect=inbound(customer[1], "website"),
                )  # fmt: skip
            else:
                lead = sample.mail(
                    key, when, sender=LEADPOINT, to=[US], reply_to=customer,
                    subject=f"{task} {area[1]}", labels="Inbox,Opened,Leads",
                    message_id=leadpoint_message_id(70000 + number, when),
                    extra=[("X-Mailer", "Leadpoint Mailer")],
                    text=f"Nyt lead fra Leadpoint\n\n{text}\nLeadpoint ApS · leadpoint.dk\n",
                    plain=True, expect=inbound(customer[1], "leadpoint"),
                )  # fmt: skip
            _reply(sample, key, lead, customer, when + timedelta(hours=reply_hours), task)
            logit = -1.1 + area[2] + (0.7 if website else -0.5) + reply_effect
            chance = 1 / (1 + math.exp(-logit))
            quoted = rng.random() < 0.8
            won = rng.random() < chance
            if quoted or won:
                total = rng.randrange(low, high) + rng.choice((0, 0.5))
                outcomes[lead.gmail_id] = Outcome(
                    total=f"{total:.2f}",
                    sent_after_days=1 + rng.randrange(3),
                    accepted=won,
                    booked=won and rng.random() < 0.9,
                ).as_dict()
    return sample, outcomes


def _reply(
    sample: Sample, key: str, lead: Entry, customer: Addr, when: datetime, task: str
) -> None:
    sample.mail(
        f"{key}-reply", when, sender=US, to=[customer], reply=lead, labels="Sent",
        subject=f"Re: {lead.subject}",
        text=f"Hej {customer[0].split()[0]}\n\nTak for din henvendelse om {task.lower()}. Vi sender et tilbud i morgen.\n\nVenlig hilsen\nRendetalje",
        plain=True, quote=False, expect=outbound(customer[1]),
    )  # fmt: skip


def write_history(mbox_path: Path = HISTORY_MBOX, json_path: Path = HISTORY_JSON) -> int:
    sample, outcomes = build()
    write_mbox(((takeout_from_line(e.gmail_id, e.when), e.raw) for e in sample.entries), mbox_path)
    json_path.write_text(
        json.dumps({"outcomes": outcomes}, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return len(sample.entries)


if __name__ == "__main__":
    count = write_history()
    print(f"wrote {HISTORY_MBOX} ({count} messages) and {HISTORY_JSON}")
