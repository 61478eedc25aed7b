"""Reading a lead email: labels first, then values by their shape, then the name fallbacks.

Each source module (``rengoring_nu``, ``leadpoint``, ``website_form``) supplies its
label table, footers and subject rules; the reading itself is the same for all:

1. labelled fields (``fields.find_fields``: the table, then labels read by meaning),
   in every layout the platforms use;
2. what the source reads from the subject (a name, a task);
3. for fields still missing, values by their shape (``shapes``): an address that is
   not the platform's, ours or a robot's; a valid phone number; "NNNN Town"; a size;
4. the name fallbacks (``names``).

``LeadReading.origins`` says for every field what produced it, which is what
``crm explain`` prints. A label's value that fails its shape is not kept ("Navn:
22 33 44 55" is a phone, not a name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from crm_core.normalize import normalize_phone
from worker.mail.leads.fields import Found, body_lines, find_fields, is_lead_end
from worker.mail.leads.labels import LabelTable
from worker.mail.leads.names import fallback_name
from worker.mail.leads.shapes import (
    candidate_lines,
    email_by_shape,
    phone_by_shape,
    postcode_town_by_shape,
    size_by_shape,
)
from worker.mail.leads.values import (
    clean_name,
    find_email,
    join_address,
    parse_int,
    parse_mailbox,
)
from worker.mail.message import LeadData, ParsedMessage

# Whether an address can be the customer: not ours, not the platform's, not a robot's.
IsCustomer = Callable[[str], bool]
# A source's reading of the subject: adds fields (with origin "subject") to ``found``.
SubjectReader = Callable[[str, dict[str, Found]], None]

_ROBOT_LOCAL_PART = re.compile(
    r"^(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?|notifications?)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class LeadSource:
    """What a source module tells the reader about its emails."""

    name: str
    labels: LabelTable
    footers: tuple[str, ...] = ()
    read_subject: SubjectReader | None = None
    # ``footers`` compiled once, when the source module is loaded, not per message.
    footer_patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        patterns = tuple(re.compile(p, re.IGNORECASE) for p in self.footers)
        object.__setattr__(self, "footer_patterns", patterns)


@dataclass(frozen=True, slots=True)
class LeadReading:
    lead: LeadData | None
    origins: Mapping[str, str] = field(default_factory=dict)


def default_is_customer(message: ParsedMessage) -> IsCustomer:
    """Without the classifier's rules: not the sender's domain, not a recipient, no robot."""
    platform = message.from_.email.rpartition("@")[2].lower() if message.from_ else ""
    recipients = {a.email.lower() for a in (*message.to, *message.cc)}

    def is_customer(email: str) -> bool:
        lowered = email.lower()
        local, _, domain = lowered.rpartition("@")
        return (
            domain != platform and lowered not in recipients and not _ROBOT_LOCAL_PART.match(local)
        )

    return is_customer


def read_lead(
    message: ParsedMessage,
    region: str,
    source: LeadSource,
    is_customer: IsCustomer | None = None,
) -> LeadReading:
    """The lead in ``message``, with what produced each field; see the module docstring."""
    is_customer = is_customer or default_is_customer(message)
    lines = body_lines(message.body_text)
    footers = source.footer_patterns
    found = find_fields(lines, source.labels, footers=footers)
    if source.read_subject is not None:
        source.read_subject(" ".join(message.subject.split()), found)
    _join_names(found)
    lead_lines = list(candidate_lines(lines, lambda line: is_lead_end(line, footers)))

    values: dict[str, object] = {}
    origins: dict[str, str] = {}

    def keep(key: str, value: object, origin: str) -> None:
        if value is not None and value != "" and key not in values:
            values[key] = value
            origins[key] = origin

    _read_person(found, lead_lines, region, is_customer, keep)
    _read_address(found, lead_lines, keep)
    size = parse_int(found["size_m2"].value) if "size_m2" in found else None
    keep("size_m2", size, found["size_m2"].origin if size is not None else "")
    keep("size_m2", size_by_shape(lead_lines), "shape: a size in m2 in the body")
    if "rooms" in found:
        keep("rooms", parse_int(found["rooms"].value), found["rooms"].origin)
    for key in ("property_type", "task_type", "preferred_dates", "message"):
        if key in found:
            keep(key, found[key].value, found[key].origin)
    if not ({"name", "email", "phone"} & values.keys()):
        return LeadReading(None, origins)
    if "name" not in values and (fallback := fallback_name(message, is_customer)) is not None:
        keep("name", *fallback)
    return LeadReading(LeadData(source=source.name, **values), origins)  # type: ignore[arg-type]


def _read_person(
    found: dict[str, Found],
    lines: list[str],
    region: str,
    is_customer: IsCustomer,
    keep: Callable[[str, object, str], None],
) -> None:
    name = found.get("name")
    if name is not None and (_DIGIT.search(name.value) or "@" in name.value):
        # "Navn: 22 33 44 55" or "Kontakt: anna@x.dk": a value in the wrong place.
        found.setdefault("contact", name)
        name = None
    if name is not None:
        keep("name", clean_name(name.value), name.origin)
    for key in ("email", "contact"):
        if key in found and (email := find_email(found[key].value)) and is_customer(email):
            keep("email", email, found[key].origin)
    if "sender" in found:  # "From: Anna Jensen <anna@example.com>"
        sender_name, sender_email = parse_mailbox(found["sender"].value)
        keep("name", clean_name(sender_name), found["sender"].origin)
        if sender_email and is_customer(sender_email):
            keep("email", sender_email, found["sender"].origin)
    keep(
        "email",
        email_by_shape(lines, lambda e: not is_customer(e)),
        "shape: an address in the body",
    )
    for key in ("phone", "contact"):
        phone = normalize_phone(found[key].value, region) if key in found else None
        if phone and (key == "phone" or phone.startswith("+")):  # a "contact" must be a number
            keep("phone", phone, found[key].origin)
    keep("phone", phone_by_shape(lines, region), "shape: a phone number in the body")


def _read_address(
    found: dict[str, Found], lines: list[str], keep: Callable[[str, object, str], None]
) -> None:
    street = found.get("address")
    if street is not None and "house_number" in found:
        number = found["house_number"].value
        if number not in street.value:
            street = Found(f"{street.value} {number}", street.origin)
    postcode, city = found.get("postcode"), found.get("city")
    address = join_address(
        street.value if street else None,
        postcode.value if postcode else None,
        city.value if city else None,
    )
    origins = [item.origin for item in (street, postcode, city) if item is not None]
    lacks_town = address and not postcode and postcode_town_by_shape([address]) is None
    town = postcode_town_by_shape(lines, with_street=False) if lacks_town else None
    if town and town not in str(address):
        address, origins = f"{address}, {town}", [*origins, "shape: NNNN Town in the body"]
    if not address:
        address = postcode_town_by_shape(lines)
        origins = ["shape: NNNN Town in the body"]
    keep("address", address, " + ".join(origins))


def _join_names(found: dict[str, Found]) -> None:
    """ "Fornavn" + "Efternavn" -> name; "Navn: Søren" + "Efternavn: Ødegaard" likewise."""
    first, last = found.pop("first_name", None), found.pop("last_name", None)
    name = found.get("name")
    if name is None and first is not None:
        name = first
    if name is not None and last is not None and last.value.lower() not in name.value.lower():
        name = Found(f"{name.value} {last.value}", f"{name.origin} + {last.origin}")
    elif name is None and last is not None:
        name = last
    if name is not None:
        found["name"] = name
