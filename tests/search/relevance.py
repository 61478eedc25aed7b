"""A small labelled set for search relevance: messages of a cleaning company, in Danish
and English, and queries with the message a user expects first.

The goal (issue "Search"): the expected message among the first three for at least
90 % of the queries, on PostgreSQL and on SQLite.
"""

from __future__ import annotations

from email.utils import parseaddr

from sqlalchemy.orm import Session

from crm_core import services
from crm_core.statuses import Direction

# key: (sender, subject, body)
MESSAGES: dict[str, tuple[str, str, str]] = {
    "flytning": (
        "Anne Holm <anne.holm@example.dk>",
        "Tilbud på flytterengøring",
        "Hej, vi flytter fra vores lejlighed på Østerbro den 1. december og skal bruge "
        "flytterengøring. Lejligheden er 85 m2. Hvad koster det?",
    ),
    "vinduer": (
        "Bo Madsen <bo@example.dk>",
        "Vinduespudsning",
        "Kan I pudse vinduer i vores rækkehus hver anden måned? Der er 14 vinduer.",
    ),
    "jul": (
        "Karen Friis <karen.friis@example.dk>",
        "Hovedrengøring før jul",
        "Vi ønsker en grundig hovedrengøring af huset inden jul, inklusive ovn og køleskab.",
    ),
    "kontor": (
        "Lars Bech <lb@kontorhuset.dk>",
        "Rengøring af kontor",
        "Vores kontor i Aarhus C på 300 m2 har brug for fast ugentlig rengøring af "
        "kontorerne og køkkenet.",
    ),
    "klage": (
        "Mette Hansen <mette.hansen@example.dk>",
        "Klage over rengøringen",
        "Rengøringen i går var ikke i orden: badeværelset var stadig beskidt og gulvene var "
        "ikke vasket.",
    ),
    "faktura": (
        "Rendetalje <info@rendetalje.dk>",
        "Faktura 2025-118",
        "Vedhæftet faktura for oktober. Beløbet 3.450 kr. bedes betalt inden 14 dage.",
    ),
    "nøgler": (
        "Rendetalje <info@rendetalje.dk>",
        "Nøgler til Søndergade 12",
        "Husk at hente nøglerne til Søndergade 12 hos naboen fredag morgen.",
    ),
    "apartment": (
        "John Carter <john.carter@example.com>",
        "Cleaning quote for my apartment",
        "Hi, I am moving out of my apartment in Aarhus and need an end of tenancy cleaning. "
        "Could you send me a quote?",
    ),
    "windows": (
        "Emma Stone <emma@smalloffice.com>",
        "Window cleaning",
        "Do you offer window cleaning for a small office? We have about twenty windows.",
    ),
    "no-show": (
        "Peter Lee <peter.lee@example.com>",
        "Complaint about last visit",
        "The cleaner did not show up on Tuesday and nobody called us. Please explain.",
    ),
    "invoice": (
        "Sarah Green <sarah@example.com>",
        "Invoice question",
        "I received an invoice for two visits but you only came once. Can you correct the invoice?",
    ),
    "klinik": (
        "Sofie Lund <sofie@lundklinik.dk>",
        "Erhvervsrengøring af klinik",
        "Vi driver en tandlægeklinik i Risskov og søger daglig erhvervsrengøring efter lukketid.",
    ),
    "trapper": (
        "Ejerforeningen Nørregade <bestyrelse@norregade.dk>",
        "Trappevask i opgangen",
        "Ejerforeningen ønsker tilbud på ugentlig trappevask i tre opgange.",
    ),
    "aflysning": (
        "Jens Olsen <jens.olsen@example.dk>",
        "Aflysning af aftale",
        "Jeg bliver desværre nødt til at aflyse rengøringen på torsdag, da jeg er syg.",
    ),
    "tæpper": (
        "Hanne Dahl <hanne@example.dk>",
        "Tæpperens",
        "Kan I også rense tæpper og polstrede møbler? Vi har en sofa med pletter.",
    ),
    "booking": (
        "Rendetalje <info@rendetalje.dk>",
        "Booking bekræftelse",
        "Tak for bookingen. Vi kommer mandag kl. 9 og regner med at være færdige kl. 13.",
    ),
    "copenhagen": (
        "Tom Baker <tom@example.com>",
        "Moving out cleaning in Copenhagen",
        "Do you also cover Copenhagen? My landlord requires a professional move-out clean.",
    ),
    "carpet": (
        "Lucy Gray <lucy@example.com>",
        "Carpet stains",
        "Our carpet has red wine stains. Can you remove stains from carpets?",
    ),
    "allergi": (
        "Rikke Juul <rikke@example.dk>",
        "Rengøringsmidler og allergi",
        "Min søn har allergi. Bruger I svanemærkede rengøringsmidler uden parfume?",
    ),
    "pris": (
        "Ole Berg <ole@example.dk>",
        "Pris på ugentlig rengøring",
        "Hvad koster ugentlig rengøring af et hus på 140 m2 i Viby?",
    ),
    "tidspunkt": (
        "Ida Krogh <ida@example.dk>",
        "Ændring af tidspunkt",
        "Kan vi rykke den faste rengøring fra onsdag til fredag fremover?",
    ),
    "nøglesæt": (
        "Mads Nielsen <mads@example.dk>",
        "Nøglesæt glemt",
        "Jeres medarbejder glemte vores nøglesæt i døren i går.",
    ),
}

# (query, the message expected among the first three)
QUERIES: list[tuple[str, str]] = [
    ("flytterengøring", "flytning"),
    ("pudse vinduer", "vinduer"),
    ("hovedrengøring jul", "jul"),
    ("rengøring kontor", "kontor"),
    ("klage rengøringen", "klage"),
    ("faktura oktober", "faktura"),
    ("nøglerne Søndergade", "nøgler"),
    ("moving out apartment", "apartment"),
    ("window cleaning office", "windows"),
    ("cleaner did not show up", "no-show"),
    ("invoice correct", "invoice"),
    ("tandlægeklinik", "klinik"),
    ("trappevask", "trapper"),
    ("aflyse", "aflysning"),
    ("rense tæpper", "tæpper"),
    ("carpet stains", "carpet"),
    ("allergi parfume", "allergi"),
    ("ugentlig rengøring pris", "pris"),
    ("landlord", "copenhagen"),
    ("syg torsdag", "aflysning"),
    ('"professional move-out"', "copenhagen"),
    ("glemt nøglesæt", "nøglesæt"),
    ("rykke rengøringen fredag", "tidspunkt"),
    ("flytte lejlighed Østerbro", "flytning"),
]

GOAL = 0.9
TOP = 3


def load(session: Session) -> dict[str, str]:
    """Store the messages through the services; their ids by key."""
    ids: dict[str, str] = {}
    for key, (sender, subject, body) in MESSAGES.items():
        name, address = parseaddr(sender)
        ours = address.endswith("@rendetalje.dk")
        customer = services.find_or_create_customer(
            session, "kunde@example.dk" if ours else address, None if ours else name
        )
        conversation = services.create_conversation(
            session, customer_id=customer.id, subject=subject
        )
        message = services.create_email_message(
            session,
            conversation_id=conversation.id,
            from_address=sender,
            to_address="kunde@example.dk" if ours else "info@rendetalje.dk",
            subject=subject,
            body=body,
            direction=Direction.OUTBOUND if ours else Direction.INBOUND,
        )
        ids[key] = message.id
    return ids


def top_three_share(session: Session, ids: dict[str, str]) -> tuple[float, list[str]]:
    """The share of queries whose expected message is among the first three, and the
    queries that missed."""
    missed = []
    for query, expected in QUERIES:
        found = services.search_messages(session, query, limit=TOP)
        if ids[expected] not in [hit.message_id for hit in found.hits]:
            missed.append(query)
    return 1 - len(missed) / len(QUERIES), missed
