"""The label vocabulary of lead emails: which words introduce which field.

Two ways to know a label:

- ``COMMON_LABELS`` (extended per source): exact spellings, matched at the start of a
  line. They also allow the loosest layout, "Navn Anna Jensen" without a colon.
- ``label_meaning`` (``meaning.py``): a label not in the table is read by its words,
  so "Kundenavn", "Navn på kunde" or "Your e-mail" need no entry here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from worker.mail.leads.meaning import Meaning, label_meaning

# Field key -> the label variants that introduce it. Keys are LeadData field names
# plus a few that are combined later ("postcode", "city", "sender", "first_name",
# "last_name", "house_number"); "ignore" marks labels whose value we do not keep
# but which must end the previous free-text field.
LabelTable = Mapping[str, Sequence[str]]

# The Danish labels every source uses in some spelling; sources extend this table.
COMMON_LABELS: dict[str, tuple[str, ...]] = {
    "name": ("Navn", "Fulde navn", "Dit navn", "Kundens navn", "Kontaktperson"),
    "email": (
        "Email",
        "E-mail",
        "E-mailadresse",
        "E-mail adresse",
        "Emailadresse",
        "Email-adresse",
        "Mailadresse",
        "Mail",
        "Din e-mail",
    ),
    "phone": (
        "Telefon",
        "Telefonnummer",
        "Telefonnr.",
        "Telefon nr.",
        "Tlf.",
        "Tlf",
        "Tlf. nr.",
        "Tlf.nr.",
        "Mobil",
        "Mobilnummer",
        "Mobilnr.",
        "Dit telefonnummer",
    ),
    "address": ("Adresse", "Vejnavn", "Adresse på opgaven", "Opgavens adresse"),
    "postcode": ("Postnr.", "Postnr", "Postnummer", "Post nr.", "Postnr. og by", "Postnr./by"),
    "city": ("By",),
    "property_type": ("Boligtype", "Type bolig", "Ejendomstype"),
    "task_type": ("Behov", "Opgave", "Type rengøring", "Rengøringstype", "Ydelse"),
    "size_m2": (
        "Hvor stort er området",
        "Hvor stor er boligen",
        "Størrelse",
        "Areal",
        "Boligareal",
        "Antal m2",
        "Antal kvadratmeter",
        "Kvadratmeter",
    ),
    "rooms": ("Antal rum", "Værelser", "Antal værelser"),
    "preferred_dates": (
        "Ønsket dato",
        "Ønsket tidspunkt",
        "Ønsket startdato",
        "Hvornår",
        "Hvornår skal opgaven udføres",
    ),
    "message": (
        "Besked",
        "Kommentar",
        "Kommentarer",
        "Yderligere information",
        "Yderligere oplysninger",
        "Bemærkninger",
        "Beskrivelse",
    ),
    # Seen in lead emails but not kept; listed so they end the field before them.
    "ignore": (
        "Kilde",
        "Lead ID",
        "Lead-ID",
        "Leadnummer",
        "Sagsnummer",
        "Oprettet",
        "Modtaget",
        "Dato",
        "Pris",
        "Emne",
        "IP",
        "IP-adresse",
    ),
}


__all__ = ["COMMON_LABELS", "LabelTable", "Meaning", "extend_labels", "label_meaning"]


def extend_labels(base: LabelTable, **extra: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``base`` with more variants per key (new keys allowed)."""
    table = {key: tuple(variants) for key, variants in base.items()}
    for key, variants in extra.items():
        table[key] = (*table.get(key, ()), *variants)
    return table
