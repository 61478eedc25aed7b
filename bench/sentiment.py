"""Accuracy of the sentiment scorer on a labelled set of customer-mail sentences.

    python -m bench.sentiment [--show-errors]

``bench/data/sentiment_labelled.tsv``: label, language (da/en), text; written for this
project (complaints, praise, neutral requests and mixed sentences). Reports accuracy
overall and per language and label beside the trivial baseline that always answers the
most common label, and the cost of one score.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from pathlib import Path

from crm_core.insight.sentiment import score_text

DATA = Path(__file__).resolve().parent / "data" / "sentiment_labelled.tsv"


def load(path: Path = DATA) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, language, text = line.split("\t", 2)
        rows.append((label, language, text))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    rows = load()
    predicted = [score_text(text).label.value for _, _, text in rows]
    majority, _ = Counter(label for label, _, _ in rows).most_common(1)[0]
    print(f"{len(rows)} sentences: {dict(Counter((lang, lab) for lab, lang, _ in rows))}")
    print(f"{'subset':<16}{'n':>5}{'lexicon':>10}{'majority':>10}")
    subsets = {"all": rows, "da": [], "en": [], "negative": [], "neutral": [], "positive": []}
    for row in rows:
        subsets[row[1]].append(row)
        subsets[row[0]].append(row)
    right = {id(row): p == row[0] for row, p in zip(rows, predicted, strict=True)}
    for name, subset in subsets.items():
        if not subset:
            continue
        accuracy = sum(right[id(r)] for r in subset) / len(subset)
        base = sum(r[0] == majority for r in subset) / len(subset)
        print(f"{name:<16}{len(subset):>5}{accuracy:>10.1%}{base:>10.1%}")
    print(f"majority class: {majority}")
    confusion = Counter((row[0], p) for row, p in zip(rows, predicted, strict=True))
    print("confusion (true → predicted):", dict(sorted(confusion.items())))
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        for _, _, text in rows:
            score_text(text)
        timings.append((time.perf_counter() - start) / len(rows))
    print(f"median cost per sentence: {statistics.median(timings) * 1e6:.0f} µs")
    if args.show_errors:
        for row, p in zip(rows, predicted, strict=True):
            if p != row[0]:
                print(f"  {row[0]:>8} → {p:<8} {row[2]}")


if __name__ == "__main__":
    main()
