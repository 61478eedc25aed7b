"""The ledger of received messages: staging, outcomes, quarantine."""

from crm_core.inbox.service import (
    PENDING_AFTER_RETRIES,
    LedgerRef,
    StagedMessage,
    claim_received_message,
    claim_received_messages,
    get_received_message,
    list_received,
    outcome_counts,
    quarantined_ids,
    raw_head,
    record_outcome,
    record_outcomes,
    reset_for_retry,
    stage_messages,
    still_pending,
)

__all__ = [
    "PENDING_AFTER_RETRIES",
    "LedgerRef",
    "StagedMessage",
    "claim_received_message",
    "claim_received_messages",
    "get_received_message",
    "list_received",
    "outcome_counts",
    "quarantined_ids",
    "raw_head",
    "record_outcome",
    "record_outcomes",
    "reset_for_retry",
    "stage_messages",
    "still_pending",
]
