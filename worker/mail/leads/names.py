"""Who the lead is from, when the lead itself does not say: the name fallbacks.

The order, first that gives a name wins:

1. the lead body (a name label, or first and last name joined; a platform's subject
   such as "Anna Jensen fra Rengøring.nu" counts as the body);
2. the display name of the message's Reply-To, when that address is the customer's;
3. the display name of From, when it is not the platform's, ours or a robot's (web
   forms often send as "Anna Jensen <wordpress@…>");
4. none here: the customer is then created with a readable form of the address
   ("soren.odegaard@…" becomes "Soren Odegaard", ``crm_core.customers``), which a
   real name replaces as soon as one arrives.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from worker.mail.message import Address, ParsedMessage

# Words in a display name that say it is a system, not a person.
_SYSTEM_WORDS = frozenset(
    " ".join(
        (
            "wordpress formular form forms kontaktformular contact kontakt website hjemmeside",
            "lead leads leadmail leadpoint noreply no-reply info support service kundeservice",
            "team jotform typeform elementor gravity notification notifications system mailer",
            "admin webmaster via rengøring.nu rengoring.nu platform booking bestilling tilbud",
        )
    ).split()
)
_NAME_WORD = re.compile(r"[^\W\d_][^\W\d_'’.\-]*\.?", re.UNICODE)
_MAX_NAME_WORDS = 5


def person_name(display_name: str, excluded_words: Iterable[str] = ()) -> str | None:
    """``display_name`` when it reads as a person's name, else None."""
    name = " ".join(display_name.replace('"', " ").split())
    words = name.split()
    if not words or len(words) > _MAX_NAME_WORDS:
        return None
    lowered = {word.lower() for word in words}
    if lowered & _SYSTEM_WORDS or lowered & {word.lower() for word in excluded_words}:
        return None
    if not all(_NAME_WORD.fullmatch(word) for word in words):
        return None
    return name


def domain_words(address: str) -> set[str]:
    """The words of an address's domain: "leads@mail.leadpoint.dk" -> {"mail", "leadpoint"}."""
    domain = address.rpartition("@")[2].lower()
    return {part for part in re.split(r"[.\-]", domain)[:-1] if part}


def fallback_name(
    message: ParsedMessage, is_customer: Callable[[str], bool]
) -> tuple[str, str] | None:
    """``(name, origin)`` from Reply-To, then From, following the order above."""
    platform = domain_words(message.from_.email) if message.from_ else set()
    ours = {word for a in (*message.to, *message.cc) for word in domain_words(a.email)}
    for reply_to in message.reply_to:
        if is_customer(reply_to.email) and (name := person_name(reply_to.name, platform)):
            return name, "Reply-To display name"
    sender: Address | None = message.from_
    if sender is not None and (name := person_name(sender.name, platform | ours)):
        return name, "From display name"
    return None
