"""Precision and recall of lead field extraction on the lead corpus.

    python -m bench.lead_fields            # print the table and each miss
    python -m bench.lead_fields --record   # and add a row to bench/RESULTS.md

The corpus (tests/classify/lead_corpus/*.eml, with expected.json beside it) holds
lead emails written in the styles of Rengøring.nu/Leadmail, Leadpoint, WordPress
Contact Form 7, Gravity Forms, Elementor, Typeform and Jotform, Danish and English,
plain and HTML. Each message goes through the real parser and classifier with the
default lead sources plus the corpus's own (Typeform and Jotform senders).

Per field: precision = correct values / values given, recall = correct values /
values expected. A value given where the message states none (for instance the
platform's phone number taken for the customer's) counts against precision. The
email scored is the customer's address, which is what the lead is filed under.
tests/classify/test_lead_corpus.py holds the figures to the goal.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worker.mail.classify import classify
from worker.mail.message import ParsedMessage
from worker.mail.parse import parse_message
from worker.mail.rules import IngestRules, LeadSourceRule

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "classify" / "lead_corpus"
MAILBOX = "info@rendetalje.dk"
FIELDS = ("name", "email", "phone", "address", "size_m2")
Value = str | int | None


@dataclass
class FieldScore:
    given: int = 0
    expected: int = 0
    correct: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.given if self.given else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0


def corpus_rules(expected: Mapping[str, Any]) -> IngestRules:
    base = IngestRules.for_mailbox(MAILBOX, [], ["rendetalje.dk"])
    extra = [LeadSourceRule.model_validate(rule) for rule in expected.get("lead_sources", [])]
    return base.model_copy(update={"lead_sources": [*base.lead_sources, *extra]})


def load_expected(corpus: Path = CORPUS) -> dict[str, Any]:
    return dict(json.loads((corpus / "expected.json").read_text(encoding="utf-8")))


def read_message(path: Path) -> ParsedMessage:
    parsed = parse_message(path.read_bytes())
    if not isinstance(parsed, ParsedMessage):
        raise ValueError(f"{path.name}: {parsed.reason}")
    return parsed


def extracted(message: ParsedMessage, rules: IngestRules) -> dict[str, Value]:
    """The scored fields as the classifier leaves them, plus the lead's source."""
    verdict = classify(message, ["INBOX"], rules)
    lead = verdict.lead
    return {
        "source": lead.source if lead else None,
        "name": lead.name if lead else None,
        "email": verdict.customer.email if verdict.customer else None,
        "phone": lead.phone if lead else None,
        "address": lead.address if lead else None,
        "size_m2": lead.size_m2 if lead else None,
    }


def _same(got: Value, want: Value) -> bool:
    if isinstance(got, str) and isinstance(want, str):
        return " ".join(got.split()).casefold() == " ".join(want.split()).casefold()
    return got == want


def results(corpus: Path = CORPUS) -> Iterator[tuple[str, dict[str, Value], dict[str, Value]]]:
    expected = load_expected(corpus)
    rules = corpus_rules(expected)
    for name, want in sorted(expected["messages"].items()):
        yield name, want, extracted(read_message(corpus / name), rules)


def score(corpus: Path = CORPUS) -> tuple[int, dict[str, FieldScore]]:
    scores = {name: FieldScore() for name in ("source", *FIELDS)}
    count = 0
    for message, want, got in results(corpus):
        count += 1
        for key, tally in scores.items():
            given, wanted = got.get(key), want.get(key)
            tally.given += given is not None
            tally.expected += wanted is not None
            if given is not None and wanted is not None and _same(given, wanted):
                tally.correct += 1
            elif given is not None or wanted is not None:
                tally.misses.append(f"{message}: {key} {given!r}, expected {wanted!r}")
    return count, scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="add a row to bench/RESULTS.md")
    args = parser.parse_args()
    count, scores = score()
    print(f"{count} lead emails in {CORPUS}")
    print(f"{'field':<10} {'precision':>9} {'recall':>7}  given/expected/correct")
    for key, tally in scores.items():
        print(
            f"{key:<10} {tally.precision:>9.1%} {tally.recall:>7.1%}  "
            f"{tally.given}/{tally.expected}/{tally.correct}"
        )
    for tally in scores.values():
        for miss in tally.misses:
            print("  miss:", miss)
    if args.record:
        from bench.common import append_result, machine, today

        header = ["date", "machine", "messages"] + [f"{key} P / R" for key in FIELDS]
        row = [today(), machine(), str(count)] + [
            f"{scores[key].precision:.0%} / {scores[key].recall:.0%}" for key in FIELDS
        ]
        append_result("Lead field extraction (bench/lead_fields.py)", header, row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
