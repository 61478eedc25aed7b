"""Deciding what a message is: from a customer, to a customer, a bounce, or noise.

``classify(message, labels, rules)`` is pure and never raises. The rules apply in
this order; the first that fits decides:

1. Gmail labels: any of ``rules.skip_labels`` (SPAM, TRASH, DRAFT, CHAT) -> SKIP
   ``label:spam`` / ``label:trash`` / ``label:draft``.
2. Delivery-status notifications -> BOUNCE, never a customer. Recognised by a parsed
   ``message.report``, a top-level multipart/report that is not a read receipt, or a
   mailer-daemon/postmaster sender with a delivery-failure subject (old-style
   bounces). ``bounced_message_ids`` is the report's original Message-ID, else
   In-Reply-To, else the last of References.
3. No usable From address -> SKIP ``invalid:no-sender``.
4. Lead sources: sender and subject match a ``LeadSourceRule`` -> its parser runs.
   This comes before the own-address rule because the website form sends from our
   own domain, and before the noise rules because lead platforms send from
   no-reply addresses with List-Unsubscribe headers.
   The customer is the lead's email, else the message's Reply-To when it points at
   a person (not us, not the platform, not a no-reply address) -> INBOUND with
   ``lead``. A lead that names no such address (say a name and a phone only) ->
   SKIP ``lead:unlinked:<source name>`` with ``lead`` set: ingestion keeps it as a
   lead without a customer. A message in which the parser finds no person at all
   -> SKIP ``lead:unparseable:<source name>``.
5. From one of our own addresses or domains -> OUTBOUND; the customer is the first
   To, then Cc, recipient that is not ours, not noise and not blocklisted. With no
   such recipient (internal mail, mail to ourselves) -> SKIP ``internal``.
   Direction comes from the From address only: a message to ourselves carries
   both the SENT and INBOX labels.
6. Noise, in this order: sender blocklisted (address or domain) -> ``blocklist``;
   local part is a noise word ("no-reply", "mailer-daemon", …) -> ``noise:no-reply``;
   bulk headers -> ``bulk:list-unsubscribe``, ``bulk:list-id``, ``bulk:precedence``
   (bulk, list, junk), ``bulk:auto-submitted`` (anything but "no"; this includes
   out-of-office replies).
7. Otherwise INBOUND from the sender.

Addresses are compared case-insensitively (normalised with ``normalize_email``);
the ``Address`` handed back keeps the spelling of the message.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import replace

from crm_core.normalize import normalize_email
from worker.mail.leads import PARSERS, READERS, IsCustomer, LeadReading
from worker.mail.message import Address, Classification, Kind, LeadData, ParsedMessage
from worker.mail.rules import IngestRules, LeadSourceRule

_BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (?:status notification|failure|has failed)"
    r"|mail delivery (?:failed|subsystem)|returned mail|failure notice|non-?delivery"
    r"|kunne ikke leveres|ikke leveret|leveringsfejl",
    re.IGNORECASE,
)
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})


def classify(message: ParsedMessage, labels: Collection[str], rules: IngestRules) -> Classification:
    """What ``message`` is, given its Gmail ``labels``; see the module docstring."""
    try:
        return _classify(message, labels, rules)
    except Exception as exc:  # the contract is "never raises"; keep the mailbox moving
        return Classification(Kind.SKIP, skip_reason=f"error:{type(exc).__name__}")


def _classify(
    message: ParsedMessage, labels: Collection[str], rules: IngestRules
) -> Classification:
    if (label := skip_label(labels, rules)) is not None:
        return _skip(f"label:{label.lower()}")
    if is_bounce(message):
        return Classification(Kind.BOUNCE, bounced_message_ids=_bounced_ids(message))

    sender = normalized_address(message.from_.email) if message.from_ else None
    if message.from_ is None or sender is None:
        return _skip("invalid:no-sender")

    rule = rules.lead_source_for(sender, message.subject)
    if rule is not None:
        return _lead(message, rule, rules)

    if rules.is_own(sender):
        customer = first_customer((*message.to, *message.cc), rules)
        if customer is None:
            return _skip("internal")
        return Classification(Kind.OUTBOUND, customer=customer)

    if (reason := noise_reason(message, sender, rules)) is not None:
        return _skip(reason)
    return Classification(Kind.INBOUND, customer=message.from_)


def _skip(reason: str, lead: LeadData | None = None) -> Classification:
    return Classification(Kind.SKIP, skip_reason=reason, lead=lead)


def normalized_address(email: str) -> str | None:
    """The comparable (lower-case) form of ``email``, or None if it is no address."""
    try:
        return normalize_email(email)
    except Exception:  # InvalidEmailError, or anything the validator trips over
        return None


def skip_label(labels: Collection[str], rules: IngestRules) -> str | None:
    """The first of the configured skip labels (SPAM, TRASH, …) the message carries."""
    present = {label.strip().upper() for label in labels}
    return next((label for label in rules.skip_labels if label in present), None)


# --- bounces -----------------------------------------------------------------


def is_bounce(message: ParsedMessage) -> bool:
    if message.report is not None:
        return True
    if message.content_type == "multipart/report":
        # Read receipts (disposition-notification) share the container; they are
        # not bounces. Without the parameter we cannot tell, and assume a bounce.
        full_type = message.headers.get("content-type", "").lower()
        return "disposition-notification" not in full_type
    if message.from_ is None:
        return False
    local = message.from_.email.rpartition("@")[0].lower()
    return local in _BOUNCE_SENDERS and bool(_BOUNCE_SUBJECT.search(message.subject))


def _bounced_ids(message: ParsedMessage) -> tuple[str, ...]:
    candidates = (
        message.report.original_message_id if message.report else None,
        message.in_reply_to,
        message.references[-1] if message.references else None,
    )
    for candidate in candidates:
        cleaned = (candidate or "").strip().strip("<>").strip()
        if cleaned:
            return (cleaned,)
    return ()


# --- leads -------------------------------------------------------------------


def _lead(message: ParsedMessage, rule: LeadSourceRule, rules: IngestRules) -> Classification:
    unparseable = f"lead:unparseable:{rule.name}"
    try:
        lead = PARSERS[rule.parser](
            message, rules.phone_region, customer_test(message, rule, rules)
        )
    except Exception:  # a parser bug must not hide the message: account for it
        return _skip(unparseable)
    if lead is None:
        return _skip(unparseable)
    lead = replace(lead, source=rule.name)
    customer = lead_customer(message, lead, rule, rules)
    if customer is None:
        # Nobody to file it under; the lead is still kept, unlinked, with this reason.
        return _skip(f"lead:unlinked:{rule.name}", lead)
    return Classification(Kind.INBOUND, customer=customer, lead=lead)


def lead_reading(message: ParsedMessage, rule: LeadSourceRule, rules: IngestRules) -> LeadReading:
    """What the rule's parser reads in ``message``, with what produced each field."""
    return READERS[rule.parser](message, rules.phone_region, customer_test(message, rule, rules))


def customer_test(message: ParsedMessage, rule: LeadSourceRule, rules: IngestRules) -> IsCustomer:
    """Whether an address in a lead email can be its customer (see ``_is_person``)."""
    platform = _domain(message.from_.email) if message.from_ else ""
    return lambda email: _is_person(email, platform, rule, rules)


def lead_customer(
    message: ParsedMessage, lead: LeadData, rule: LeadSourceRule, rules: IngestRules
) -> Address | None:
    """The lead's own address (the parser kept only a person's), else the Reply-To's."""
    if lead.email:
        return Address(lead.email, lead.name or "")
    is_customer = customer_test(message, rule, rules)
    reply_to = next((a for a in message.reply_to if is_customer(a.email)), None)
    if reply_to is None:
        return None
    return Address(reply_to.email, lead.name or reply_to.name)


def _is_person(email: str, platform_domain: str, rule: LeadSourceRule, rules: IngestRules) -> bool:
    """Whether ``email`` can be the customer of a lead: a valid address that is not
    ours, not the platform's (the sender's domain or any of the rule's senders) and
    not a machine's."""
    normalized = normalized_address(email)
    return (
        normalized is not None
        and _domain(normalized) != platform_domain
        and not rule.matches_sender(normalized)
        and not rules.is_own(normalized)
        and not rules.is_noise(normalized)
        and not rules.is_blocked(normalized)
    )


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


# --- outbound ----------------------------------------------------------------


def first_customer(recipients: Iterable[Address], rules: IngestRules) -> Address | None:
    for recipient in recipients:
        normalized = normalized_address(recipient.email)
        if normalized is None:
            continue
        if rules.is_own(normalized) or rules.is_noise(normalized) or rules.is_blocked(normalized):
            continue
        return recipient
    return None


# --- noise -------------------------------------------------------------------


def noise_reason(message: ParsedMessage, sender: str, rules: IngestRules) -> str | None:
    if rules.is_blocked(sender):
        return "blocklist"
    if rules.is_noise(sender):
        return "noise:no-reply"
    headers = message.headers
    if headers.get("list-unsubscribe", "").strip():
        return "bulk:list-unsubscribe"
    if headers.get("list-id", "").strip():
        return "bulk:list-id"
    if _first_token(headers.get("precedence", "")) in _BULK_PRECEDENCE:
        return "bulk:precedence"
    auto_submitted = _first_token(headers.get("auto-submitted", ""))
    if auto_submitted and auto_submitted != "no":
        return "bulk:auto-submitted"
    return None


def _first_token(value: str) -> str:
    """The first token of a header value: "auto-replied; owner=…" is "auto-replied"."""
    return value.split(";", 1)[0].strip().strip('"').lower()
