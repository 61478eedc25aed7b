"""The configurable part of classification: who we are, what is noise, where leads come from.

``IngestRules`` is the ``[ingest]`` section of config.toml; every field has a default,
so an empty section (or none) works. Entries are normalised when loaded (addresses and
domains lower-cased, labels upper-cased, regexes compiled once to catch mistakes), and
unknown keys are rejected so a typo is reported instead of silently ignored.

``own_addresses`` starts empty: the app adds the company mailbox and its aliases with
``IngestRules.with_mailbox`` (or builds the rules with ``IngestRules.for_mailbox``), so
the mailbox is configured in one place only.

A configured ``[[ingest.lead_sources]]`` list replaces the default list as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crm_core.errors import InvalidEmailError
from crm_core.normalize import normalize_email
from worker.mail.lead_parser_names import PARSER_NAMES

DEFAULT_NOISE_LOCAL_PARTS: tuple[str, ...] = (
    "no-reply",
    "noreply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "do_not_reply",
    "mailer-daemon",
    "postmaster",
    "bounce",
    "bounces",
    "notification",
    "notifications",
    "newsletter",
    "nyhedsbrev",
)

# CHAT: Google Chat/Hangouts transcripts, which a Takeout export (and the API) holds as
# messages; they are not mail from customers.
DEFAULT_SKIP_LABELS: tuple[str, ...] = ("SPAM", "TRASH", "DRAFT", "CHAT")

# Characters that separate a noise word from the rest of a local part:
# "no-reply-xyz", "bounces+abc=example.com", "calendar.notification".
_LOCAL_PART_SEPARATORS = "-_.+="


def _default_lead_sources() -> list[LeadSourceRule]:
    return [
        LeadSourceRule(
            name="rengoring.nu",
            parser="rengoring_nu",
            # Rengøring.nu leads are relayed by Leadmail; accept the platform itself too.
            sender_domains=["leadmail.no", "rengoring.nu"],
            subject_patterns=[r"reng(?:ø|o|oe)ring\.nu"],
        ),
        LeadSourceRule(
            name="leadpoint",
            parser="leadpoint",
            sender_domains=["leadpoint.dk"],
            # Subjects name the trade and the town ("Rengøring Aarhus"): any subject.
        ),
        LeadSourceRule(
            name="website",
            parser="website_form",
            # The form plugin's own senders: every message from them is a form post.
            sender_addresses=["wordpress@rendetalje.dk", "formular@rendetalje.dk"],
        ),
        LeadSourceRule(
            name="website",
            parser="website_form",
            # Forms that send as the mailbox itself. Anchored at the start so that a
            # reply ("Re: Ny henvendelse …") from staff stays outbound.
            sender_domains=["rendetalje.dk"],
            subject_patterns=[
                r"^\s*(?:ny\s+)?henvendelse\s+fra\s+(?:kontakt)?formular",
                r"^\s*kontaktformular\b",
                r"^\s*(?:new\s+)?(?:message|submission)\s+from\s+(?:the\s+)?contact\s+form",
            ],
        ),
    ]


def _lower_all(values: Iterable[str]) -> list[str]:
    return [value.strip().lower() for value in values if value.strip()]


def _domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _domain_matches(domain: str, wanted: Iterable[str]) -> bool:
    """True when ``domain`` is one of ``wanted`` or a subdomain of one."""
    return any(domain == item or domain.endswith("." + item) for item in wanted)


def _check_address(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidEmailError as exc:
        raise ValueError(str(exc)) from None


@lru_cache(maxsize=256)
def compile_subject_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


class LeadSourceRule(BaseModel):
    """Messages from these senders, with a matching subject, are leads for ``parser``.

    A sender matches when its address is in ``sender_addresses`` or its domain is (a
    subdomain of) one in ``sender_domains``. The subject matches when any of
    ``subject_patterns`` is found in it (Python regex, case-insensitive); an empty list
    accepts any subject. ``name`` becomes ``LeadData.source``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    parser: str
    sender_domains: list[str] = Field(default_factory=list)
    sender_addresses: list[str] = Field(default_factory=list)
    subject_patterns: list[str] = Field(default_factory=list)

    @field_validator("parser")
    @classmethod
    def _known_parser(cls, value: str) -> str:
        if value not in PARSER_NAMES:
            names = ", ".join(PARSER_NAMES)
            raise ValueError(f"unknown parser {value!r}; expected one of: {names}")
        return value

    @field_validator("sender_domains")
    @classmethod
    def _clean_domains(cls, values: list[str]) -> list[str]:
        return [value.lstrip("@") for value in _lower_all(values)]

    @field_validator("sender_addresses")
    @classmethod
    def _clean_addresses(cls, values: list[str]) -> list[str]:
        return [_check_address(value) for value in values if value.strip()]

    @field_validator("subject_patterns")
    @classmethod
    def _valid_patterns(cls, values: list[str]) -> list[str]:
        for pattern in values:
            try:
                compile_subject_pattern(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return values

    @model_validator(mode="after")
    def _has_sender(self) -> LeadSourceRule:
        # A rule without senders would turn any message with a matching subject into
        # a lead, including mail from customers quoting that subject.
        if not self.sender_domains and not self.sender_addresses:
            raise ValueError("a lead source needs sender_domains or sender_addresses")
        return self

    def matches_sender(self, email: str) -> bool:
        """``email`` must be normalised (lower-case)."""
        return email in self.sender_addresses or _domain_matches(
            _domain_of(email), self.sender_domains
        )

    def matches_subject(self, subject: str) -> bool:
        if not self.subject_patterns:
            return True
        return any(compile_subject_pattern(p).search(subject) for p in self.subject_patterns)


class IngestRules(BaseModel):
    """The ``[ingest]`` section: everything classification needs to know about us."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    own_addresses: list[str] = Field(default_factory=list)
    own_domains: list[str] = Field(default_factory=list)
    noise_local_parts: list[str] = Field(default_factory=lambda: list(DEFAULT_NOISE_LOCAL_PARTS))
    blocklist: list[str] = Field(default_factory=list)  # "x@y.dk" or "spam.example"
    skip_labels: list[str] = Field(default_factory=lambda: list(DEFAULT_SKIP_LABELS))
    phone_region: str = "DK"
    lead_sources: list[LeadSourceRule] = Field(default_factory=_default_lead_sources)

    @classmethod
    def for_mailbox(
        cls,
        address: str,
        aliases: Iterable[str] = (),
        own_domains: Iterable[str] = (),
        **fields: Any,
    ) -> IngestRules:
        """Rules for one mailbox: ``for_mailbox("info@rendetalje.dk", [], ["rendetalje.dk"])``."""
        return cls(**fields).with_mailbox(address, aliases, own_domains)

    def with_mailbox(
        self, address: str, aliases: Iterable[str] = (), own_domains: Iterable[str] = ()
    ) -> IngestRules:
        """A copy that also counts ``address``, ``aliases`` and ``own_domains`` as our own."""
        data = self.model_dump()
        data["own_addresses"] = [*self.own_addresses, address, *aliases]
        data["own_domains"] = [*self.own_domains, *own_domains]
        return type(self).model_validate(data)

    @field_validator("own_addresses")
    @classmethod
    def _clean_own_addresses(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(_check_address(value) for value in values if value.strip()))

    @field_validator("own_domains")
    @classmethod
    def _clean_own_domains(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(value.lstrip("@") for value in _lower_all(values)))

    @field_validator("noise_local_parts")
    @classmethod
    def _clean_noise(cls, values: list[str]) -> list[str]:
        return _lower_all(values)

    @field_validator("blocklist")
    @classmethod
    def _clean_blocklist(cls, values: list[str]) -> list[str]:
        cleaned = []
        for value in _lower_all(values):
            if value.startswith("@"):
                value = value[1:]
            cleaned.append(_check_address(value) if "@" in value else value)
        return cleaned

    @field_validator("skip_labels")
    @classmethod
    def _clean_labels(cls, values: list[str]) -> list[str]:
        return [value.strip().upper() for value in values if value.strip()]

    @field_validator("phone_region")
    @classmethod
    def _clean_region(cls, value: str) -> str:
        region = value.strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", region):
            raise ValueError(f"expected a two-letter country code such as 'DK', got {value!r}")
        return region

    # The predicates below take a normalised (lower-case) address.

    def is_own(self, email: str) -> bool:
        return email in self.own_addresses or _domain_matches(_domain_of(email), self.own_domains)

    def is_blocked(self, email: str) -> bool:
        return email in self.blocklist or _domain_matches(_domain_of(email), self.blocklist)

    def is_noise(self, email: str) -> bool:
        """True for machine senders: the local part is, starts or ends with a noise word."""
        local = email.rpartition("@")[0]
        for word in self.noise_local_parts:
            if local == word:
                return True
            if local.startswith(word) and local[len(word)] in _LOCAL_PART_SEPARATORS:
                return True
            if local.endswith(word) and local[-len(word) - 1] in _LOCAL_PART_SEPARATORS:
                return True
        return False

    def lead_source_for(self, email: str, subject: str) -> LeadSourceRule | None:
        """The first lead source whose sender and subject both match, if any."""
        for rule in self.lead_sources:
            if rule.matches_sender(email) and rule.matches_subject(subject):
                return rule
        return None
