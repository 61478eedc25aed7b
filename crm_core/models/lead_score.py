"""Lead scores and the model they come from (see crm_core.scoring).

- ``lead_scores``: one row per scored lead: 0–100 and the three reasons that weigh most.
- ``lead_score_counts``: the model: per feature value, how many decided leads had it
  and how many of those converted (a booking, an accepted quote or won).
- ``lead_scoring_state``: one row: the totals the model was trained on, and the
  generation counters that let a burst of rescore requests rebuild the model once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base
from crm_core.models.types import UTCDateTime, json_list, utcnow


class LeadScore(Base):
    __tablename__ = "lead_scores"

    lead_id: Mapped[str] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[int] = mapped_column(Integer)
    # [{"feature", "value", "weight", "leads", "converted"}], strongest first.
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=json_list)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# `crm lead list --by-score` reads the best leads first.
Index("ix_lead_scores_score", LeadScore.score.desc(), LeadScore.lead_id)


class LeadScoreCount(Base):
    __tablename__ = "lead_score_counts"

    feature: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    leads: Mapped[int] = mapped_column(Integer)
    converted: Mapped[int] = mapped_column(Integer)


class LeadScoringState(Base):
    __tablename__ = "lead_scoring_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leads: Mapped[int] = mapped_column(Integer, default=0)  # decided leads trained on
    converted: Mapped[int] = mapped_column(Integer, default=0)
    # Outcomes bump `requested`; a rebuild that read generation g sets `built` to g.
    requested: Mapped[int] = mapped_column(Integer, default=0)
    built: Mapped[int] = mapped_column(Integer, default=0)
    trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
