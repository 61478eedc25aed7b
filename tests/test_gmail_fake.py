"""The fake Gmail server, driven through the real google-api-python-client."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from tests.gmail_fake import FakeGmailServer
from tests.gmail_fake import fixtures as gmail_fixtures

gmail_server = gmail_fixtures.gmail_server
gmail_account = gmail_fixtures.gmail_account
gmail_service = gmail_fixtures.gmail_service
GmailAccount = gmail_fixtures.GmailAccount

USER = gmail_fixtures.DEFAULT_ACCOUNT


def make_raw(
    n: int,
    *,
    subject: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    date: datetime | None = None,
    body: str = "Hello, can you clean our windows on Friday?",
) -> bytes:
    when = date or datetime(2024, 10, 1, 9, 0, tzinfo=UTC).replace(minute=n % 60)
    lines = [
        f"From: Customer {n} <customer{n}@example.net>",
        f"To: {USER}",
        f"Subject: {subject or f'Quote request {n}'}",
        f"Message-ID: <{message_id or f'msg{n}@example.net'}>",
        f"Date: {format_datetime(when)}",
    ]
    if in_reply_to:
        lines.append(f"In-Reply-To: <{in_reply_to}>")
    if references:
        lines.append(f"References: {references}")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode("utf-8")


def status_of(exc: HttpError) -> int:
    return int(exc.resp.status)


def error_reason(exc: HttpError) -> str:
    return str(json.loads(exc.content)["error"]["errors"][0]["reason"])


# --------------------------------------------------------------------------- basics


def test_profile(gmail_server: FakeGmailServer, gmail_service: Any) -> None:
    gmail_server.deliver(USER, make_raw(1))
    gmail_server.deliver(USER, make_raw(2, in_reply_to="msg1@example.net"))

    profile = gmail_service.users().getProfile(userId="me").execute()

    assert profile == {
        "emailAddress": USER,
        "messagesTotal": 2,
        "threadsTotal": 1,
        "historyId": str(gmail_server.history_id(USER)),
    }


def test_deliver_then_list_with_paging(gmail_server: FakeGmailServer, gmail_service: Any) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000
    ids = [
        gmail_server.deliver(USER, make_raw(i), internal_date=int(base) + i * 1000)
        for i in range(250)
    ]
    spam = gmail_server.deliver(USER, make_raw(999), labels=["SPAM"], internal_date=int(base))
    messages = gmail_service.users().messages()

    seen: list[str] = []
    pages = 0
    token = None
    while True:
        page = messages.list(userId="me", maxResults=100, pageToken=token).execute()
        pages += 1
        seen += [m["id"] for m in page.get("messages", [])]
        assert all(set(m) == {"id", "threadId"} for m in page["messages"])
        token = page.get("nextPageToken")
        if not token:
            break

    assert pages == 3
    assert seen == list(reversed(ids))  # newest first, no gaps, no duplicates

    first = messages.list(userId="me").execute()
    assert len(first["messages"]) == 100  # default page size
    assert first["resultSizeEstimate"] == 250

    with_spam = messages.list(userId="me", includeSpamTrash=True, maxResults=500).execute()
    assert spam in {m["id"] for m in with_spam["messages"]}
    anywhere = messages.list(userId="me", q="in:anywhere", maxResults=500).execute()
    assert len(anywhere["messages"]) == 251
    only_spam = messages.list(userId="me", labelIds=["SPAM"]).execute()
    assert [m["id"] for m in only_spam["messages"]] == [spam]

    gmail_server.modify_labels(USER, ids[10], remove=["INBOX"])
    inbox = messages.list(userId="me", labelIds=["INBOX"], maxResults=500).execute()
    assert len(inbox["messages"]) == 249
    assert "nextPageToken" not in inbox

    capped = messages.list(userId="me", maxResults=10_000).execute()
    assert len(capped["messages"]) == 250  # maxResults is capped at 500

    empty = messages.list(userId="me", labelIds=["STARRED"]).execute()
    assert empty == {"resultSizeEstimate": 0}

    with pytest.raises(HttpError) as bad:
        messages.list(userId="me", pageToken="garbage").execute()
    assert status_of(bad.value) == 400


def test_get_raw_round_trips_bytes(gmail_server: FakeGmailServer, gmail_service: Any) -> None:
    raw = make_raw(1, subject="Tilbud på vinduespudsning", body="Hej, hvad koster det? ÆØÅ\r\n.")
    msg_id = gmail_server.deliver(USER, raw)

    got = gmail_service.users().messages().get(userId="me", id=msg_id, format="raw").execute()

    assert base64.urlsafe_b64decode(got["raw"]) == raw
    assert got["id"] == msg_id
    assert got["threadId"] == msg_id
    assert got["labelIds"] == ["INBOX", "UNREAD"]
    assert got["sizeEstimate"] == len(raw)
    assert got["internalDate"] == str(1727773260000)  # 2024-10-01 09:01 UTC
    assert got["snippet"].startswith("Hej, hvad koster det?")
    assert "payload" not in got


def test_get_unknown_or_deleted_message_is_404(
    gmail_server: FakeGmailServer, gmail_service: Any
) -> None:
    msg_id = gmail_server.deliver(USER, make_raw(1))
    gmail_server.delete(USER, msg_id)
    for bad_id in (msg_id, "0000000000000000"):
        with pytest.raises(HttpError) as err:
            gmail_service.users().messages().get(userId="me", id=bad_id).execute()
        assert status_of(err.value) == 404
        body = json.loads(err.value.content)
        assert body["error"]["status"] == "NOT_FOUND"
        assert body["error"]["errors"][0]["reason"] == "notFound"


MULTIPART = (
    b"From: =?utf-8?q?S=C3=B8ren?= <soren@example.net>\r\n"
    b"To: owner@example.com\r\n"
    b"Subject: =?utf-8?q?Pris_p=C3=A5_reng=C3=B8ring?=\r\n"
    b"Message-ID: <multi@example.net>\r\n"
    b"Date: Wed, 02 Oct 2024 12:00:00 +0200\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="outer"\r\n'
    b"\r\n"
    b"--outer\r\n"
    b'Content-Type: multipart/alternative; boundary="inner"\r\n'
    b"\r\n"
    b"--inner\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"Hvad koster en reng=C3=B8ring?\r\n"
    b"--inner\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<p>Hvad koster en reng\xc3\xb8ring?</p>\r\n"
    b"--inner--\r\n"
    b"--outer\r\n"
    b'Content-Type: application/pdf; name="plan.pdf"\r\n'
    b'Content-Disposition: attachment; filename="plan.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQKJcfsj6IK\r\n"
    b"--outer--\r\n"
)


def test_get_full_has_headers_and_parts(gmail_server: FakeGmailServer, gmail_service: Any) -> None:
    msg_id = gmail_server.deliver(USER, MULTIPART)
    messages = gmail_service.users().messages()

    full = messages.get(userId="me", id=msg_id).execute()  # format defaults to full
    payload = full["payload"]
    headers = {h["name"]: h["value"] for h in payload["headers"]}
    assert headers["Subject"] == "Pris på rengøring"
    assert headers["From"] == "Søren <soren@example.net>"
    assert headers["Message-ID"] == "<multi@example.net>"
    assert payload["mimeType"] == "multipart/mixed"
    assert payload["partId"] == ""
    alternative, attachment = payload["parts"]
    plain, html = alternative["parts"]
    assert (plain["partId"], html["partId"], attachment["partId"]) == ("0.0", "0.1", "1")
    assert base64.urlsafe_b64decode(plain["body"]["data"]).decode() == "Hvad koster en rengøring?"
    assert attachment["filename"] == "plan.pdf"
    assert "data" not in attachment["body"]
    assert full["snippet"] == "Hvad koster en rengøring?"
    assert full["internalDate"] == str(1727863200000)  # 10:00 UTC

    att = (
        messages.attachments()
        .get(userId="me", messageId=msg_id, id=attachment["body"]["attachmentId"])
        .execute()
    )
    assert base64.urlsafe_b64decode(att["data"]).startswith(b"%PDF-1.4")
    assert att["size"] == attachment["body"]["size"]

    meta = messages.get(
        userId="me", id=msg_id, format="metadata", metadataHeaders=["Subject", "from"]
    ).execute()
    assert [h["name"] for h in meta["payload"]["headers"]] == ["From", "Subject"]
    assert "parts" not in meta["payload"]

    minimal = messages.get(userId="me", id=msg_id, format="minimal").execute()
    assert "payload" not in minimal and "raw" not in minimal
    assert minimal["historyId"] == str(gmail_server.history_id(USER))


def test_threads_grouped_by_in_reply_to(gmail_server: FakeGmailServer, gmail_service: Any) -> None:
    t0 = datetime(2024, 10, 1, 8, 0, tzinfo=UTC)
    first = gmail_server.deliver(USER, make_raw(1, date=t0))
    other = gmail_server.deliver(USER, make_raw(2, date=t0))
    # delivered out of order: the later reply first
    reply2 = gmail_server.deliver(
        USER,
        make_raw(4, date=t0.replace(hour=10), references="<msg1@example.net> <msg3@example.net>"),
    )
    reply1 = gmail_server.deliver(
        USER, make_raw(3, date=t0.replace(hour=9), in_reply_to="msg1@example.net")
    )
    forced = gmail_server.deliver(USER, make_raw(5, date=t0.replace(hour=11)), thread_id=other)

    thread = gmail_service.users().threads().get(userId="me", id=first).execute()
    assert thread["id"] == first
    assert [m["id"] for m in thread["messages"]] == [first, reply1, reply2]
    assert all(m["threadId"] == first for m in thread["messages"])
    assert "payload" in thread["messages"][0]

    meta = (
        gmail_service.users()
        .threads()
        .get(userId="me", id=other, format="metadata", metadataHeaders=["Subject"])
        .execute()
    )
    assert [m["id"] for m in meta["messages"]] == [other, forced]
    assert meta["messages"][1]["payload"]["headers"] == [
        {"name": "Subject", "value": "Quote request 5"}
    ]

    minimal = gmail_service.users().threads().get(userId="me", id=first, format="minimal").execute()
    assert all("payload" not in m for m in minimal["messages"])

    with pytest.raises(HttpError) as err:
        gmail_service.users().threads().get(userId="me", id="ffffffffffffffff").execute()
    assert status_of(err.value) == 404


# --------------------------------------------------------------------------- history


def _all_history(service: Any, start: str, **kwargs: Any) -> tuple[list[dict[str, Any]], int]:
    records: list[dict[str, Any]] = []
    pages = 0
    token = None
    while True:
        page = (
            service.users()
            .history()
            .list(userId="me", startHistoryId=start, pageToken=token, **kwargs)
            .execute()
        )
        pages += 1
        records += page.get("history", [])
        token = page.get("nextPageToken")
        if not token:
            return records, pages


def test_history_after_deliver_delete_and_label_change(
    gmail_server: FakeGmailServer, gmail_service: Any
) -> None:
    start = gmail_service.users().getProfile(userId="me").execute()["historyId"]
    a = gmail_server.deliver(USER, make_raw(1))
    b = gmail_server.deliver(USER, make_raw(2))
    gmail_server.modify_labels(USER, a, add=["STARRED"], remove=["UNREAD"])
    gmail_server.delete(USER, b)
    gmail_server.modify_labels(USER, a, add=["STARRED"])  # no change, no record

    records, pages = _all_history(gmail_service, start, maxResults=2)
    assert pages == 3
    kinds = [next(k for k in r if k not in ("id", "messages")) for r in records]
    assert kinds == [
        "messagesAdded",
        "messagesAdded",
        "labelsAdded",
        "labelsRemoved",
        "messagesDeleted",
    ]
    ids = [int(r["id"]) for r in records]
    assert ids == sorted(ids) and ids[0] > int(start)
    assert records[0]["messagesAdded"][0]["message"] == {
        "id": a,
        "threadId": a,
        "labelIds": ["INBOX", "UNREAD"],
    }
    assert records[2]["labelsAdded"][0]["labelIds"] == ["STARRED"]
    assert records[3]["labelsRemoved"][0]["labelIds"] == ["UNREAD"]
    assert records[4]["messagesDeleted"][0]["message"]["id"] == b

    page = gmail_service.users().history().list(userId="me", startHistoryId=start).execute()
    assert page["historyId"] == str(gmail_server.history_id(USER))

    added, _ = _all_history(gmail_service, start, historyTypes=["messageAdded"])
    assert [r["messagesAdded"][0]["message"]["id"] for r in added] == [a, b]
    starred, _ = _all_history(gmail_service, start, labelId="STARRED")
    assert [r["id"] for r in starred] == [records[2]["id"], records[3]["id"]]
    later, _ = _all_history(gmail_service, records[2]["id"])
    assert [r["id"] for r in later] == [r["id"] for r in records[3:]]

    current = gmail_server.history_id(USER)
    gmail_server.expire_history_before(USER, current)
    with pytest.raises(HttpError) as err:
        gmail_service.users().history().list(userId="me", startHistoryId=start).execute()
    assert status_of(err.value) == 404
    still_ok = gmail_service.users().history().list(userId="me", startHistoryId=current).execute()
    assert "history" not in still_ok


# --------------------------------------------------------------------------- batch


def test_batch_of_50_gets_reaches_the_fake(
    gmail_server: FakeGmailServer, gmail_service: Any
) -> None:
    ids = [gmail_server.deliver(USER, make_raw(i)) for i in range(50)]
    gmail_service.users().getProfile(userId="me").execute()  # refresh outside the batch
    gmail_server.reset_stats()
    results: dict[str, dict[str, Any]] = {}

    def on_response(request_id: str, response: Any, exc: Exception | None) -> None:
        assert exc is None
        results[request_id] = response

    batch = gmail_service.new_batch_http_request(callback=on_response)
    for msg_id in ids:
        batch.add(
            gmail_service.users().messages().get(userId="me", id=msg_id, format="raw"),
            request_id=msg_id,
        )
    batch.execute()

    assert set(results) == set(ids)
    assert all(base64.urlsafe_b64decode(r["raw"]).startswith(b"From:") for r in results.values())
    stats = gmail_server.stats()
    assert stats.calls(USER, "messages.get") == 50
    assert stats.units(USER) == 250
    assert stats.batch_requests == 1
    assert stats.http_requests == 1
    assert all(rec.in_batch for rec in gmail_server.request_log())


def test_batch_parts_fail_independently(gmail_server: FakeGmailServer, gmail_service: Any) -> None:
    ids = [gmail_server.deliver(USER, make_raw(i)) for i in range(4)]
    gmail_server.queue_fault("messages.get", 429, count=1)
    outcome: dict[str, int] = {}

    def on_response(request_id: str, response: Any, exc: HttpError | None) -> None:
        outcome[request_id] = 200 if exc is None else status_of(exc)

    batch = gmail_service.new_batch_http_request(callback=on_response)
    for msg_id in [*ids, "0000000000000000"]:
        batch.add(gmail_service.users().messages().get(userId="me", id=msg_id), request_id=msg_id)
    batch.execute()

    assert outcome == {ids[0]: 429, ids[1]: 200, ids[2]: 200, ids[3]: 200, "0000000000000000": 404}


def test_batch_over_100_parts_is_rejected(
    gmail_server: FakeGmailServer, gmail_service: Any
) -> None:
    msg_id = gmail_server.deliver(USER, make_raw(1))
    batch = gmail_service.new_batch_http_request()
    for _ in range(101):
        batch.add(gmail_service.users().messages().get(userId="me", id=msg_id))
    with pytest.raises(HttpError) as err:
        batch.execute()
    assert status_of(err.value) == 400
    assert gmail_server.stats().calls(USER, "messages.get") == 0


def test_batch_refreshes_expired_tokens_per_part(
    gmail_server: FakeGmailServer, gmail_service: Any
) -> None:
    ids = [gmail_server.deliver(USER, make_raw(i)) for i in range(3)]
    gmail_service.users().getProfile(userId="me").execute()
    gmail_server.expire_access_tokens()
    got: list[str] = []
    batch = gmail_service.new_batch_http_request(
        callback=lambda rid, resp, exc: got.append(resp["id"])
    )
    for msg_id in ids:
        batch.add(gmail_service.users().messages().get(userId="me", id=msg_id))
    batch.execute()
    assert sorted(got) == sorted(ids)
    assert gmail_server.stats().users[USER].token_refreshes == 2


def test_api_endpoint_client_needs_explicit_batch_uri(
    gmail_server: FakeGmailServer, gmail_account: GmailAccount
) -> None:
    """build(client_options={"api_endpoint": ...}) moves method calls but not batches."""
    msg_id = gmail_server.deliver(USER, make_raw(1))
    creds = gmail_server.credentials(gmail_account.refresh_token)
    service = build(
        "gmail",
        "v1",
        credentials=creds,
        client_options={"api_endpoint": gmail_server.url},
        static_discovery=True,
    )
    assert service.users().messages().get(userId="me", id=msg_id).execute()["id"] == msg_id
    # The batch URI comes from the discovery document's rootUrl, not from api_endpoint.
    assert service.new_batch_http_request()._batch_uri == "https://gmail.googleapis.com/batch"

    got: list[str] = []
    batch = BatchHttpRequest(
        callback=lambda rid, resp, exc: got.append(resp["id"]), batch_uri=gmail_server.batch_uri
    )
    batch.add(service.users().messages().get(userId="me", id=msg_id))
    batch.execute()
    assert got == [msg_id]


def test_discovery_from_the_fake(
    gmail_server: FakeGmailServer, gmail_account: GmailAccount
) -> None:
    msg_id = gmail_server.deliver(USER, make_raw(1))
    service = build(
        "gmail",
        "v1",
        credentials=gmail_server.credentials(gmail_account.refresh_token),
        discoveryServiceUrl=gmail_server.discovery_service_url,
        static_discovery=False,
        cache_discovery=False,
    )
    got: list[str] = []
    batch = service.new_batch_http_request(callback=lambda rid, resp, exc: got.append(resp["id"]))
    batch.add(service.users().messages().get(userId="me", id=msg_id))
    batch.execute()
    assert got == [msg_id]
    assert gmail_server.stats().batch_requests == 1


# --------------------------------------------------------------------------- auth


def test_refresh_flow_issues_token(
    gmail_server: FakeGmailServer, gmail_account: GmailAccount
) -> None:
    creds = gmail_server.credentials(gmail_account.refresh_token)
    service = gmail_server.build_service(creds)
    assert creds.token is None

    service.users().getProfile(userId="me").execute()
    first = creds.token
    assert first and gmail_server.auth.resolve(first) == USER
    assert creds.expiry is not None

    gmail_server.expire_access_tokens()  # server-side expiry: 401, client refreshes, retries
    assert service.users().getProfile(userId="me").execute()["emailAddress"] == USER
    assert creds.token != first
    stats = gmail_server.stats()
    assert stats.users[USER].token_refreshes == 2
    assert stats.users[USER].statuses == {200: 2}
    assert [r.status for r in gmail_server.request_log()] == [200, 401, 200]


def test_revoked_refresh_token_raises_invalid_grant(
    gmail_server: FakeGmailServer, gmail_service: Any, gmail_account: GmailAccount
) -> None:
    gmail_service.users().getProfile(userId="me").execute()
    gmail_server.revoke(gmail_account.refresh_token)

    with pytest.raises(RefreshError) as err:
        gmail_service.users().getProfile(userId="me").execute()
    assert "invalid_grant" in str(err.value)
    assert err.value.args[1]["error_description"] == "Token has been expired or revoked."

    unknown = gmail_server.build_service(gmail_server.credentials("1//never-issued"))
    with pytest.raises(RefreshError, match="invalid_grant"):
        unknown.users().getProfile(userId="me").execute()


def test_requests_without_valid_token_are_401(gmail_server: FakeGmailServer) -> None:
    gmail_server.add_user(USER)
    url = f"{gmail_server.url}/gmail/v1/users/me/profile"
    for headers in ({}, {"Authorization": "Bearer nope"}):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers))
        assert err.value.code == 401
        body = json.loads(err.value.read())
        assert body["error"]["status"] == "UNAUTHENTICATED"
        assert body["error"]["errors"][0]["reason"] == "authError"
        err.value.close()

    token = gmail_server.issue_access_token(USER)
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as resp:
        assert json.loads(resp.read())["emailAddress"] == USER


def test_me_is_the_token_owner(gmail_server: FakeGmailServer) -> None:
    other = "second@example.org"
    refresh_a = gmail_server.add_user(USER)
    refresh_b = gmail_server.add_user(other)
    gmail_server.deliver(other, make_raw(1))
    svc_a = gmail_server.build_service(gmail_server.credentials(refresh_a))
    svc_b = gmail_server.build_service(gmail_server.credentials(refresh_b))

    assert svc_a.users().getProfile(userId="me").execute()["messagesTotal"] == 0
    assert svc_b.users().getProfile(userId="me").execute()["messagesTotal"] == 1
    assert svc_b.users().getProfile(userId=other).execute()["emailAddress"] == other
    with pytest.raises(HttpError) as err:
        svc_a.users().messages().list(userId=other).execute()
    assert status_of(err.value) == 403


# --------------------------------------------------------------------------- quota and faults


def test_quota_produces_429_and_counts_units(
    gmail_server: FakeGmailServer, gmail_service: Any
) -> None:
    msg_id = gmail_server.deliver(USER, make_raw(1))
    gmail_service.users().getProfile(userId="me").execute()  # 1 unit, before limiting
    gmail_server.set_quota(0.001, burst=12)  # 12 units now, practically no refill
    get = gmail_service.users().messages().get

    get(userId="me", id=msg_id).execute()
    get(userId="me", id=msg_id).execute()
    with pytest.raises(HttpError) as err:
        get(userId="me", id=msg_id).execute()
    assert status_of(err.value) == 429
    assert error_reason(err.value) == "rateLimitExceeded"
    assert gmail_service.users().getProfile(userId="me").execute()  # 1 unit still fits

    stats = gmail_server.stats().users[USER]
    assert stats.calls == {"getProfile": 2, "messages.get": 3}
    assert stats.units == 12
    assert stats.units_by_method == {"getProfile": 2, "messages.get": 10}
    assert stats.throttled == 1

    gmail_server.set_quota(0.001, burst=0, over_limit_status=403)
    with pytest.raises(HttpError) as err403:
        get(userId="me", id=msg_id).execute()
    assert status_of(err403.value) == 403
    assert error_reason(err403.value) == "userRateLimitExceeded"

    gmail_server.set_quota(None)
    assert get(userId="me", id=msg_id).execute()["id"] == msg_id


def test_quota_applies_to_each_batch_part(
    gmail_server: FakeGmailServer, gmail_service: Any
) -> None:
    ids = [gmail_server.deliver(USER, make_raw(i)) for i in range(10)]
    gmail_service.users().getProfile(userId="me").execute()
    gmail_server.set_quota(0.001, burst=30)
    statuses: list[int] = []
    batch = gmail_service.new_batch_http_request(
        callback=lambda rid, resp, exc: statuses.append(200 if exc is None else status_of(exc))
    )
    for msg_id in ids:
        batch.add(gmail_service.users().messages().get(userId="me", id=msg_id))
    batch.execute()
    assert statuses == [200] * 6 + [429] * 4


def test_quota_refills_over_time(gmail_server: FakeGmailServer, gmail_service: Any) -> None:
    gmail_service.users().getProfile(userId="me").execute()
    gmail_server.set_quota(50, burst=5)
    gmail_service.users().messages().list(userId="me").execute()
    with pytest.raises(HttpError):
        gmail_service.users().messages().list(userId="me").execute()
    time.sleep(0.15)  # 50 units/s refills 5 units in 0.1 s
    gmail_service.users().messages().list(userId="me").execute()


def test_injected_faults(gmail_server: FakeGmailServer, gmail_service: Any) -> None:
    gmail_service.users().getProfile(userId="me").execute()
    gmail_server.queue_fault("messages.list", 500, count=2)
    gmail_server.queue_fault("messages.get", 503)
    listing = gmail_service.users().messages()

    for _ in range(2):
        with pytest.raises(HttpError) as err:
            listing.list(userId="me").execute()
        assert status_of(err.value) == 500
        assert error_reason(err.value) == "backendError"
    assert listing.list(userId="me").execute() == {"resultSizeEstimate": 0}
    with pytest.raises(HttpError) as err503:
        listing.get(userId="me", id="x").execute()
    assert status_of(err503.value) == 503

    def run() -> list[int]:
        gmail_server.set_fault_rate(0.3, seed=42)
        out = []
        for _ in range(40):
            try:
                gmail_service.users().getProfile(userId="me").execute()
                out.append(200)
            except HttpError as exc:
                out.append(status_of(exc))
        return out

    first, second = run(), run()
    assert first == second  # seeded: reproducible
    assert {500, 503} <= set(first) and 200 in first
    assert gmail_server.stats().users[USER].faults == 3 + 2 * (len(first) - first.count(200))

    gmail_server.clear_faults()
    gmail_server.queue_fault("batch", 503)
    batch = gmail_service.new_batch_http_request()
    batch.add(gmail_service.users().getProfile(userId="me"))
    with pytest.raises(HttpError) as batch_err:
        batch.execute()
    assert status_of(batch_err.value) == 503


# --------------------------------------------------------------------------- watch, labels


def test_watch_and_stop(gmail_server: FakeGmailServer, gmail_service: Any) -> None:
    users = gmail_service.users()
    topic = "projects/rendetalje/topics/gmail"
    before = time.time() * 1000

    resp = users.watch(userId="me", body={"topicName": topic, "labelIds": ["INBOX"]}).execute()

    assert resp["historyId"] == str(gmail_server.history_id(USER))
    week = 7 * 24 * 3600 * 1000
    assert before + week - 60_000 <= int(resp["expiration"]) <= time.time() * 1000 + week
    state = gmail_server.watch_state(USER)
    assert state is not None and state.topic_name == topic and state.label_ids == ("INBOX",)

    gmail_server.deliver(USER, make_raw(1))
    gmail_server.deliver(USER, make_raw(2), labels=["SENT"])
    assert gmail_server.drain_notifications(USER) == [
        {"emailAddress": USER, "historyId": str(gmail_server.history_id(USER) - 1)}
    ]
    assert gmail_server.stats().users[USER].units_by_method["watch"] == 100

    with pytest.raises(HttpError) as err:
        users.watch(userId="me", body={"topicName": "nope"}).execute()
    assert status_of(err.value) == 400

    assert users.stop(userId="me").execute() == ""  # 204 No Content
    assert gmail_server.watch_state(USER) is None


def test_labels_list(gmail_server: FakeGmailServer, gmail_service: Any) -> None:
    label = gmail_server.add_label(USER, "Customers")
    gmail_server.deliver(USER, make_raw(1), labels=["INBOX", label])
    labels = gmail_service.users().labels().list(userId="me").execute()["labels"]
    by_id = {lbl["id"]: lbl for lbl in labels}
    assert by_id["INBOX"]["type"] == "system"
    assert by_id[label]["name"] == "Customers" and by_id[label]["type"] == "user"


# --------------------------------------------------------------------------- scale


def test_twenty_thousand_messages_page_quickly(gmail_server: FakeGmailServer) -> None:
    gmail_server.add_user(USER)
    box = gmail_server.mailbox(USER)
    raw = make_raw(0)
    started = time.perf_counter()
    ids = [box.deliver(raw, internal_date=1_700_000_000_000 + i) for i in range(20_000)]
    for msg_id in ids[::10]:
        box.modify_labels(msg_id, remove=["INBOX"])
    seen: list[str] = []
    token = None
    while True:
        page = box.list_messages(["INBOX"], max_results=500, page_token=token)
        seen += [m["id"] for m in page["messages"]]
        token = page.get("nextPageToken")
        if not token:
            break
    history_pages = 0
    token = None
    while True:
        hist = box.list_history(100_000, max_results=500, page_token=token)
        history_pages += 1
        token = hist.get("nextPageToken")
        if not token:
            break
    elapsed = time.perf_counter() - started

    assert len(seen) == 18_000 and len(set(seen)) == 18_000
    assert seen[0] == ids[-1]
    assert history_pages == 44  # 22,000 records
    assert elapsed < 10, f"20k mailbox took {elapsed:.1f}s"


def test_concurrent_clients(gmail_server: FakeGmailServer, gmail_account: GmailAccount) -> None:
    ids = [gmail_server.deliver(USER, make_raw(i)) for i in range(40)]
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:  # one service per thread: httplib2 connections are not thread-safe
            service = gmail_server.build_service(
                gmail_server.credentials(gmail_account.refresh_token)
            )
            for msg_id in ids[offset::4]:
                service.users().messages().get(userId="me", id=msg_id, format="raw").execute()
                gmail_server.modify_labels(USER, msg_id, remove=["UNREAD"])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert gmail_server.stats().calls(USER, "messages.get") == 40
    unread = gmail_server.mailbox(USER).list_messages(["UNREAD"])
    assert unread == {"resultSizeEstimate": 0}
