"""How a customer's sentiment scores are shown: the newest with an arrow, then the last few."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

# A change smaller than this between the last two scores is no change.
STEADY = 0.1


def trend_text(trend: Sequence[tuple[datetime, float]]) -> str:
    """E.g. ``-0.58 ↓ negative (last 3: +0.73 +0.58 -0.58)``; "-" without scores."""
    if not trend:
        return "-"
    scores = [score for _, score in trend]
    latest = scores[-1]
    arrow = "→"
    if len(scores) > 1 and abs(latest - scores[-2]) >= STEADY:
        arrow = "↑" if latest > scores[-2] else "↓"
    label = "positive" if latest >= 0.25 else "negative" if latest <= -0.25 else "neutral"
    history = " ".join(f"{score:+.2f}" for score in scores)
    return f"{latest:+.2f} {arrow} {label} (last {len(scores)}: {history})"
