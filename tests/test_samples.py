"""The shipped sample mailbox: reproducible from build_sample, and consistent with expected.json.

Also a quick check of the benchmark mailbox generator (small and deterministic).
"""

from __future__ import annotations

import json
import mailbox
import re
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from worker.samples import SAMPLE_EXPECTED, SAMPLE_MBOX, build_sample

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is not an installed package
    sys.path.insert(0, str(ROOT))

FIELDS = {"kind", "customer", "lead_source", "skip_reason", "thread"}
NOISE_LOCAL_PARTS = ("no-reply", "noreply", "donotreply", "do-not-reply", "mailer-daemon")
FROM_LINE = re.compile(
    r"^(?P<id>\d{15,20})@xxx (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{2} \d{2}:\d{2}:\d{2} \+0000 \d{4}$"
)


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def messages() -> dict[str, mailbox.mboxMessage]:
    box = mailbox.mbox(SAMPLE_MBOX, create=False)
    try:
        result: dict[str, mailbox.mboxMessage] = {}
        for message in box:
            match = FROM_LINE.match(message.get_from())
            assert match, message.get_from()
            assert match["id"] not in result, f"duplicate Gmail id {match['id']}"
            result[match["id"]] = message
        return result
    finally:
        box.close()


def labels_of(message: Message) -> set[str]:
    return {label.strip() for label in str(message.get("X-Gmail-Labels", "")).split(",")}


def header_text(message: Message, name: str) -> str:
    value = message.get(name)
    return "" if value is None else str(make_header(decode_header(str(value))))


def message_id_of(message: Message) -> str | None:
    value = message.get("Message-ID")
    return str(value).strip().strip("<>") if value else None


def decoded_text(message: Message) -> str:
    """Every header and every decodable text part, for "does this address occur" checks."""
    out = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            out.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(out)


def sender_email(message: Message) -> str:
    return parseaddr(str(message.get("From", "")))[1].lower()


def noise_reason(message: Message) -> str | None:
    """The first noise signal of a message, in the documented order."""
    labels = labels_of(message)
    for label, reason in (
        ("Spam", "label:spam"),
        ("Trash", "label:trash"),
        ("Draft", "label:draft"),
    ):
        if label in labels:
            return reason
    local = sender_email(message).partition("@")[0]
    if any(local == word or local.startswith(word + "-") for word in NOISE_LOCAL_PARTS):
        return "noise:no-reply"
    if message.get("List-Unsubscribe"):
        return "bulk:list-unsubscribe"
    if message.get("List-Id"):
        return "bulk:list-id"
    if str(message.get("Precedence", "")).strip().lower() in ("bulk", "list", "junk"):
        return "bulk:precedence"
    if str(message.get("Auto-Submitted", "no")).strip().lower() != "no":
        return "bulk:auto-submitted"
    return None


# --------------------------------------------------------------------------- reproducible


def test_committed_files_equal_what_build_sample_writes(tmp_path: Path) -> None:
    mbox_path, expected_path = tmp_path / "sample.mbox", tmp_path / "sample.json"
    build_sample.write_sample(mbox_path, expected_path)
    assert mbox_path.read_bytes() == SAMPLE_MBOX.read_bytes(), (
        "rendetalje.mbox is stale: run `python -m worker.samples.build_sample`"
    )
    assert expected_path.read_text(encoding="utf-8") == SAMPLE_EXPECTED.read_text(
        encoding="utf-8"
    ), "expected.json is stale: run `python -m worker.samples.build_sample`"


def test_build_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.mbox", tmp_path / "b.mbox"
    build_sample.write_sample(first, tmp_path / "a.json")
    build_sample.write_sample(second, tmp_path / "b.json")
    assert first.read_bytes() == second.read_bytes()


# --------------------------------------------------------------------------- consistency


def test_every_message_has_an_expectation(
    expected: dict[str, Any], messages: dict[str, mailbox.mboxMessage]
) -> None:
    assert 40 <= len(messages) <= 60
    assert set(expected["messages"]) == set(messages)
    assert expected["summary"]["totals"]["messages"] == len(messages)
    for gmail_id, entry in expected["messages"].items():
        assert set(entry) == FIELDS, gmail_id
        assert entry["kind"] in build_sample.KINDS
        assert entry["skip_reason"] in (None, *build_sample.SKIP_REASONS)
        assert entry["lead_source"] in (None, *build_sample.LEAD_SOURCES)
        assert (entry["kind"] == "skip") == (entry["skip_reason"] is not None), gmail_id
        assert entry["lead_source"] is None or entry["kind"] == "inbound", gmail_id
        assert entry["customer"] is None or entry["customer"] == entry["customer"].lower()
        if entry["kind"] in ("inbound", "outbound"):
            assert entry["customer"], gmail_id
        if entry["kind"] in ("skip", "bounce"):
            assert entry["customer"] is None, gmail_id


def test_threads_match_the_gmail_thread_header(
    expected: dict[str, Any], messages: dict[str, mailbox.mboxMessage]
) -> None:
    thread_ids = set()
    for gmail_id, message in messages.items():
        thread = str(message["X-GM-THRID"])
        assert expected["messages"][gmail_id]["thread"] == thread
        thread_ids.add(thread)
    # A Gmail thread id is the id of the thread's first message.
    assert thread_ids <= set(messages)
    assert expected["summary"]["totals"]["threads"] == len(thread_ids)


def test_message_ids_are_unique(messages: dict[str, mailbox.mboxMessage]) -> None:
    ids = [message_id_of(message) for message in messages.values()]
    assert all(ids)
    assert len(set(ids)) == len(ids)


def test_replies_point_at_messages_in_the_same_thread(
    messages: dict[str, mailbox.mboxMessage],
) -> None:
    by_message_id = {message_id_of(m): m for m in messages.values()}
    replies = 0
    for message in messages.values():
        parent_id = str(message.get("In-Reply-To", "")).strip().strip("<>")
        if not parent_id:
            continue
        replies += 1
        parent = by_message_id[parent_id]
        assert str(parent["X-GM-THRID"]) == str(message["X-GM-THRID"])
        references = re.findall(r"<([^>]+)>", str(message.get("References", "")))
        assert references and references[-1] == parent_id
    assert replies >= 15


def test_labels_agree_with_the_expected_kind(
    expected: dict[str, Any], messages: dict[str, mailbox.mboxMessage]
) -> None:
    for gmail_id, message in messages.items():
        entry = expected["messages"][gmail_id]
        labels = labels_of(message)
        for label, reason in (
            ("Spam", "label:spam"),
            ("Trash", "label:trash"),
            ("Draft", "label:draft"),
        ):
            assert (label in labels) == (entry["skip_reason"] == reason), gmail_id
        if entry["kind"] == "outbound":
            assert "Sent" in labels
            assert sender_email(message) == build_sample.MAILBOX
            to = [address.lower() for _, address in getaddresses([str(message["To"])])]
            assert to[0] == entry["customer"]
        if entry["kind"] == "inbound":
            assert "Inbox" in labels and "Sent" not in labels


def test_skip_reasons_follow_the_documented_order(
    expected: dict[str, Any], messages: dict[str, mailbox.mboxMessage]
) -> None:
    for gmail_id, message in messages.items():
        entry = expected["messages"][gmail_id]
        if entry["kind"] == "skip" and entry["skip_reason"] != "internal":
            assert noise_reason(message) == entry["skip_reason"], gmail_id
        elif entry["kind"] in ("inbound", "outbound") and not entry["lead_source"]:
            assert noise_reason(message) is None, gmail_id
        elif entry["skip_reason"] == "internal":
            assert sender_email(message).endswith("@" + build_sample.OWN_DOMAIN)
            recipients = getaddresses([str(message.get("To", "")), str(message.get("Cc", ""))])
            assert all(addr.lower().endswith("@rendetalje.dk") for _, addr in recipients if addr)
    # Lead mail with bulk headers is still a lead.
    lead_with_list_unsubscribe = [
        gmail_id
        for gmail_id, entry in expected["messages"].items()
        if entry["lead_source"] and messages[gmail_id].get("List-Unsubscribe")
    ]
    assert lead_with_list_unsubscribe


def test_customers_occur_in_their_messages(
    expected: dict[str, Any], messages: dict[str, mailbox.mboxMessage]
) -> None:
    for gmail_id, entry in expected["messages"].items():
        if entry["customer"]:
            assert entry["customer"] in decoded_text(messages[gmail_id]).lower(), gmail_id


def test_summary_agrees_with_the_messages(expected: dict[str, Any]) -> None:
    entries = list(expected["messages"].values())
    summary, totals = expected["summary"], expected["summary"]["totals"]
    kinds = Counter(entry["kind"] for entry in entries)
    assert totals["inbound"] == kinds["inbound"]
    assert totals["outbound"] == kinds["outbound"]
    assert totals["bounces"] == kinds["bounce"]
    assert totals["skipped"] == kinds["skip"]
    assert totals["quarantine_or_skip"] == kinds["quarantine_or_skip"]
    assert sum(kinds.values()) == totals["messages"]
    reasons = Counter(entry["skip_reason"] for entry in entries if entry["skip_reason"])
    assert totals["skipped_by_reason"] == dict(reasons)
    leads = Counter(entry["lead_source"] for entry in entries if entry["lead_source"])
    assert totals["leads_by_source"] == dict(leads)
    assert totals["leads"] == sum(leads.values())
    customers: Counter[str] = Counter()
    for entry in entries:
        if entry["kind"] in ("inbound", "outbound"):
            customers[entry["customer"]] += 1 if entry["lead_source"] else 0
    assert summary["customers"] == dict(customers)
    assert totals["customers"] == len(customers)
    # Malformed messages never introduce a customer of their own.
    for entry in entries:
        if entry["kind"] == "quarantine_or_skip" and entry["customer"]:
            assert entry["customer"] in customers


def test_the_sample_covers_what_it_promises(
    expected: dict[str, Any], messages: dict[str, mailbox.mboxMessage]
) -> None:
    totals = expected["summary"]["totals"]
    assert set(totals["leads_by_source"]) == set(build_sample.LEAD_SOURCES)
    assert set(totals["skipped_by_reason"]) == set(build_sample.SKIP_REASONS) - {"blocklist"}
    assert totals["bounces"] == 1 and totals["quarantine_or_skip"] == 2
    # One customer in two letter cases, and one with two leads from two sources.
    raw = SAMPLE_MBOX.read_bytes()
    assert b"Mette.Hansen@Gmail.com" in raw and b"mette.hansen@gmail.com" in raw
    assert expected["summary"]["customers"]["mette.hansen@gmail.com"] == 0
    assert expected["summary"]["customers"]["mads.nielsen.aarhus@outlook.dk"] == 2
    # Both encodings of Danish subjects, and the mbox escaping of body lines.
    assert b"Subject: =?UTF-8?Q?" in raw and b"Subject: =?ISO-8859-1?B?" in raw
    assert b"\n>From what I can see" in raw
    subjects = {header_text(m, "Subject") for m in messages.values()}
    assert "Tilbud på flytterengøring – 3.450 kr" in subjects
    assert "Nyt lead: Rengøring Aarhus" in subjects


def test_bounced_message_ids_are_our_outbound_messages(
    expected: dict[str, Any], messages: dict[str, mailbox.mboxMessage]
) -> None:
    bounced = expected["summary"]["bounced_message_ids"]
    assert bounced
    outbound_ids = {
        message_id_of(messages[gmail_id])
        for gmail_id, entry in expected["messages"].items()
        if entry["kind"] == "outbound"
    }
    assert set(bounced) <= outbound_ids
    bounces = [
        messages[gmail_id]
        for gmail_id, entry in expected["messages"].items()
        if entry["kind"] == "bounce"
    ]
    for bounce in bounces:
        assert bounce.get_content_type() == "multipart/report"
        status = next(p for p in bounce.walk() if p.get_content_type() == "message/delivery-status")
        blocks: list[Message] = status.get_payload()  # type: ignore[assignment]
        assert isinstance(blocks, list)
        original = str(blocks[0]["X-Original-Message-ID"]).strip().strip("<>")
        assert original in bounced
        final_recipient = str(blocks[1]["Final-Recipient"]).split(";")[1].strip()
        assert final_recipient.endswith("@gmial.com")


def test_dates_are_copenhagen_times_in_autumn_2025(
    expected: dict[str, Any], messages: dict[str, mailbox.mboxMessage]
) -> None:
    for gmail_id, message in messages.items():
        from_date = datetime.strptime(
            message.get_from().split(" ", 1)[1], "%a %b %d %H:%M:%S %z %Y"
        )
        assert datetime(2025, 9, 1, tzinfo=UTC) <= from_date < datetime(2025, 12, 1, tzinfo=UTC)
        # The Gmail id starts with the message's time in milliseconds.
        assert abs((int(gmail_id) >> 20) // 1000 - int(from_date.timestamp())) <= 1
        if expected["messages"][gmail_id]["kind"] == "quarantine_or_skip":
            continue
        date = parsedate_to_datetime(str(message["Date"]))
        assert date == from_date, gmail_id
        assert date.utcoffset() == build_sample.copenhagen_offset(date), gmail_id
    offsets = {
        parsedate_to_datetime(str(m["Date"])).utcoffset()
        for gid, m in messages.items()
        if expected["messages"][gid]["kind"] != "quarantine_or_skip"
    }
    assert offsets == {timedelta(hours=2), timedelta(hours=1)}


def test_malformed_messages_are_really_malformed(
    expected: dict[str, Any], messages: dict[str, mailbox.mboxMessage]
) -> None:
    broken = [
        messages[gid]
        for gid, e in expected["messages"].items()
        if e["kind"] == "quarantine_or_skip"
    ]
    assert any(m.get("From") is None and m.get("Date") is None for m in broken)
    mangled = next(m for m in broken if m.get("From"))
    assert mangled.defects  # the multipart boundary never occurs
    with pytest.raises((TypeError, ValueError)):
        parsedate_to_datetime(str(mangled["Date"]))
    raw = SAMPLE_MBOX.read_bytes()
    assert b"Subject: Sp\xf8rgsm\xe5l" in raw  # unencoded ISO-8859-1 header


# --------------------------------------------------------------------------- the generator


def test_mailbox_generator_is_deterministic_and_readable(tmp_path: Path) -> None:
    from bench.mailbox_generator import generate_mailbox

    first, second = tmp_path / "a.mbox", tmp_path / "b.mbox"
    summary = generate_mailbox(first, 600, seed=7)
    assert generate_mailbox(second, 600, seed=7) == summary
    assert first.read_bytes() == second.read_bytes()
    assert generate_mailbox(tmp_path / "c.mbox", 600, seed=8) != summary

    box = mailbox.mbox(first, create=False)
    try:
        found = list(box)
    finally:
        box.close()
    assert len(found) == summary["messages"] == 600
    assert sum(summary["by_category"].values()) == 600
    assert sum(summary["by_kind"].values()) == 600
    gmail_ids = [FROM_LINE.match(m.get_from()) for m in found]
    assert all(gmail_ids)
    assert len({match["id"] for match in gmail_ids if match}) == 600
    assert all(m["X-GM-THRID"] and m["X-Gmail-Labels"] for m in found)
    # Roughly a quarter as many customers as messages.
    assert 0.15 * 600 <= summary["customers"] <= 0.3 * 600
    assert summary["leads"] > 0 and summary["bounces"] > 0 and summary["malformed"] > 0


def test_the_history_sample_is_reproducible(tmp_path: Path) -> None:
    """history.mbox and history.json are what build_history writes, byte for byte, and
    every outcome names a lead email of the mailbox."""
    from worker.samples import build_history

    count = build_history.write_history(tmp_path / "h.mbox", tmp_path / "h.json")
    assert (tmp_path / "h.mbox").read_bytes() == build_history.HISTORY_MBOX.read_bytes()
    assert (tmp_path / "h.json").read_bytes() == build_history.HISTORY_JSON.read_bytes()
    assert count == 2 * 12 * build_history.LEADS_PER_MONTH  # each lead email and our reply
    outcomes = json.loads(build_history.HISTORY_JSON.read_text(encoding="utf-8"))["outcomes"]
    box = mailbox.mbox(build_history.HISTORY_MBOX, create=False)
    try:
        leads = {
            message.get_from().split("@")[0] for message in box if "Leads" in labels_of(message)
        }
    finally:
        box.close()
    assert len(leads) == 12 * build_history.LEADS_PER_MONTH
    assert set(outcomes) <= leads
    assert 0 < sum(o["accepted"] for o in outcomes.values()) < len(outcomes)
