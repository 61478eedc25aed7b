"""Lead scoring: 0–100 per lead with the three reasons that weigh most (see model.py)."""

from crm_core.scoring.features import FEATURES, LeadFacts, features_of, postcode_area
from crm_core.scoring.model import Reason, Score, ScoringModel
from crm_core.scoring.service import (
    RescoreSummary,
    count_scored,
    lead_score,
    lead_scores,
    load_model,
    rebuild_scores,
    request_rescore,
    rescore_if_requested,
    rescore_wanted,
    score_leads,
    scoring_state,
)

__all__ = [
    "FEATURES",
    "LeadFacts",
    "Reason",
    "RescoreSummary",
    "Score",
    "ScoringModel",
    "count_scored",
    "features_of",
    "lead_score",
    "lead_scores",
    "load_model",
    "postcode_area",
    "rebuild_scores",
    "request_rescore",
    "rescore_if_requested",
    "rescore_wanted",
    "score_leads",
    "scoring_state",
]
