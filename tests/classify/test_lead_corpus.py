"""The lead corpus: name, email and phone found in at least 95 % of the lead emails,
and never a value the message does not state (the platform's own phone or address
taken for the customer's). bench/lead_fields.py prints the same figures per field."""

from __future__ import annotations

import pytest

from bench.lead_fields import CORPUS, FIELDS, load_expected, results, score

GOAL = 0.95


def test_every_message_has_its_expectation() -> None:
    files = {path.name for path in CORPUS.glob("*.eml")}
    assert len(files) >= 40
    assert files == set(load_expected()["messages"])


@pytest.mark.parametrize("key", ["name", "email", "phone"])
def test_goal_per_field(key: str) -> None:
    _, scores = score()
    tally = scores[key]
    assert tally.precision >= GOAL and tally.recall >= GOAL, "\n".join(tally.misses)


def test_no_field_is_invented() -> None:
    """Where the message states no value, none is given (all scored fields)."""
    invented = [
        f"{message}: {key} = {got[key]!r}"
        for message, want, got in results()
        for key in FIELDS
        if want[key] is None and got[key] is not None
    ]
    assert invented == []


def test_every_lead_is_from_its_source() -> None:
    wrong = [message for message, want, got in results() if got["source"] != want["source"]]
    assert wrong == []
