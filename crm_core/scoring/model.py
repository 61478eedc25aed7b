"""The scoring model: a smoothed naive Bayes over the features, in odds form.

Like Odoo's predictive lead scoring, each feature value's conversion rate is counted
from the company's own decided leads, and the features are combined as independent
evidence. In odds form every feature contributes one additive weight,

    logit(score) = logit(base) + EVIDENCE · Σ [logit(rate of value) − logit(base)],

which is exactly naive Bayes (P(v|won)/P(v|lost) = odds(won|v)/odds(won)) and makes
each reason a number a person can check: "source rengoring.nu: 12 of 30 converted".

Little history, and features without signal, must not give wild scores, so:
- the base rate is shrunk towards PRIOR_RATE, as if PRIOR_LEADS leads had been seen;
- each value's rate is shrunk towards the feature's mean by empirical Bayes: per
  feature, how much the values' rates differ beyond what chance gives with so few
  leads each (the between-value variance τ² of a beta-binomial, by the method of
  moments) decides how far a value may stand from the mean, value by value:
  ``shrink = τ² / (τ² + p(1−p)/n)``. A feature that carries no signal (the weekday,
  when it does not matter) has τ² ≈ 0 and weighs nothing, however many values it
  has; a value seen twice stays near the mean; a strong feature keeps its weight.
With no history at all every weight is 0 and every lead scores the prior.

The features are not independent (earlier bookings and earlier revenue say much the
same), and plain naive Bayes then counts the same evidence twice and pushes scores to
0 or 100. EVIDENCE < 1 damps the sum; it changes no ranking, only how sure scores look.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_core.scoring.features import FEATURE_LABELS

PRIOR_RATE = 0.25  # a service business books about one lead in four
PRIOR_LEADS = 10
EVIDENCE = 0.6
REASONS = 3


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


@dataclass(frozen=True, slots=True)
class Reason:
    """One feature value of a lead and how much it moved the score (log-odds)."""

    feature: str
    value: str
    weight: float
    leads: int  # decided leads with this value
    converted: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "value": self.value,
            "weight": round(self.weight, 3),
            "leads": self.leads,
            "converted": self.converted,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(
            str(data["feature"]),
            str(data["value"]),
            float(data["weight"]),
            int(data["leads"]),
            int(data["converted"]),
        )

    def text(self) -> str:
        """E.g. "+ source rengoring.nu: 12 of 30 converted"."""
        label = FEATURE_LABELS.get(self.feature, self.feature)
        sign = "+" if self.weight > 0.005 else "−" if self.weight < -0.005 else "·"
        seen = f"{self.converted} of {self.leads} converted" if self.leads else "no history yet"
        return f"{sign} {label} {self.value}: {seen}"


@dataclass(frozen=True, slots=True)
class Score:
    score: int  # 0–100
    probability: float
    reasons: tuple[Reason, ...]


@dataclass
class ScoringModel:
    """Counts of decided leads: in all, and per (feature, value)."""

    leads: int = 0
    converted: int = 0
    counts: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    _spread: dict[str, tuple[float, float]] | None = field(default=None, repr=False)

    @classmethod
    def train(cls, examples: Iterable[tuple[Mapping[str, str], bool]]) -> ScoringModel:
        """Count (features, converted) pairs of decided leads: one pass, no state kept."""
        model = cls()
        for features, converted in examples:
            model.add(features, converted)
        return model

    def add(self, features: Mapping[str, str], converted: bool) -> None:
        self._spread = None
        self.leads += 1
        self.converted += int(converted)
        for key in features.items():
            leads, won = self.counts.get(key, (0, 0))
            self.counts[key] = (leads + 1, won + int(converted))

    @property
    def base_rate(self) -> float:
        return (self.converted + PRIOR_RATE * PRIOR_LEADS) / (self.leads + PRIOR_LEADS)

    def spread(self) -> dict[str, tuple[float, float]]:
        """Per feature: (mean rate, τ² = variance of the values' true rates beyond chance)."""
        if self._spread is not None:
            return self._spread
        totals: dict[str, list[tuple[int, int]]] = {}
        for (feature, _), pair in self.counts.items():
            totals.setdefault(feature, []).append(pair)
        spread = {}
        for feature, pairs in totals.items():
            leads = sum(n for n, _ in pairs)
            mean = sum(c for _, c in pairs) / leads
            observed = sum(n * (c / n - mean) ** 2 for n, c in pairs) / leads
            chance = (len(pairs) - 1) * mean * (1 - mean) / leads
            spread[feature] = (mean, max(0.0, observed - chance))
        self._spread = spread
        return spread

    def score(self, features: Mapping[str, str]) -> Score:
        base = self.base_rate
        spread = self.spread()
        reasons = []
        for name, value in features.items():
            leads, won = self.counts.get((name, value), (0, 0))
            weight = 0.0
            mean, tau2 = spread.get(name, (base, 0.0))
            if leads and tau2 > 0:
                shrink = tau2 / (tau2 + mean * (1 - mean) / leads)
                rate = base + shrink * (won / leads - mean)
                weight = _logit(rate) - _logit(base)
            reasons.append(Reason(name, value, weight, leads, won))
        probability = _sigmoid(_logit(base) + EVIDENCE * sum(reason.weight for reason in reasons))
        # Strongest first; among equals (no history) the more telling features first.
        order = {name: rank for rank, name in enumerate(FEATURE_LABELS)}
        reasons.sort(key=lambda r: (-abs(round(r.weight, 6)), -r.leads, order.get(r.feature, 99)))
        return Score(round(probability * 100), probability, tuple(reasons[:REASONS]))
