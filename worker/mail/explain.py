"""Why a message was filed as it was: each classification rule, in order, and the lead.

``explain(message, labels, rules)`` re-runs the checks of ``classify`` one by one and
says for each whether it fired and why; the first that fired decided, the ones after
it were not reached. For a lead email it adds what the lead parser read, with the
label or shape behind each field. Pure, like ``classify``: it writes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from worker.mail.classify import (
    classify,
    customer_test,
    first_customer,
    is_bounce,
    lead_reading,
    noise_reason,
    normalized_address,
    skip_label,
)
from worker.mail.leads import READERS, LeadReading
from worker.mail.message import Classification, ParsedMessage
from worker.mail.rules import IngestRules, LeadSourceRule


@dataclass(frozen=True, slots=True)
class RuleCheck:
    number: int
    name: str
    fired: bool
    why: str


@dataclass(frozen=True, slots=True)
class Explanation:
    verdict: Classification
    checks: tuple[RuleCheck, ...]
    deciding: int  # number of the rule that decided
    lead_source: str | None  # the lead source rule's name, when one matched
    reading: LeadReading | None  # what the lead parser read (a lead rule, or --parser)


def explain(
    message: ParsedMessage,
    labels: Collection[str],
    rules: IngestRules,
    *,
    parser: str | None = None,
) -> Explanation:
    """See the module docstring; ``parser`` reads the message as that parser's lead
    whatever the rules say (to try a parser on a source not configured yet)."""
    sender = normalized_address(message.from_.email) if message.from_ else None
    rule = rules.lead_source_for(sender, message.subject) if sender else None
    checks = [
        _labels_check(labels, rules),
        _bounce_check(message),
        RuleCheck(
            3,
            "no sender",
            sender is None,
            "no usable From address" if sender is None else f"From {sender}",
        ),
        _lead_check(sender, message.subject, rules, rule),
        _own_check(message, sender, rules),
        _noise_check(message, sender, rules),
        RuleCheck(7, "inbound", True, "from the sender, as nothing above fired"),
    ]
    deciding = next(check.number for check in checks if check.fired)
    reading = None
    if parser is not None:
        fake = LeadSourceRule(name=parser, parser=parser, sender_domains=["invalid"])
        reading = READERS[parser](message, rules.phone_region, customer_test(message, fake, rules))
    elif rule is not None:
        reading = lead_reading(message, rule, rules)
    return Explanation(
        classify(message, labels, rules),
        tuple(checks),
        deciding,
        rule.name if rule else None,
        reading,
    )


def _labels_check(labels: Collection[str], rules: IngestRules) -> RuleCheck:
    label = skip_label(labels, rules)
    shown = ", ".join(sorted(labels)) or "none"
    if label is not None:
        return RuleCheck(1, "Gmail labels", True, f"label {label} (labels: {shown})")
    skipped = ", ".join(rules.skip_labels)
    return RuleCheck(1, "Gmail labels", False, f"none of {skipped} (labels: {shown})")


def _bounce_check(message: ParsedMessage) -> RuleCheck:
    if is_bounce(message):
        why = "a delivery report" if message.report else "a bounce from a mailer daemon"
        return RuleCheck(2, "bounce", True, why)
    return RuleCheck(2, "bounce", False, f"not a delivery report ({message.content_type})")


def _lead_check(
    sender: str | None, subject: str, rules: IngestRules, rule: LeadSourceRule | None
) -> RuleCheck:
    if rule is not None:
        subject_part = "any subject" if not rule.subject_patterns else "the subject matches"
        return RuleCheck(
            4, "lead source", True, f'"{rule.name}" ({rule.parser}): sender and {subject_part}'
        )
    if sender is None:
        return RuleCheck(4, "lead source", False, "no sender")
    reasons = []
    for source in rules.lead_sources:
        if not source.matches_sender(sender):
            reasons.append(f'"{source.name}": sender not among its senders')
        elif not source.matches_subject(subject):
            reasons.append(f'"{source.name}": sender matches, subject does not')
    return RuleCheck(4, "lead source", False, "; ".join(reasons) or "no lead sources")


def _own_check(message: ParsedMessage, sender: str | None, rules: IngestRules) -> RuleCheck:
    if sender is None or not rules.is_own(sender):
        return RuleCheck(5, "our own address", False, "the sender is not one of ours")
    customer = first_customer((*message.to, *message.cc), rules)
    if customer is None:
        return RuleCheck(5, "our own address", True, "outbound, but no recipient is a customer")
    return RuleCheck(5, "our own address", True, f"outbound to {customer.email}")


def _noise_check(message: ParsedMessage, sender: str | None, rules: IngestRules) -> RuleCheck:
    reason = noise_reason(message, sender, rules) if sender else None
    if reason is None:
        return RuleCheck(6, "noise", False, "not blocklisted, no robot sender, no bulk headers")
    return RuleCheck(6, "noise", True, reason)
