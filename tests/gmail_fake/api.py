"""Gmail REST API routes (``/gmail/v1/users/{userId}/...``) and the per-call pipeline:
authenticate -> resolve user -> injected fault -> quota -> handler."""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .faults import FaultInjector, Quota
from .mailbox import (
    DEFAULT_PAGE_SIZE,
    MESSAGE_FORMATS,
    THREAD_FORMATS,
    Mailbox,
    MailStore,
)
from .oauth import TokenAuthority
from .protocol import (
    ApiError,
    ApiRequest,
    ApiResponse,
    rate_limited,
    unauthenticated,
)
from .stats import RequestRecord, Usage

API_PREFIX = "/gmail/v1/users/"

Handler = Callable[[Mailbox, ApiRequest, tuple[str, ...]], ApiResponse]


@dataclass(frozen=True)
class Route:
    http_method: str
    pattern: re.Pattern[str]
    name: str  # quota / stats name, e.g. "messages.get"
    handler: Handler
    scopes: frozenset[str] = frozenset()  # one of these is needed (none: any Gmail scope)


_SCOPE = "https://www.googleapis.com/auth/"
_FULL = "https://mail.google.com/"
SEND_SCOPES = frozenset({_SCOPE + "gmail.send", _SCOPE + "gmail.compose", _FULL})
COMPOSE_SCOPES = frozenset({_SCOPE + "gmail.compose", _FULL})


def _int_param(req: ApiRequest, name: str, default: int) -> int:
    value = req.param(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(
            400, f"Invalid value '{value}' for {name}", location=name, location_type="parameter"
        ) from None


def _bool_param(req: ApiRequest, name: str) -> bool:
    return (req.param(name) or "").lower() in ("true", "1")


def _format_param(req: ApiRequest, allowed: tuple[str, ...]) -> str:
    fmt = (req.param("format") or "full").lower()
    if fmt not in allowed:
        raise ApiError(
            400, f"Invalid value at 'format' ({fmt})", location="format", location_type="parameter"
        )
    return fmt


def _get_profile(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    return ApiResponse.json(box.profile())


def _list_messages(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    q = req.param("q") or ""
    searched = _RFC822_QUERY.search(q)
    if searched:
        return ApiResponse.json(box.search_rfc822_id(searched.group(1)))
    include = _bool_param(req, "includeSpamTrash") or "in:anywhere" in q.lower()
    return ApiResponse.json(
        box.list_messages(
            req.params("labelIds"),
            include_spam_trash=include,
            max_results=_int_param(req, "maxResults", DEFAULT_PAGE_SIZE),
            page_token=req.param("pageToken"),
        )
    )


_RFC822_QUERY = re.compile(r"rfc822msgid:(\S+)", re.IGNORECASE)


def _send_message(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    return ApiResponse.json(box.outbox.send(req.json_body()))


def _create_draft(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    return ApiResponse.json(box.outbox.create_draft(req.json_body()))


def _get_draft(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    return ApiResponse.json(box.outbox.get_draft(args[0]))


def _list_drafts(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    return ApiResponse.json(box.outbox.list_drafts())


def _send_draft(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    return ApiResponse.json(box.outbox.send_draft(req.json_body()))


def _delete_draft(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    box.outbox.delete_draft(args[0])
    return ApiResponse.no_content()


def _get_message(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    fmt = _format_param(req, MESSAGE_FORMATS)
    return ApiResponse.json(box.get_message(args[0], fmt, req.params("metadataHeaders")))


def _modify_message(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    body = req.json_body()
    try:
        box.modify_labels(
            args[0], add=body.get("addLabelIds") or (), remove=body.get("removeLabelIds") or ()
        )
    except KeyError:
        raise ApiError(404) from None
    return ApiResponse.json(box.get_message(args[0], "minimal"))


def _get_attachment(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    return ApiResponse.json(box.get_attachment(args[0], args[1]))


def _get_thread(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    fmt = _format_param(req, THREAD_FORMATS)
    return ApiResponse.json(box.get_thread(args[0], fmt, req.params("metadataHeaders")))


def _list_history(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    raw_start = req.param("startHistoryId")
    if not raw_start:
        raise ApiError(
            400,
            "Missing required parameter: startHistoryId",
            reason="required",
            location="startHistoryId",
            location_type="parameter",
        )
    start = _int_param(req, "startHistoryId", 0)
    return ApiResponse.json(
        box.list_history(
            start,
            history_types=req.params("historyTypes"),
            label_id=req.param("labelId"),
            max_results=_int_param(req, "maxResults", DEFAULT_PAGE_SIZE),
            page_token=req.param("pageToken"),
        )
    )


def _list_labels(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    return ApiResponse.json(box.list_labels())


def _watch(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    return ApiResponse.json(box.watch(req.json_body()))


def _stop(box: Mailbox, req: ApiRequest, args: tuple[str, ...]) -> ApiResponse:
    box.stop()
    return ApiResponse.no_content()


_SEG = r"([^/]+)"

ROUTES: tuple[Route, ...] = tuple(
    Route(verb, re.compile(f"^{pattern}$"), name, handler)
    for verb, pattern, name, handler in (
        ("POST", "messages/send", "messages.send", _send_message),
        ("GET", "drafts", "drafts.list", _list_drafts),
        ("POST", "drafts", "drafts.create", _create_draft),
        ("POST", "drafts/send", "drafts.send", _send_draft),
        ("GET", f"drafts/{_SEG}", "drafts.get", _get_draft),
        ("DELETE", f"drafts/{_SEG}", "drafts.delete", _delete_draft),
        ("GET", "profile", "getProfile", _get_profile),
        ("GET", "messages", "messages.list", _list_messages),
        ("GET", f"messages/{_SEG}", "messages.get", _get_message),
        ("POST", f"messages/{_SEG}/modify", "messages.modify", _modify_message),
        ("GET", f"messages/{_SEG}/attachments/{_SEG}", "messages.attachments.get", _get_attachment),
        ("GET", f"threads/{_SEG}", "threads.get", _get_thread),
        ("GET", "history", "history.list", _list_history),
        ("GET", "labels", "labels.list", _list_labels),
        ("POST", "watch", "watch", _watch),
        ("POST", "stop", "stop", _stop),
    )
)
_NEEDS = {
    "messages.send": SEND_SCOPES,
    **dict.fromkeys(
        ("drafts.list", "drafts.create", "drafts.send", "drafts.get", "drafts.delete"),
        COMPOSE_SCOPES,
    ),
}
ROUTES = tuple(
    Route(r.http_method, r.pattern, r.name, r.handler, _NEEDS.get(r.name, frozenset()))
    for r in ROUTES
)


def _rfc3339(seconds_from_now: float) -> str:
    when = datetime.now(UTC) + timedelta(seconds=max(0.0, seconds_from_now))
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class GmailApi:
    def __init__(
        self,
        store: MailStore,
        auth: TokenAuthority,
        quota: Quota,
        faults: FaultInjector,
        usage: Usage,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.auth = auth
        self.quota = quota
        self.faults = faults
        self.usage = usage
        self._sleep = sleep

    @staticmethod
    def match(req: ApiRequest) -> tuple[Route, str, tuple[str, ...]] | None:
        """(route, userId as given, path arguments) for a Gmail API path, else None."""
        if not req.path.startswith(API_PREFIX):
            return None
        user_part, _, rest = req.path[len(API_PREFIX) :].partition("/")
        for route in ROUTES:
            if route.http_method != req.method:
                continue
            found = route.pattern.match(rest)
            if found:
                args = tuple(urllib.parse.unquote(a) for a in found.groups())
                return route, urllib.parse.unquote(user_part), args
        return None

    def handle(self, req: ApiRequest) -> ApiResponse:
        matched = self.match(req)
        if matched is None:
            return ApiError(404, f"Not found: {req.method} {req.path}").to_response()
        route, user_id, args = matched
        email = self.auth.resolve(req.bearer_token())
        if email is None:
            return self._finish(req, route.name, None, unauthenticated().to_response())
        if user_id != "me" and user_id.lower() != email.lower():
            err = ApiError(403, f"Delegation denied for {email}", reason="forbidden")
            return self._finish(req, route.name, email, err.to_response())
        if route.scopes and not route.scopes & self.auth.scopes_of(req.bearer_token()):
            err = ApiError(
                403,
                "Request had insufficient authentication scopes.",
                reason="insufficientPermissions",
            )
            return self._finish(req, route.name, email, err.to_response())
        box = self.store.find(email)
        if box is None:
            return self._finish(req, route.name, email, ApiError(404).to_response())
        email = box.email
        self.usage.call(email, route.name)

        fault = self.faults.take(route.name, email)
        if fault is not None:
            if fault.delay > 0:
                self._sleep(fault.delay)
            if fault.status is not None and not fault.drop:
                self.usage.fault(email)
                err = ApiError(fault.status, fault.message, reason=fault.reason)
                return self._finish(req, route.name, email, err.to_response())

        cost = self.quota.cost(route.name)
        decision = self.quota.try_spend(email, cost)
        if not decision.allowed:
            self.usage.throttled(email)
            err = rate_limited(decision.status, _rfc3339(decision.retry_after))
            return self._finish(req, route.name, email, err.to_response())
        self.usage.spend(email, route.name, cost)

        if fault is not None and fault.drop and not fault.done:
            self.usage.fault(email)
            return self._finish(req, route.name, email, ApiResponse(0, drop=True))
        try:
            response = route.handler(box, req, args)
        except ApiError as exc:
            response = exc.to_response()
        if fault is not None and fault.drop:
            # Done, and then the connection is lost before the answer leaves.
            self.usage.fault(email)
            response = ApiResponse(response.status, response.body, response.headers, drop=True)
        return self._finish(req, route.name, email, response)

    def _finish(
        self, req: ApiRequest, method: str, user: str | None, response: ApiResponse
    ) -> ApiResponse:
        self.usage.finish(
            RequestRecord(
                user=user,
                method=method,
                http_method=req.method,
                path=req.path,
                query={k: tuple(v) for k, v in req.query.items()},
                status=response.status,
                in_batch=req.in_batch,
                batch=req.batch,
            )
        )
        return response
