"""Request/response values passed between the HTTP layer, the batch endpoint and the API.

Errors use the JSON shape Google APIs answer with::

    {"error": {"code": 404, "message": "...", "errors": [{"message": "...",
     "domain": "global", "reason": "notFound"}], "status": "NOT_FOUND"}}
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

JsonObj = dict[str, Any]

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"


def b64url(data: bytes) -> str:
    """URL-safe base64 with padding, as Gmail sends ``raw`` and body ``data``."""
    return base64.urlsafe_b64encode(data).decode("ascii")


def b64url_decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request, either straight off the socket or unpacked from a batch part."""

    method: str
    path: str
    query: Mapping[str, Sequence[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased
    body: bytes = b""
    in_batch: bool = False
    batch: int | None = None  # which batch request (1, 2, ...) a part came in

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def params(self, name: str) -> list[str]:
        return list(self.query.get(name, ()))

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json_body(self) -> JsonObj:
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise ApiError(400, f"Invalid JSON payload received. {exc}") from exc
        if not isinstance(data, dict):
            raise ApiError(400, "Invalid JSON payload received. Expected an object.")
        return data

    def bearer_token(self) -> str | None:
        auth = self.header("authorization")
        if auth:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
        return self.param("access_token")


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False  # close the connection instead of answering (the work is done)

    @classmethod
    def json(
        cls, obj: Any, status: int = 200, headers: Sequence[tuple[str, str]] = ()
    ) -> ApiResponse:
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, body, (("Content-Type", JSON_CONTENT_TYPE), *headers))

    @classmethod
    def no_content(cls) -> ApiResponse:
        return cls(204)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


# status -> (reason, canonical status, default message)
_CANONICAL: dict[int, tuple[str, str, str]] = {
    400: ("badRequest", "INVALID_ARGUMENT", "Bad Request"),
    401: (
        "authError",
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential.",
    ),
    403: ("forbidden", "PERMISSION_DENIED", "The caller does not have permission"),
    404: ("notFound", "NOT_FOUND", "Requested entity was not found."),
    405: ("methodNotAllowed", "UNIMPLEMENTED", "Method not allowed."),
    409: ("conflict", "ABORTED", "Conflict."),
    412: ("failedPrecondition", "FAILED_PRECONDITION", "Precondition check failed."),
    429: ("rateLimitExceeded", "RESOURCE_EXHAUSTED", "Too many concurrent requests for user."),
    500: ("backendError", "INTERNAL", "Internal error encountered."),
    502: ("backendError", "UNAVAILABLE", "Bad gateway."),
    503: ("backendError", "UNAVAILABLE", "The service is currently unavailable."),
    504: ("backendError", "DEADLINE_EXCEEDED", "The request timed out."),
}


def canonical(status: int) -> tuple[str, str, str]:
    if status in _CANONICAL:
        return _CANONICAL[status]
    if status >= 500:
        return ("backendError", "INTERNAL", reason_phrase(status))
    return ("badRequest", "UNKNOWN", reason_phrase(status))


class ApiError(Exception):
    """Raised inside handlers; becomes a Gmail-shaped JSON error response."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        reason: str | None = None,
        domain: str = "global",
        status: str | None = None,
        location: str | None = None,
        location_type: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        default_reason, default_status, default_message = canonical(code)
        self.code = code
        self.message = message or default_message
        self.reason = reason or default_reason
        self.domain = domain
        self.status = status or default_status
        self.location = location
        self.location_type = location_type
        self.headers = tuple(headers)
        super().__init__(f"{code} {self.reason}: {self.message}")

    def to_json(self) -> JsonObj:
        item: JsonObj = {"message": self.message, "domain": self.domain, "reason": self.reason}
        if self.location:
            item["location"] = self.location
        if self.location_type:
            item["locationType"] = self.location_type
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [item],
                "status": self.status,
            }
        }

    def to_response(self) -> ApiResponse:
        return ApiResponse.json(self.to_json(), self.code, self.headers)


_WWW_AUTHENTICATE = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'


def unauthenticated() -> ApiError:
    return ApiError(
        401,
        reason="authError",
        location="Authorization",
        location_type="header",
        headers=(("WWW-Authenticate", _WWW_AUTHENTICATE),),
    )


def rate_limited(status: int, retry_after_rfc3339: str | None = None) -> ApiError:
    """The error Gmail answers when a user's per-second quota is exhausted."""
    if status == 403:
        return ApiError(
            403,
            "User Rate Limit Exceeded",
            reason="userRateLimitExceeded",
            domain="usageLimits",
            status="PERMISSION_DENIED",
        )
    message = "User-rate limit exceeded."
    if retry_after_rfc3339:
        message += f"  Retry after {retry_after_rfc3339}"
    return ApiError(
        status,
        message,
        reason="rateLimitExceeded",
        domain="usageLimits",
        status="RESOURCE_EXHAUSTED",
    )
