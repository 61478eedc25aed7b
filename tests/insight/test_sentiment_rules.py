"""The sentiment scorer on its own: languages, negation, "but", quoted mail."""

from __future__ import annotations

import pytest

from crm_core.insight.sentiment import score_message, score_text
from crm_core.statuses import Sentiment


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Vi er meget tilfredse med rengøringen", Sentiment.POSITIVE),
        ("Vi er ikke tilfredse med rengøringen", Sentiment.NEGATIVE),
        ("Jeg er ikke særlig glad for resultatet", Sentiment.NEGATIVE),
        ("I am happy with the cleaning", Sentiment.POSITIVE),
        ("I am not happy with the cleaning", Sentiment.NEGATIVE),
        ("We weren't satisfied at all", Sentiment.NEGATIVE),
        ("Ingen problemer, alt var perfekt", Sentiment.POSITIVE),
        ("Rengøringen var fin, men vinduerne var beskidte", Sentiment.NEGATIVE),
        ("Kan I komme på tirsdag? Tak", Sentiment.NEUTRAL),
        ("Could you send me a quote, please? Thanks", Sentiment.NEUTRAL),
        # "bad" is Danish too (asked): Danish text is read with the Danish list only.
        ("Jeg bad om et tilbud på flytterengøring", Sentiment.NEUTRAL),
    ],
)
def test_labels(text: str, label: Sentiment) -> None:
    assert score_text(text).label is label


def test_negation_turns_the_score_around() -> None:
    assert score_text("tilfreds").value > 0 > score_text("ikke tilfreds").value
    assert score_text("happy").value > 0 > score_text("not happy").value
    assert score_text("problemer").value < 0 < score_text("ingen problemer").value


def test_scores_stay_within_bounds() -> None:
    assert score_text("fantastisk " * 50).value <= 1
    assert score_text("elendigt " * 50).value >= -1
    assert score_text("").value == 0 and score_text("").label is Sentiment.NEUTRAL


def test_quoted_mail_and_signature_are_not_the_customers_words() -> None:
    body = (
        "Hej\n\nDet var desværre ikke godt nok, der var stadig beskidt under sengene.\n\n"
        "Mvh\nMette\nGlad kunde siden 2019\n\n"
        "Den 3. okt. 2025 kl. 10.12 skrev Rendetalje <info@rendetalje.dk>:\n"
        "> Tusind tak, vi glæder os til at gøre det fantastisk rent for jer!\n"
    )
    assert score_message(body).label is Sentiment.NEGATIVE
    assert score_text(body).value > score_message(body).value


def test_accuracy_on_the_labelled_set_beats_the_majority_class() -> None:
    """The set of bench/sentiment.py: the scorer stays well above always-"negative"."""
    from collections import Counter
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "data" / "sentiment_labelled.tsv"
    rows = [
        line.split("\t", 2)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(rows) >= 150 and {language for _, language, _ in rows} == {"da", "en"}
    right = sum(score_text(text).label.value == label for label, _, text in rows)
    majority = Counter(label for label, _, _ in rows).most_common(1)[0][1]
    assert right / len(rows) >= 0.8 > majority / len(rows)
