"""Reading a label by its words: "Kundenavn", "Navn på kunde" and "Your name" are names.

Every word of a label is split into known parts ("Kundenavn" = kunde + navn,
"Rengøringstype" = rengøring + s + type, "E-mailadresse" = email + adresse). The
parts that carry a meaning ("navn", "mail", "telefon", …) decide the field, in a
fixed order of precedence: a "Vejnavn" is an address, not a name; an "IP-adresse"
is nothing we keep; "Kundens telefon" is a phone. Words that only qualify ("din",
"kundens", "ønsket", "your", "på") may stand around them.

A label followed by a colon may also hold a few unknown words ("Hvor mange kvm skal
gøres rent?"), as long as the known ones outnumber them; a label without a colon
must be made of known words only, since it could as well be the start of a sentence.

To teach it a new word, add it to ``_HEADS`` (a word that names a field) or
``_MODIFIERS`` (a word that only qualifies); compounds of known words need nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Word parts -> the field they point at. Inflected forms are listed as written
# ("opgavens", "området") rather than stemmed: the vocabulary is small.
_HEADS: dict[str, frozenset[str]] = {
    "ignore": _words(
        """ip id kilde source cvr sag sagsnummer sagsnr ordre ordrenummer order url side
        siden page samtykke consent gdpr accept accepterer agent browser referer referrer
        emne subject pris price oprettet modtaget submitted sendt indsendt firma company
        virksomhed bruger user username nyhedsbrev newsletter lead leads entry formular
        form kundenummer kundenr reference referencenummer cpr betingelser terms vilkår
        privacy persondatapolitik ean leadnummer leadnr"""
    ),
    "email": _words("mail email mails emailadresse mailadresse"),
    "first_name": _words("fornavn first given firstname"),
    "last_name": _words("efternavn last surname family lastname"),
    "message": _words(
        """besked beskeden kommentar kommentarer beskrivelse bemærkning bemærkninger
        message comment comments henvendelse spørgsmål question questions details
        detaljer uddybning yderligere information info oplysninger note notes noter tekst
        text description additional andet inquiry enquiry request body"""
    ),
    "house_number": _words("husnummer husnr hus"),
    "address": _words(
        """adresse adressen address vej vejnavn gade gadenavn street beliggenhed location
        live bor"""
    ),
    "postcode": _words("postnummer postnr post zip zipcode postal postcode"),
    "phone": _words(
        """telefon telefonnummer telefonnr tlf tel mobil mobilnummer mobilnr phone mobile
        telephone cell cellphone nummer nr number kontaktnummer kontaktnr ringe call"""
    ),
    "name": _words("navn navnet name kontaktperson person kunde kunden customer hedder called"),
    "city": _words("by bynavn city town byen"),
    "size_m2": _words(
        """m2 kvm kvadratmeter areal arealet størrelse størrelsen size stor stort square
        sqm area meters metres big large"""
    ),
    "rooms": _words("værelser værelse rum rooms room bedrooms"),
    "property_type": _words(
        "bolig boligen boligtype ejendom ejendomstype property home house housing dwelling"
    ),
    "preferred_dates": _words(
        "tidspunkt hvornår when startdato opstart dato date dates time tid dag day uge week"
    ),
    "task_type": _words(
        """behov opgave opgaven opgavens opgavetype ydelse ydelsen service services
        rengøring rengøringen cleaning kategori branche category type typen job"""
    ),
}
# Words that qualify a label without changing what it means.
_MODIFIERS = _words(
    """din dit dine dig jeres your you the a an of on for to til på af og and or eller er
    is are det der den de hvad what hvor where how which hvilken hvilke ønsket ønskede ønsker
    ønskes preferred desired wanted full fulde fuldt antal kundens kontakt contact
    evt eventuelt optional valgfri valgfrit required påkrævet obligatorisk mange many
    much meget skal should be will gøres rengøres området område i in at ved with med om
    about ca approx kort short lang long primær primary anden second alternativ
    alternative hele whole nye ny new start code kode remote husets huset boligens
    lejligheden lejlighedens ejendommens stedets jobbets whats hvilket kan vi can we do does
    du we"""
)
# The order in which meanings win when a label holds several ("Kundens telefon" is a
# phone, "Opgavebeskrivelse" a message, "Boligareal" a size, "Vejnavn" an address).
_PRECEDENCE = (
    "ignore",
    "email",
    "first_name",
    "last_name",
    "message",
    "house_number",
    "address",
    "postcode",
    "phone",
    "size_m2",
    "rooms",
    "name",
    "city",
    "property_type",
    "preferred_dates",
    "task_type",
)
# A bare "Dato", "Date" or "Time" is when the form was sent, not when the customer
# wants us; these words make it a wish.
_WHEN_WORDS = _words(
    "ønsket ønskede ønsker ønskes preferred desired hvornår when start startdato opstart tidspunkt"
)
_PART_MEANING = {part: key for key, parts in _HEADS.items() for part in parts}
_PARTS = frozenset(_PART_MEANING) | _MODIFIERS
# The parts a compound is made of: words naming a field, and the few qualifiers that
# Danish writes together with them ("kontakttelefon", "ønsketdato"). Short function
# words ("er", "på", "i") are whole words only, or "tider" would read as "tid" + "er".
_COMPOUND_PARTS = frozenset(_PART_MEANING) | _words(
    "kontakt kundens ønsket start alternativ primær"
)
_LINKS = ("", "s", "e")  # Danish compounds join with nothing, -s- or -e-
_MAX_WORDS = 8
_MAX_LABEL_CHARS = 120  # a label is short; longer text is never read word by word
_MAX_WORD_CHARS = 40  # "Rengøringsadresseoplysninger" has 28
_WORD_SPLIT = re.compile(r"[\s/&+,]+|(?<=\w)-(?=\w)")
_POSSESSIVE = re.compile(r"['’]s\b")  # "What's your name?"
_DECORATION = re.compile(r"[()*?:.!\"'’#\[\]]")


@dataclass(frozen=True, slots=True)
class Meaning:
    key: str
    unknown_words: int  # words that are neither label parts nor qualifiers


@lru_cache(maxsize=8192)  # forms repeat their labels in every email
def label_meaning(label: str, *, max_unknown: int = 0) -> Meaning | None:
    """The field ``label`` introduces, read from its words, or None.

    Up to ``max_unknown`` words may be unknown, as long as the known ones outnumber them.
    """
    if len(label) > _MAX_LABEL_CHARS:
        return None
    words = [word for word in _WORD_SPLIT.split(_normalized(label)) if word]
    if not words or len(words) > _MAX_WORDS:
        return None
    meanings: set[str] = set()
    known = unknown = 0
    for word in words:
        parts = _split_word(word)
        if parts is None:
            unknown += 1
            continue
        known += 1
        meanings.update(_PART_MEANING[part] for part in parts if part in _PART_MEANING)
    if not meanings or unknown > max_unknown or (unknown and unknown >= known):
        return None
    bare_date = "preferred_dates" in meanings and not _WHEN_WORDS & set(words)
    if bare_date and meanings <= {"preferred_dates", "name", "ignore"}:
        meanings = {"ignore"}
    if "number" in words and meanings & {"rooms", "size_m2"}:
        meanings.discard("phone")  # "Number of rooms"
    if {"first_name", "last_name"} <= meanings:
        meanings = {"name"}  # "First and last name", "Fornavn og efternavn"
    return Meaning(next(key for key in _PRECEDENCE if key in meanings), unknown)


def _normalized(label: str) -> str:
    text = _POSSESSIVE.sub("", label.lower()).replace("e-mail", "email").replace("e mail", "email")
    text = text.replace("m²", "m2").replace("kvm.", "kvm")
    return " ".join(_DECORATION.sub(" ", text).split())


@lru_cache(maxsize=4096)
def _split_word(word: str) -> tuple[str, ...] | None:
    """``word`` as known parts ("kundenavn" -> ("kunde", "navn")), or None."""
    if word in _PARTS:
        return (word,)
    return _split_compound(word)


@lru_cache(maxsize=4096)
def _split_compound(word: str) -> tuple[str, ...] | None:
    if word in _COMPOUND_PARTS:
        return (word,)
    if len(word) > _MAX_WORD_CHARS:
        return None
    # Parts of a compound have three letters at least (the last may have two, "postnr"):
    # short words such as "by", "at" and "i" would split ordinary words ("tider").
    for end in range(len(word) - 2, 2, -1):
        head, rest = word[:end], word[end:]
        if head not in _COMPOUND_PARTS:
            continue
        for link in _LINKS:
            if rest.startswith(link) and len(rest) - len(link) >= 2:
                tail = _split_compound(rest[len(link) :])
                if tail is not None:
                    return (head, *tail)
    return None
