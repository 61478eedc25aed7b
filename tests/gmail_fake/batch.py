"""The batch endpoint: ``multipart/mixed`` in, ``multipart/mixed`` out.

Each request part is ``Content-Type: application/http`` holding one embedded HTTP request
and a ``Content-ID``; each response part carries ``Content-ID: <response-{that id}>`` and
one embedded HTTP response with its own status, so one part can fail (404, 429, 500...)
while the rest succeed.
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import replace
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from .protocol import ApiError, ApiRequest, ApiResponse, reason_phrase

MAX_BATCH_PARTS = 100

_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def parse_embedded_request(payload: bytes) -> ApiRequest:
    """Parse ``GET /path?q HTTP/1.1`` + headers + blank line + body."""
    payload = payload.lstrip(b"\r\n")
    sep = _BLANK_LINE.search(payload)
    head, body = (payload[: sep.start()], payload[sep.end() :]) if sep else (payload, b"")
    lines = head.decode("latin-1").splitlines()
    if not lines:
        raise ApiError(400, "Empty request in batch part")
    fields = lines[0].split()
    if len(fields) < 2:
        raise ApiError(400, f"Malformed request line in batch part: {lines[0]!r}")
    method, target = fields[0].upper(), fields[1]
    headers: dict[str, str] = {}
    last = ""
    for line in lines[1:]:
        if not line.strip():
            continue
        if line[0] in " \t" and last:
            headers[last] += " " + line.strip()
            continue
        name, _, value = line.partition(":")
        last = name.strip().lower()
        headers[last] = value.strip()
    length = headers.get("content-length")
    body = body[: int(length)] if length and length.isdigit() else body.rstrip(b"\r\n")
    url = urllib.parse.urlsplit(target)
    return ApiRequest(
        method=method,
        path=url.path,
        query=urllib.parse.parse_qs(url.query, keep_blank_values=True),
        headers=headers,
        body=body,
        in_batch=True,
    )


def _part_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("ascii", "surrogateescape")
    raise ApiError(400, "Nested multipart is not allowed in a batch part")


def parse_batch(content_type: str, body: bytes) -> list[tuple[str | None, ApiRequest | ApiError]]:
    if not content_type.lower().startswith("multipart/"):
        raise ApiError(400, "Batch requests must be multipart/mixed")
    envelope = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    msg = BytesParser(policy=compat32).parsebytes(envelope)
    payload = msg.get_payload()
    if not msg.is_multipart() or not isinstance(payload, list) or not payload:
        raise ApiError(400, "Batch request contains no parts")
    if len(payload) > MAX_BATCH_PARTS:
        raise ApiError(
            400,
            f"A batch request cannot contain more than {MAX_BATCH_PARTS} requests "
            f"(got {len(payload)}).",
        )
    parts: list[tuple[str | None, ApiRequest | ApiError]] = []
    for part in payload:
        if not isinstance(part, Message):
            raise ApiError(400, "Malformed batch part")
        content_id = part.get("Content-ID")
        try:
            parts.append(
                (
                    None if content_id is None else str(content_id),
                    parse_embedded_request(_part_bytes(part)),
                )
            )
        except ApiError as exc:
            parts.append((None if content_id is None else str(content_id), exc))
    return parts


def response_content_id(request_content_id: str | None, index: int) -> str:
    value = (request_content_id or str(index + 1)).strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    return f"<response-{value}>"


def render_batch(parts: list[tuple[str, ApiResponse]]) -> ApiResponse:
    boundary = "batch_" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for content_id, resp in parts:
        head = [f"HTTP/1.1 {resp.status} {reason_phrase(resp.status)}"]
        head += [f"{k}: {v}" for k, v in resp.headers if k.lower() != "content-length"]
        head.append(f"Content-Length: {len(resp.body)}")
        chunks.append(
            (
                f"--{boundary}\r\nContent-Type: application/http\r\n"
                f"Content-ID: {content_id}\r\n\r\n" + "\r\n".join(head) + "\r\n\r\n"
            ).encode("utf-8")
            + resp.body
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return ApiResponse(
        200, b"".join(chunks), (("Content-Type", f"multipart/mixed; boundary={boundary}"),)
    )


def run_batch(
    req: ApiRequest, dispatch: Callable[[ApiRequest], ApiResponse], number: int | None = None
) -> ApiResponse:
    """Answer a batch request, dispatching each part in order. Envelope errors raise.

    ``number`` tells the parts which batch request they came in (for the request log).
    """
    if req.method != "POST":
        raise ApiError(405, "Batch requests must be POSTed")
    parts = parse_batch(req.header("content-type") or "", req.body)
    outer_auth = req.header("authorization")
    answers: list[tuple[str, ApiResponse]] = []
    for index, (content_id, inner) in enumerate(parts):
        if isinstance(inner, ApiError):
            resp = inner.to_response()
        else:
            if outer_auth and "authorization" not in inner.headers:
                inner = replace(inner, headers={**inner.headers, "authorization": outer_auth})
            inner = replace(inner, batch=number)
            resp = dispatch(inner)
        answers.append((response_content_id(content_id, index), resp))
    return render_batch(answers)
