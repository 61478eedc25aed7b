"""What can go wrong talking to Gmail, sorted by what the caller should do about it."""

from __future__ import annotations

import json
import socket

import httplib2  # type: ignore[import-untyped]
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import BatchError, HttpError

# 403s that mean "slow down", not "forbidden".
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class GmailError(Exception):
    """Base class of the errors below."""


class NeedsReauthError(GmailError):
    """The refresh token was revoked or expired (``invalid_grant``); a person must act."""


class GmailUnavailableError(GmailError):
    """Gmail kept failing or throttling after every retry; try the sync again later."""


class GmailRefusedError(GmailError):
    """Gmail answered with an error that retrying will not fix (400, 403 forbidden …)."""


class HistoryExpiredError(GmailError):
    """The stored history id is older than Gmail keeps history for (404)."""


class CredentialsUnavailableError(GmailError):
    """No usable credentials file for the mailbox (missing, unreadable, wrong shape)."""


class WrongAccountError(GmailError):
    """The credentials belong to another mailbox than the one being synced."""


class LeaseLostError(GmailError):
    """Another process took over this mailbox's sync (our lease expired)."""


def status_of(exc: HttpError) -> int:
    """The HTTP status; 0 for a batch answer that could not be read at all."""
    return int(exc.resp.status) if exc.resp is not None else 0


def reason_of(exc: HttpError) -> str | None:
    """The first ``errors[].reason`` of a Google error body, if there is one."""
    try:
        body = json.loads(exc.content)
        errors = body["error"].get("errors") or []
        reason = errors[0].get("reason") if errors else None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None
    return str(reason) if reason else None


def is_rate_limited(exc: HttpError) -> bool:
    status = status_of(exc)
    return status == 429 or (status == 403 and reason_of(exc) in RATE_LIMIT_REASONS)


def is_retryable_http(exc: HttpError) -> bool:
    """429, 403 rate limits and 5xx go away by waiting; everything else does not."""
    return is_rate_limited(exc) or status_of(exc) >= 500


def is_retryable_transport(exc: BaseException) -> bool:
    """Connection resets, timeouts, DNS hiccups, a truncated batch answer."""
    if isinstance(exc, RefreshError):
        return bool(getattr(exc, "retryable", False))
    return isinstance(exc, (OSError, socket.timeout, httplib2.HttpLib2Error, TransportError))


def is_retryable_answer(exc: BaseException) -> bool:
    """Gmail answered, and the answer says "later" (429, 403 rate limit, 5xx)."""
    return isinstance(exc, HttpError) and not isinstance(exc, BatchError) and is_retryable_http(exc)


def is_insufficient_scope(exc: BaseException) -> bool:
    """403: the token lacks the scope the call needs (gmail.send, gmail.compose)."""
    if not isinstance(exc, HttpError) or status_of(exc) != 403:
        return False
    return reason_of(exc) in ("insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT")


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, BatchError):  # a malformed batch answer (an HttpError subclass)
        return True
    if isinstance(exc, HttpError):
        return is_retryable_http(exc)
    return is_retryable_transport(exc)


def is_invalid_grant(exc: BaseException) -> bool:
    """A RefreshError saying the grant is gone (revoked, expired, password changed)."""
    if not isinstance(exc, RefreshError):
        return False
    details = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(details, dict) and details.get("error") == "invalid_grant":
        return True
    return "invalid_grant" in str(exc.args[0] if exc.args else "")
