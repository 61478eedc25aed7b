"""parse_message never raises, whatever the bytes, and never returns unstorable text."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from datetime import UTC
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.mail.message import ParsedMessage, ParseLimits, Unparseable
from worker.mail.parse import parse_message

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.eml"))
CORPUS_MESSAGES = [path.read_bytes() for path in CORPUS]

# Derandomised so CI sees the same examples every run; no example database on disk.
fuzz = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def strings_in(value: object) -> Iterator[str]:
    """Every string reachable from a parse result."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from strings_in(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from strings_in(getattr(value, field.name))


def assert_sane(raw: bytes, limits: ParseLimits = ParseLimits()) -> None:
    result = parse_message(raw, limits)

    assert isinstance(result, ParsedMessage | Unparseable)
    for text in strings_in(result):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates: PostgreSQL must accept it
    # The guards inside the parser are a last resort; input should never reach them.
    if isinstance(result, Unparseable):
        assert result.reason
        assert not result.reason.startswith("parser error"), result.reason
        return
    assert not [defect for defect in result.defects if defect.startswith("could not read")]
    assert len(result.body_preview) <= max(limits.preview_chars, 0)
    assert result.date is None or result.date.tzinfo is UTC
    assert result.content_type == result.content_type.lower()
    assert all(attachment.size >= 0 for attachment in result.attachments)
    assert all(not ref.startswith("<") for ref in result.references)


HEADER_NAMES = [
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "MIME-Version",
    "List-Id",
    "X-Gmail-Labels",
    "Return-Path",
    "",
    " From",
    "X-\x00",
    "Subject ",
]
VALUE_FRAGMENTS = [
    "=?UTF-8?Q?Tilbud_p=C3=A5?=",
    "=?ISO-8859-1?B?U/hyZW4=?=",
    "=?x-foo?Q?=FF?=",
    "=?utf-8?B?!!!?=",
    "=?base64?Q?abc?=",
    "=?",
    "?=",
    '"Hansen, Jens" <jens@x.dk>',
    "info@rendetalje.dk",
    "foo@",
    "<>",
    "undisclosed-recipients:;",
    'multipart/mixed; boundary="b"',
    "multipart/alternative; boundary=b",
    "message/rfc822",
    "message/delivery-status",
    "multipart/report; report-type=delivery-status; boundary=r",
    "text/html; charset=x-unknown",
    "text/plain; charset=utf-16",
    "text/plain; charset=zlib",
    "text/plain; format=flowed; charset*=utf-8''x",
    "base64",
    "quoted-printable",
    "x-uuencode",
    "attachment; filename*=UTF-8''%C3%B8.pdf",
    "inline; filename*0*=bogus''%FF; filename*1=x",
    "Tue, 3 Sep 2024 17:14:15 +0200",
    "Fri, 99 Xyz 99999 99:99:99 +9999",
    "<a@b.dk>",
    "<",
    ">",
    "(",
    ")",
    "\\",
    '"',
    ",",
    ";",
    ":",
    "\x00",
    "\xf8",
    "Søren",
    "\n ",
    "\t",
    "\r",
    " ",
]
BODY_FRAGMENTS = [
    "--b\n",
    "--b--\n",
    "--r\n",
    "Content-Type: text/plain\n\n",
    "Content-Type: text/html; charset=utf-8\n\n",
    "Content-Type: message/rfc822\n\n",
    "Content-Type: message/delivery-status\n\n",
    "Content-Transfer-Encoding: base64\n",
    "Content-Disposition: attachment; filename=x.pdf\n",
    "Final-Recipient: rfc822; x@y.dk\n",
    "Action: failed\n",
    "Status: 5.1.1\n",
    "Message-ID: <orig@rendetalje.dk>\n",
    "=C3=A5",
    "=\n",
    "=ZZ",
    "SGVq",
    "====",
    "<html><p>Hej</p>",
    "<!--",
    "<![CDATA[",
    "<table><tr><td>Navn:",
    "&#xD800;&#0;&bogus;",
    "begin 644 x\n",
    "\x00",
    "\udcff",
    "Hvor stort er området?\n",
    "\n",
    "\r\n",
    " ",
]
LINE_ENDS = ["\n", "\r\n", "\r"]


@st.composite
def header_soup(draw: st.DrawFn) -> bytes:
    """Header and body lines built from realistic, often broken, fragments."""
    line_end = draw(st.sampled_from(LINE_ENDS))
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        name = draw(st.sampled_from(HEADER_NAMES))
        value = "".join(draw(st.lists(st.sampled_from(VALUE_FRAGMENTS), max_size=6)))
        lines.append(f"{name}: {value}")
    body = "".join(draw(st.lists(st.sampled_from(BODY_FRAGMENTS), max_size=30)))
    text = line_end.join(lines) + line_end * draw(st.integers(0, 2)) + body
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    noise = draw(st.binary(max_size=40))
    return text.encode(encoding, "surrogateescape" if encoding == "utf-8" else "replace") + noise


@st.composite
def mutated_corpus_message(draw: st.DrawFn) -> bytes:
    """A corpus message with a few bytes flipped, dropped, repeated or inserted."""
    raw = bytearray(draw(st.sampled_from(CORPUS_MESSAGES)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "delete", "duplicate", "insert", "truncate"]))
        at = draw(st.integers(0, max(len(raw) - 1, 0)))
        length = draw(st.integers(1, 200))
        if kind == "flip" and raw:
            raw[at] ^= draw(st.integers(1, 255))
        elif kind == "delete":
            del raw[at : at + length]
        elif kind == "duplicate":
            raw[at:at] = raw[at : at + length]
        elif kind == "insert":
            fragment = draw(st.sampled_from(BODY_FRAGMENTS + VALUE_FRAGMENTS))
            raw[at:at] = fragment.encode("utf-8", "surrogateescape")
        elif kind == "truncate":
            del raw[at:]
    return bytes(raw)


@st.composite
def nested_message(draw: st.DrawFn) -> bytes:
    """Multiparts and attached messages inside each other, sometimes left unclosed."""
    depth = draw(st.integers(0, 40))
    line_end = draw(st.sampled_from(LINE_ENDS))
    opening: list[str] = ["From: a@b.dk"]
    closing: list[str] = []
    for level in range(depth):
        if draw(st.booleans()):
            opening += [f'Content-Type: multipart/mixed; boundary="n{level}"', "", f"--n{level}"]
            if draw(st.integers(0, 4)):  # now and then the close boundary is missing
                closing.insert(0, f"--n{level}--")
        else:
            opening += ["Content-Type: message/rfc822", "", "From: b@c.dk"]
    leaf = draw(st.sampled_from(["text/plain", "text/html", "application/pdf"]))
    lines = [*opening, f"Content-Type: {leaf}", "", "Hvor stort er området?", *closing]
    return line_end.join(lines).encode("utf-8")


@fuzz
@given(st.binary(max_size=3000))
def test_random_bytes(raw: bytes) -> None:
    assert_sane(raw)


@fuzz
@given(header_soup())
def test_header_soup(raw: bytes) -> None:
    assert_sane(raw)


@fuzz
@given(header_soup(), st.integers(-1, 40), st.integers(0, 3), st.integers(1, 6))
def test_header_soup_with_tight_limits(
    raw: bytes, preview_chars: int, max_depth: int, max_parts: int
) -> None:
    limits = ParseLimits(
        max_bytes=2000, max_depth=max_depth, max_parts=max_parts, preview_chars=preview_chars
    )
    assert_sane(raw, limits)


@fuzz
@given(mutated_corpus_message())
def test_mutated_corpus_messages(raw: bytes) -> None:
    assert_sane(raw)
    assert parse_message(raw) == parse_message(raw)  # pure: same bytes, same result


@fuzz
@given(nested_message())
def test_deeply_nested_messages(raw: bytes) -> None:
    assert_sane(raw)
    assert_sane(raw, ParseLimits(max_depth=5, max_parts=8))


def test_every_corpus_message_is_sane() -> None:
    assert CORPUS_MESSAGES
    for raw in CORPUS_MESSAGES:
        assert_sane(raw)
