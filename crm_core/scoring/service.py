"""Scoring leads: rebuild the model from history, score leads, list them by score.

- ``rebuild_scores``: one pass over every lead's facts trains the model (decided leads
  only) and scores every lead; only scores that changed are written. Idempotent.
- ``score_leads``: score a few leads (new ones) with the stored model: reads the model's
  counts and those leads' facts, never the other leads.
- ``request_rescore`` / ``rescore_if_requested``: outcomes (a quote accepted, a booking
  made, a status set) bump a generation counter in the same transaction; the rescore
  job rebuilds only when the model is older than the newest request, so a burst of
  outcomes followed by a burst of jobs rebuilds once or twice, not once per outcome.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_core.models import LeadScore, LeadScoreCount, LeadScoringState
from crm_core.models.types import utcnow
from crm_core.scoring.facts import lead_facts
from crm_core.scoring.features import features_of
from crm_core.scoring.model import Reason, Score, ScoringModel

_STATE_ID = 1
_MODEL_CACHE = "crm_core.scoring.model"
# One rebuild at a time (PostgreSQL advisory lock, held to the end of the transaction):
# a second rebuild waits, then finds the model already new. SQLite has one writer anyway.
_REBUILD_LOCK = 0x1EAD5C0


@dataclass(frozen=True, slots=True)
class RescoreSummary:
    trained_on: int  # decided leads
    converted: int
    base_rate: float
    scored: int
    changed: int


def _insert(session: Session, table: Any) -> Any:
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table)


def _state(session: Session) -> LeadScoringState:
    statement = (
        _insert(session, LeadScoringState.__table__)
        .values(id=_STATE_ID, leads=0, converted=0, requested=0, built=0)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    session.execute(statement)
    state = session.get(LeadScoringState, _STATE_ID, populate_existing=True)
    assert state is not None
    return state


def load_model(session: Session) -> ScoringModel:
    """The stored model (its counts table is small: one row per feature value)."""
    cached = session.info.get(_MODEL_CACHE)
    if isinstance(cached, ScoringModel):
        return cached
    state = session.get(LeadScoringState, _STATE_ID)
    model = ScoringModel(leads=state.leads, converted=state.converted) if state else ScoringModel()
    for row in session.execute(select(LeadScoreCount)).scalars():
        model.counts[(row.feature, row.value)] = (row.leads, row.converted)
    session.info[_MODEL_CACHE] = model
    return model


def _save_model(session: Session, model: ScoringModel, now: datetime) -> None:
    session.execute(delete(LeadScoreCount))
    rows = [
        {"feature": feature, "value": value, "leads": leads, "converted": won}
        for (feature, value), (leads, won) in sorted(model.counts.items())
    ]
    for start in range(0, len(rows), 1000):
        session.execute(insert(LeadScoreCount), rows[start : start + 1000])
    state = _state(session)
    state.leads, state.converted, state.trained_at = model.leads, model.converted, now
    session.info[_MODEL_CACHE] = model


def _write_scores(session: Session, scores: dict[str, Score], now: datetime) -> int:
    """Upsert the scores that differ from the stored ones; returns how many changed."""
    stored = {
        row.lead_id: (row.score, row.reasons)
        for row in session.execute(
            select(LeadScore.lead_id, LeadScore.score, LeadScore.reasons).where(
                LeadScore.lead_id.in_(list(scores))
            )
            if len(scores) <= 2000
            else select(LeadScore.lead_id, LeadScore.score, LeadScore.reasons)
        )
    }
    rows = []
    for lead_id, score in sorted(scores.items()):
        reasons = [reason.as_dict() for reason in score.reasons]
        if stored.get(lead_id) != (score.score, reasons):
            rows.append(
                {"lead_id": lead_id, "score": score.score, "reasons": reasons, "scored_at": now}
            )
    for start in range(0, len(rows), 1000):
        statement = _insert(session, LeadScore.__table__)
        statement = statement.on_conflict_do_update(
            index_elements=["lead_id"],
            set_={
                "score": statement.excluded.score,
                "reasons": statement.excluded.reasons,
                "scored_at": statement.excluded.scored_at,
            },
        )
        session.execute(statement, rows[start : start + 1000])
    return len(rows)


def _one_rebuild_at_a_time(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_REBUILD_LOCK)))


def rebuild_scores(session: Session, now: datetime | None = None) -> RescoreSummary:
    """Train the model on every decided lead and score every lead (one pass over the leads).

    The requests for a rescore seen at the start are honoured by it (a later one is not:
    its outcome may not be in what this rebuild reads)."""
    _one_rebuild_at_a_time(session)
    now = now or utcnow()
    session.flush()
    generation = _state(session).requested
    model = ScoringModel()
    features: dict[str, dict[str, str]] = {}
    for facts in lead_facts(session):
        values = features_of(facts, now)
        features[facts.lead_id] = values
        if facts.decided(now):
            model.add(values, facts.converted)
    _save_model(session, model, now)
    scores = {lead_id: model.score(values) for lead_id, values in features.items()}
    changed = _write_scores(session, scores, now)
    session.execute(
        update(LeadScoringState)
        .where(LeadScoringState.id == _STATE_ID)
        .values(
            built=case(
                (LeadScoringState.built < generation, generation), else_=LeadScoringState.built
            )
        )
    )
    return RescoreSummary(model.leads, model.converted, model.base_rate, len(scores), changed)


def score_leads(session: Session, lead_ids: Collection[str], now: datetime | None = None) -> None:
    """Score these leads with the stored model (new leads, a lead just linked)."""
    if not lead_ids:
        return
    now = now or utcnow()
    session.flush()
    model = load_model(session)
    scores = {
        facts.lead_id: model.score(features_of(facts, now))
        for facts in lead_facts(session, lead_ids)
    }
    _write_scores(session, scores, now)


def request_rescore(session: Session) -> None:
    """An outcome changed (quote, booking, lead status): the model should be rebuilt."""
    _state(session)
    session.execute(
        update(LeadScoringState)
        .where(LeadScoringState.id == _STATE_ID)
        .values(requested=LeadScoringState.requested + 1)
    )


def rescore_if_requested(session: Session, now: datetime | None = None) -> RescoreSummary | None:
    """Rebuild unless a rebuild that started after the newest request has run already."""
    _one_rebuild_at_a_time(session)
    state = _state(session)
    generation = state.requested
    if state.built >= generation:
        return None
    return rebuild_scores(session, now)


def scoring_state(session: Session) -> LeadScoringState | None:
    return session.get(LeadScoringState, _STATE_ID)


def rescore_wanted(session: Session) -> bool:
    """An outcome changed since the last rebuild (a request no rebuild has honoured)."""
    state = scoring_state(session)
    return state is not None and state.requested > state.built


def lead_score(session: Session, lead_id: str) -> tuple[int, list[Reason]] | None:
    row = session.get(LeadScore, lead_id)
    if row is None:
        return None
    return row.score, [Reason.from_dict(reason) for reason in row.reasons]


def lead_scores(session: Session, lead_ids: Sequence[str]) -> dict[str, tuple[int, list[Reason]]]:
    if not lead_ids:
        return {}
    rows = session.execute(select(LeadScore).where(LeadScore.lead_id.in_(list(lead_ids)))).scalars()
    return {row.lead_id: (row.score, [Reason.from_dict(r) for r in row.reasons]) for row in rows}


def count_scored(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(LeadScore)).scalar_one())
