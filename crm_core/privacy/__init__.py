"""Requests from data subjects (GDPR articles 15, 17 and 20): what is held about a
person, and erasing it."""

from crm_core.privacy.erase import ErasureResult, erase_subject, reclaim_sqlite_pages
from crm_core.privacy.export import (
    QUARANTINE_SCAN_LIMIT,
    SubjectData,
    find_subject,
    gather_subject_data,
    raw_of_ledger_rows,
)
from crm_core.privacy.keys import AddressHasher, file_hasher
from crm_core.privacy.suppression import SUPPRESSED_REASON, is_suppressed

__all__ = [
    "QUARANTINE_SCAN_LIMIT",
    "SUPPRESSED_REASON",
    "AddressHasher",
    "ErasureResult",
    "SubjectData",
    "erase_subject",
    "file_hasher",
    "find_subject",
    "gather_subject_data",
    "is_suppressed",
    "raw_of_ledger_rows",
    "reclaim_sqlite_pages",
]
