"""Requests from data subjects (GDPR articles 15 and 20): what is held about a person."""

from crm_core.privacy.export import (
    QUARANTINE_SCAN_LIMIT,
    SubjectData,
    find_subject,
    gather_subject_data,
    raw_of_ledger_rows,
)

__all__ = [
    "QUARANTINE_SCAN_LIMIT",
    "SubjectData",
    "find_subject",
    "gather_subject_data",
    "raw_of_ledger_rows",
]
