"""Replies written in the CRM and sent through Gmail: recording, states, the sent copy."""

from crm_core.replies.copies import (
    SentCopy,
    find_reply_copy,
    is_copy_of,
    matches_reply,
    normalised_text,
    threads_awaiting_copies,
)
from crm_core.replies.queries import (
    PENDING,
    MailboxReplies,
    Outgoing,
    ReplyLine,
    list_replies,
    outgoing,
    replies_needing_jobs,
    reply_report,
)
from crm_core.replies.record import reply, reply_subject
from crm_core.replies.states import (
    StartRefused,
    approve,
    back_to_queue,
    cancel,
    draft_deleted,
    fail,
    hold,
    mark_drafted,
    mark_sent,
    sent_in_last_day,
    start_send,
)

__all__ = [
    "PENDING",
    "MailboxReplies",
    "Outgoing",
    "ReplyLine",
    "SentCopy",
    "StartRefused",
    "approve",
    "back_to_queue",
    "cancel",
    "draft_deleted",
    "fail",
    "find_reply_copy",
    "hold",
    "is_copy_of",
    "list_replies",
    "mark_drafted",
    "mark_sent",
    "matches_reply",
    "normalised_text",
    "outgoing",
    "replies_needing_jobs",
    "reply",
    "reply_report",
    "reply_subject",
    "sent_in_last_day",
    "start_send",
    "threads_awaiting_copies",
]
