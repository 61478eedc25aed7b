"""Generated customers and messages for the search benchmark: Danish and English words
of a cleaning company's mail, common words far more often than rare ones."""

from __future__ import annotations

import hashlib


def _split(text: str, separator: str | None = None) -> list[str]:
    return text.split(separator)


FIRST_NAMES = _split(
    "Mette Anne Kirsten Hanne Susanne Lene Maria Marianne Camilla Louise Charlotte Pia "
    "Tina Sofie Ida Emma Freja Karen Rikke Julie Jens Peter Lars Michael Henrik Thomas "
    "Søren Jan Niels Anders Morten Jesper Mads Rasmus Christian Martin Ole Bo Frederik "
    "Kasper Jakob Mikkel Emil Oliver Lucas John Sarah Tom Lucy Emily"
)
LAST_NAMES = _split(
    "Nielsen Jensen Hansen Pedersen Andersen Christensen Larsen Sørensen Rasmussen "
    "Jørgensen Petersen Madsen Kristensen Olsen Thomsen Christiansen Poulsen Johansen "
    "Møller Mortensen Knudsen Jakobsen Mikkelsen Olesen Frederiksen Laursen Henriksen "
    "Lund Holm Schmidt Eriksen Kristiansen Clausen Simonsen Svendsen Andreasen Iversen "
    "Jeppesen Vestergaard Mogensen Nissen Lauridsen Frandsen Østergaard Jacobsen Dahl "
    "Bech Friis Krogh Juul Berg Carter Green Gray Baker Stone"
)
STREETS = _split(
    "Vestergade Østergade Nørregade Søndergade Algade Strandvejen Skovvej Parkvej "
    "Kirkevej Møllevej Banegårdsgade Frederiksberg Allé Åboulevarden Jægergårdsgade "
    "Nørrebrogade Amagerbrogade Vesterbrogade Randersvej Silkeborgvej Viborgvej"
)
CITIES = _split(
    "8000 Aarhus C|8200 Aarhus N|8210 Aarhus V|8240 Risskov|8260 Viby J|2100 København Ø|"
    "2200 København N|1620 København V|5000 Odense C|9000 Aalborg|7100 Vejle|8600 Silkeborg"
    "|",
)
COMPANY_SUFFIXES = ("ApS", "A/S", "I/S", "Klinik", "Ejendomme", "Tandlæger", "Advokater")

SUBJECTS = [
    "Tilbud på rengøring",
    "Flytterengøring",
    "Hovedrengøring",
    "Vinduespudsning",
    "Spørgsmål om pris",
    "Booking af rengøring",
    "Faktura",
    "Nøgler",
    "Ændring af aftale",
    "Klage",
    "Cleaning quote",
    "Window cleaning",
    "Invoice question",
    "Moving out cleaning",
    "Re: Tilbud på rengøring",
    "Re: Booking",
    "SV: Flytterengøring",
    "Tak for sidst",
]

# From most to least common: a body draws word i with a probability falling with i.
WORDS = _split(
    "og i på til af vi jeg det er en at med for kan har den vil gerne tak hej venlig "
    "hilsen rengøring rengøringen tilbud pris lejlighed hus huset kontor aftale mandag "
    "tirsdag onsdag torsdag fredag uge time timer kr m2 gang hver fast ugentlig "
    "hovedrengøring flytterengøring flytte flytter vinduer vinduerne vinduespudsning "
    "køkken køkkenet badeværelse badeværelset gulve gulvene ovn køleskab støvsugning "
    "the and to a for you we please thanks cleaning quote apartment office price booking "
    "tilbuddet prisen lejligheden kontoret aftalen nøgler nøglerne faktura fakturaen "
    "betaling kunde adresse telefon december januar februar marts april maj juni juli "
    "august september oktober november weekend morgen eftermiddag "
    "window windows invoice moving carpet stains tenancy landlord visit cleaner "
    "trappevask opgang opgangen ejerforening tæpper tæpperens polstrede møbler sofa "
    "pletter allergi parfume svanemærkede rengøringsmidler klinik klinikken tandlæge "
    "erhvervsrengøring institution børnehave skole vagtplan medarbejder medarbejderen "
    "aflyse aflysning syg ferie nøglesæt alarm kode port dørtelefon parkering "
    "vinduesrammer karme persienner gardiner lamper lysekroner emhætte fliser fuger kalk "
    "skimmel fugt kælder loft altan terrasse garage carport drivhus"
)

ONE_WORD = [
    "rengøringen",
    "vinduespudsning",
    "tæpperens",
    "fakturaen",
    "køleskab",
    "carpet",
    "invoice",
    "hovedrengøring",
    "trappevask",
    "nøglerne",
    "skimmel",
    "persienner",
]
TWO_WORDS = [
    "flytte rengøring",
    "pris tilbud",
    "vinduer kontor",
    "carpet stains",
    "ovn køleskab",
    "trappevask opgang",
    "allergi parfume",
    "skimmel kælder",
    "window cleaning",
    "nøgler fredag",
]
PHRASES = [
    '"flytte rengøring"',
    '"ugentlig rengøring"',
    '"window cleaning"',
    '"tak for"',
    '"polstrede møbler"',
    '"fast aftale"',
    '"moving carpet"',
    '"venlig hilsen"',
]


def misspelt(name: str) -> str:
    """A small typo in each word: one letter left out (never the first)."""
    words = []
    for word in name.split():
        cut = 1 + len(word) // 2
        words.append(word[:cut] + word[cut + 1 :] if len(word) > 3 else word)
    return " ".join(words)


VOCABULARY_SIZE = 20_000
FUNCTION_WORDS = 25  # "og", "i", "på" … come first in WORDS


def _filler(index: int) -> str:
    """A made-up word: letters only, so every parser sees it as a plain word."""
    digest = hashlib.md5(str(index).encode(), usedforsecurity=False).hexdigest()[:8]
    return digest.translate(str.maketrans("0123456789", "ghijklmnop"))


def vocabulary() -> list[str]:
    """Words by rank, most common first. Mail draws the word of rank r with a
    probability proportional to 1/r (Zipf), as natural text does: the function words
    lead, the cleaning words are spread from common ("rengøring") to rare
    ("persienner"), made-up words fill the long tail of a real vocabulary."""
    ranks: dict[int, str] = {}
    for position, word in enumerate(WORDS[:FUNCTION_WORDS]):
        ranks[position + 1] = word
    for k, word in enumerate(WORDS[FUNCTION_WORDS:]):
        rank = FUNCTION_WORDS + 1 + k + round(1.06**k)
        ranks[rank] = word
    filler = iter(range(10**9))
    return [ranks.get(rank) or _filler(next(filler)) for rank in range(1, VOCABULARY_SIZE + 1)]
