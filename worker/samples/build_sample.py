"""Write the sample mailbox ``rendetalje.mbox`` and ``expected.json``, deterministically.

    python -m worker.samples.build_sample            # rewrites both files here
    python -m worker.samples.build_sample OUT.mbox   # writes OUT.mbox and OUT.json

The mailbox imitates a Google Takeout export of info@rendetalje.dk: one mbox file,
each message introduced by ``From <gmail id>@xxx <UTC date>``, carrying ``X-GM-THRID``
and ``X-Gmail-Labels``. Every message is declared below together with what correct
ingestion must decide about it; ``expected.json`` is written from those declarations.
Nothing here is random: ids, Message-IDs and MIME boundaries are derived from fixed
keys, so running the script twice gives byte-identical files.

The helpers at the top (dates, ids, header encoding, MIME bodies, quoting) are also
used by ``bench/mailbox_generator.py``.
"""

# Message bodies keep their long lines, as mail programs write them.
# ruff: noqa: E501

from __future__ import annotations

import base64
import hashlib
import html
import json
import mailbox
import os
import quopri
import string
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from textwrap import dedent
from typing import Any

SAMPLES_DIR = Path(__file__).resolve().parent
MBOX_PATH = SAMPLES_DIR / "rendetalje.mbox"
EXPECTED_PATH = SAMPLES_DIR / "expected.json"

MAILBOX = "info@rendetalje.dk"
OWN_DOMAIN = "rendetalje.dk"

Addr = tuple[str, str]  # (display name, address as written)
Header = tuple[str, str]  # (name, value as it goes on the wire, folded with "\n ")

US: Addr = ("Rendetalje", MAILBOX)

# --------------------------------------------------------------------------- dates

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DA_WEEKDAYS = ("man.", "tir.", "ons.", "tor.", "fre.", "lør.", "søn.")
_DA_WEEKDAYS_LONG = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
_DA_MONTHS = (
    "jan.",
    "feb.",
    "mar.",
    "apr.",
    "maj",
    "jun.",
    "jul.",
    "aug.",
    "sep.",
    "okt.",
    "nov.",
    "dec.",
)
_DA_MONTHS_LONG = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)


def _nth_sunday(year: int, month: int, n: int) -> date:
    """The n-th Sunday of the month; n = -1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))
    following = date(year + month // 12, month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 6) % 7)


def _utc_at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def copenhagen_offset(moment: datetime) -> timedelta:
    """Europe/Copenhagen's UTC offset at ``moment`` (EU rule: last Sundays of March/October)."""
    year = moment.astimezone(UTC).year
    start = _utc_at(_nth_sunday(year, 3, -1), 1)
    end = _utc_at(_nth_sunday(year, 10, -1), 1)
    return timedelta(hours=2 if start <= moment < end else 1)


def pacific_offset(moment: datetime) -> timedelta:
    """US Pacific time offset, which Google's servers use in Received headers."""
    year = moment.astimezone(UTC).year
    start = _utc_at(_nth_sunday(year, 3, 2), 10)
    end = _utc_at(_nth_sunday(year, 11, 1), 9)
    return timedelta(hours=-7 if start <= moment < end else -8)


def copenhagen(
    year: int, month: int, day: int, hour: int, minute: int, second: int = 0
) -> datetime:
    """A Copenhagen wall-clock time as an aware datetime with the right offset."""
    for hours in (2, 1):
        candidate = datetime(
            year, month, day, hour, minute, second, tzinfo=timezone(timedelta(hours=hours))
        )
        if copenhagen_offset(candidate) == timedelta(hours=hours):
            return candidate
    raise ValueError("not a valid Copenhagen time")


def local_time(moment: datetime) -> datetime:
    return moment.astimezone(timezone(copenhagen_offset(moment)))


def rfc_date(moment: datetime) -> str:
    """``Mon, 29 Sep 2025 11:14:03 +0200`` in Copenhagen time."""
    return format_datetime(local_time(moment))


def received_date(moment: datetime) -> str:
    """``Mon, 29 Sep 2025 02:14:04 -0700 (PDT)``, as Google's servers write it."""
    offset = pacific_offset(moment)
    name = "PDT" if offset == timedelta(hours=-7) else "PST"
    return f"{format_datetime(moment.astimezone(timezone(offset)))} ({name})"


def takeout_from_line(gmail_id: str, moment: datetime) -> str:
    """The From_ line without "From ": ``1790…@xxx Mon Sep 29 09:14:03 +0000 2025``."""
    utc = moment.astimezone(UTC)
    return (
        f"{gmail_id}@xxx {_WEEKDAYS[utc.weekday()]} {_MONTHS[utc.month - 1]} {utc.day:02d} "
        f"{utc:%H:%M:%S} +0000 {utc.year}"
    )


def danish_attribution(moment: datetime, who: Addr) -> str:
    """Gmail's Danish reply line: ``Den man. 29. sep. 2025 kl. 11.14 skrev Anna <a@b>:``."""
    t = local_time(moment)
    return (
        f"Den {_DA_WEEKDAYS[t.weekday()]} {t.day}. {_DA_MONTHS[t.month - 1]} {t.year} "
        f"kl. {t:%H.%M} skrev {display(who)}:"
    )


def english_attribution(moment: datetime, who: Addr) -> str:
    """Gmail's English (UK) reply line: ``On Wed, 22 Oct 2025 at 19:41, James <j@x> wrote:``."""
    t = local_time(moment)
    month = "Sept" if t.month == 9 else _MONTHS[t.month - 1]
    return (
        f"On {_WEEKDAYS[t.weekday()]}, {t.day} {month} {t.year} at {t:%H:%M}, {display(who)} wrote:"
    )


def danish_long_date(moment: datetime) -> str:
    """``mandag den 29. september 2025 12.02``, as Outlook writes it in quoted headers."""
    t = local_time(moment)
    return (
        f"{_DA_WEEKDAYS_LONG[t.weekday()]} den {t.day}. {_DA_MONTHS_LONG[t.month - 1]} "
        f"{t.year} {t:%H.%M}"
    )


# --------------------------------------------------------------------------- ids


def digest(salt: str) -> bytes:
    return hashlib.sha256(salt.encode("utf-8")).digest()


def gmail_id(moment: datetime, salt: str) -> str:
    """A Gmail message id in decimal, as Takeout writes it: milliseconds << 20 | 20 bits."""
    millis = int(moment.timestamp()) * 1000 + int.from_bytes(digest("ms" + salt)[:2]) % 1000
    return str((millis << 20) | (int.from_bytes(digest(salt)[:4]) & 0xFFFFF))


def gmail_message_id(salt: str) -> str:
    token = base64.b64encode(digest("gmail" + salt) + digest("more" + salt)[:8]).decode()
    token = token.rstrip("=").replace("/", "_")
    return f"CA{'FJKNO'[digest(salt)[0] % 5]}{token[:45]}@mail.gmail.com"


def outlook_message_id(salt: str) -> str:
    raw = digest("outlook" + salt)
    server = f"AS8PR0{raw[0] % 9 + 1}MB{1000 + int.from_bytes(raw[1:3]) % 9000}"
    return f"{server}{raw[3:16].hex().upper()}@{server}.eurprd0{raw[0] % 9 + 1}.prod.outlook.com"


def token(salt: str, length: int = 16) -> str:
    return digest(salt).hex()[:length]


def gmail_boundary(salt: str) -> str:
    return "000000000000" + token("boundary" + salt)


def received_header(moment: datetime, salt: str) -> Header:
    raw = digest("received" + salt)
    smtp_id = f"{chr(97 + raw[0] % 26)}{raw[1] % 90 + 10}csp{int.from_bytes(raw[2:5])}"
    return (
        "Received",
        f"by 2002:a05:7022:{raw[5:7].hex()}:b0:{raw[7] % 200 + 50}:{raw[8:10].hex()}:"
        f"{raw[10:12].hex()} with SMTP id {smtp_id};\n"
        f"        {received_date(moment + timedelta(seconds=1))}",
    )


# --------------------------------------------------------------------------- headers

_Q_SAFE = frozenset(string.ascii_letters + string.digits + "!*+-/")
_ENCODED_WORD_MAX = 75


def encode_q(text: str, charset: str = "UTF-8") -> str:
    """RFC 2047 Q encoding, split into words of at most 75 characters, folded."""
    prefix = f"=?{charset}?Q?"
    room = _ENCODED_WORD_MAX - len(prefix) - 2
    words: list[str] = []
    current = ""
    for char in text:
        if char == " ":
            piece = "_"
        elif char in _Q_SAFE:
            piece = char
        else:
            piece = "".join(f"={byte:02X}" for byte in char.encode(charset))
        if len(current) + len(piece) > room:
            words.append(current)
            current = ""
        current += piece
    words.append(current)
    return "\n ".join(f"{prefix}{word}?=" for word in words)


def encode_b(text: str, charset: str = "ISO-8859-1") -> str:
    """RFC 2047 B encoding, split into words of at most 75 characters, folded."""
    prefix = f"=?{charset}?B?"
    room = (_ENCODED_WORD_MAX - len(prefix) - 2) // 4 * 3  # bytes per word
    chunks: list[bytes] = []
    current = b""
    for char in text:
        piece = char.encode(charset)
        if len(current) + len(piece) > room:
            chunks.append(current)
            current = b""
        current += piece
    chunks.append(current)
    return "\n ".join(f"{prefix}{base64.b64encode(chunk).decode()}?=" for chunk in chunks)


def encode_header(text: str, charset: str = "UTF-8") -> str:
    """Plain ASCII stays as it is; anything else becomes encoded words."""
    if text.isascii():
        return text
    return encode_b(text, charset) if charset.upper() == "ISO-8859-1" else encode_q(text, charset)


_SPECIALS = set('()<>[]:;@\\,."')


def display(address: Addr) -> str:
    """``Name <email>`` as a human reads it (no encoding)."""
    name, email = address
    return f"{name} <{email}>" if name else email


def format_address(address: Addr, charset: str = "UTF-8") -> str:
    """``Name <email>`` for a header: the name quoted or encoded when it must be."""
    name, email = address
    if not name:
        return email
    if not name.isascii():
        return f"{encode_header(name, charset)} <{email}>"
    if any(char in _SPECIALS for char in name):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{email}>'
    return f"{name} <{email}>"


def format_addresses(addresses: Iterable[Addr]) -> str:
    return ",\n ".join(format_address(address) for address in addresses)


# --------------------------------------------------------------------------- bodies


@dataclass(frozen=True, slots=True)
class Body:
    """A MIME entity: its Content-* headers and its encoded payload."""

    headers: tuple[Header, ...]
    payload: bytes

    def render(self) -> bytes:
        lines = "".join(f"{name}: {value}\n" for name, value in self.headers)
        return lines.encode("ascii") + b"\n" + self.payload


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def text_body(
    text: str, subtype: str = "plain", charset: str = "UTF-8", encoding: str = "quoted-printable"
) -> Body:
    data = _with_newline(text).encode(charset)
    if encoding == "quoted-printable":
        payload = quopri.encodestring(data)
    elif encoding == "base64":
        payload = base64.encodebytes(data)
    elif encoding in ("7bit", "8bit"):
        payload = data
    else:
        raise ValueError(f"unknown transfer encoding {encoding!r}")
    content_type = f'text/{subtype}; charset="{charset}"'
    if encoding == "7bit":
        return Body((("Content-Type", content_type),), payload)
    return Body((("Content-Type", content_type), ("Content-Transfer-Encoding", encoding)), payload)


def multipart(subtype: str, parts: Sequence[Body], boundary: str, params: str = "") -> Body:
    out = b""
    for part in parts:
        out += f"--{boundary}\n".encode() + part.render()
        if not out.endswith(b"\n"):
            out += b"\n"
    out += f"--{boundary}--\n".encode()
    return Body((("Content-Type", f'multipart/{subtype}; boundary="{boundary}"{params}'),), out)


def alternative(text: str, html_text: str, boundary: str, charset: str = "UTF-8") -> Body:
    return multipart(
        "alternative",
        [text_body(text, charset=charset), text_body(html_text, "html", charset=charset)],
        boundary,
    )


def quote_lines(text: str) -> str:
    return "\n".join(">" if not line else f"> {line}" for line in text.rstrip("\n").split("\n"))


def html_lines(text: str) -> str:
    """Text as Gmail's composer renders it: one <div> per line, <br> for blank lines."""
    out = []
    for line in text.rstrip("\n").split("\n"):
        out.append(f"<div>{html.escape(line, quote=False)}</div>" if line else "<div><br></div>")
    return "".join(out)


def gmail_html(own: str, attribution: str | None = None, quoted: str | None = None) -> str:
    result = f'<div dir="ltr">{html_lines(own)}</div>'
    if attribution is not None and quoted is not None:
        result += (
            '<br><div class="gmail_quote gmail_quote_container"><div dir="ltr" '
            f'class="gmail_attr">{html.escape(attribution, quote=False)}<br></div>'
            '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
            'border-left:1px solid rgb(204,204,204);padding-left:1ex">'
            f"{html_lines(quoted)}</blockquote></div>"
        )
    return result + "\n"


def outlook_html(own: str, quoted_block: str | None = None) -> str:
    paragraphs = "".join(
        f'<div style="font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt">'
        f"{html.escape(line, quote=False) or '<br>'}</div>"
        for line in own.rstrip("\n").split("\n")
    )
    result = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        f'</head><body dir="ltr">{paragraphs}'
    )
    if quoted_block:
        result += '<hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg">'
        result += "<br>".join(html.escape(line, quote=False) for line in quoted_block.split("\n"))
        result += "</div>"
    return result + "</body></html>\n"


def lead_html(title: str, fields: Sequence[tuple[str, str]], footer: str) -> str:
    rows = "".join(
        f'<tr><td style="padding:4px 12px 4px 0;font-weight:bold;vertical-align:top">'
        f'{html.escape(label)}</td><td style="padding:4px 0">'
        f"{html.escape(value).replace(chr(10), '<br>')}</td></tr>"
        for label, value in fields
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        '<body style="font-family:Arial,sans-serif;font-size:14px;color:#222">'
        f'<h2 style="color:#0a7d5c">{html.escape(title)}</h2>'
        f'<table cellpadding="0" cellspacing="0" border="0">{rows}</table>'
        f'<p style="color:#888;font-size:12px">{html.escape(footer)}</p></body></html>\n'
    )


def render_message(headers: Sequence[Header], body: Body) -> bytes:
    """Headers, then the body's own Content-* headers, a blank line and the payload."""
    return Body((*headers, *body.headers), body.payload).render()


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True, slots=True)
class Expect:
    kind: str  # inbound | outbound | skip | bounce | quarantine_or_skip
    customer: str | None = None
    lead_source: str | None = None
    skip_reason: str | None = None
    bounced: tuple[str, ...] = ()  # Message-IDs a bounce reports as undeliverable


def inbound(customer: str, lead_source: str | None = None) -> Expect:
    return Expect("inbound", customer.lower(), lead_source)


def outbound(customer: str) -> Expect:
    return Expect("outbound", customer.lower())


def skip(reason: str) -> Expect:
    return Expect("skip", skip_reason=reason)


def quarantine_or_skip(customer: str | None = None) -> Expect:
    """Malformed: stored or quarantined, never a crash; never creates a customer or lead."""
    return Expect("quarantine_or_skip", customer.lower() if customer else None)


SKIP_REASONS = (
    "label:spam",
    "label:trash",
    "label:draft",
    "noise:no-reply",
    "blocklist",
    "bulk:list-unsubscribe",
    "bulk:list-id",
    "bulk:precedence",
    "bulk:auto-submitted",
    "internal",
)
KINDS = ("inbound", "outbound", "skip", "bounce", "quarantine_or_skip")
LEAD_SOURCES = ("rengoring.nu", "leadpoint", "website")


# --------------------------------------------------------------------------- the builder


@dataclass(slots=True)
class Entry:
    key: str
    when: datetime
    gmail_id: str
    thread_id: str
    message_id: str | None
    references: tuple[str, ...]
    labels: tuple[str, ...]
    raw: bytes  # the message without the From_ line
    text: str  # plain text, for quoting in replies
    subject: str
    sender: Addr | None
    expect: Expect


@dataclass
class Sample:
    entries: list[Entry] = field(default_factory=list)

    def add(
        self,
        key: str,
        when: datetime,
        *,
        labels: str,
        headers: Sequence[Header],
        body: Body | bytes,
        expect: Expect,
        thread: Entry | None = None,
        message_id: str | None = None,
        references: tuple[str, ...] = (),
        text: str = "",
        subject: str = "",
        sender: Addr | None = None,
    ) -> Entry:
        if any(entry.key == key for entry in self.entries):
            raise ValueError(f"duplicate key {key!r}")
        gid = gmail_id(when, key)
        thread_id = thread.thread_id if thread is not None else gid
        label_list = tuple(label.strip() for label in labels.split(","))
        top: list[Header] = [("X-GM-THRID", thread_id), ("X-Gmail-Labels", ",".join(label_list))]
        if isinstance(body, Body):
            raw = render_message([*top, *headers], body)
        else:  # raw bytes, written as they are after the header lines given
            lines = "".join(f"{name}: {value}\n" for name, value in [*top, *headers])
            raw = lines.encode("ascii") + body
        entry = Entry(
            key,
            when,
            gid,
            thread_id,
            message_id,
            references,
            label_list,
            raw,
            text,
            subject,
            sender,
            expect,
        )
        self.entries.append(entry)
        return entry

    def mail(
        self,
        key: str,
        when: datetime,
        *,
        sender: Addr,
        to: Sequence[Addr],
        subject: str,
        text: str,
        labels: str,
        expect: Expect,
        style: str = "gmail",
        reply: Entry | None = None,
        thread: Entry | None = None,
        cc: Sequence[Addr] = (),
        reply_to: Addr | None = None,
        extra: Sequence[Header] = (),
        subject_charset: str = "UTF-8",
        sender_charset: str = "UTF-8",
        body: Body | None = None,
        message_id: str | None = None,
        return_path: str | None = None,
        quote: bool = True,
        plain: bool = False,
    ) -> Entry:
        """A message in the shape its sender's mail program would give it.

        ``style`` is "gmail" (text + HTML, quoted reply below), "outlook" (text + HTML,
        Outlook's "Fra:/Sendt:" block) or "english" (Gmail in English); a ``body``
        given explicitly is used as it is; ``plain`` sends the text alone (text/plain).
        """
        references: tuple[str, ...] = ()
        own = _with_newline(text)
        full = own
        attribution = quoted = None
        if reply is not None:
            assert reply.message_id is not None
            references = (*reply.references, reply.message_id)
            thread = thread or reply
            if quote:
                quoted = reply.text
                assert reply.sender is not None
                if style == "outlook":
                    attribution = (
                        "________________________________\n"
                        f"Fra: {display(reply.sender)}\n"
                        f"Sendt: {danish_long_date(reply.when)}\n"
                        f"Til: {display(sender) if reply.sender == US else display(US)}\n"
                        f"Emne: {reply.subject}"
                    )
                    full = f"{own}\n{attribution}\n\n{quoted}"
                else:
                    attribution = (
                        english_attribution(reply.when, reply.sender)
                        if style == "english"
                        else danish_attribution(reply.when, reply.sender)
                    )
                    full = f"{own}\n{attribution}\n\n{quote_lines(quoted)}\n"
        if message_id is None:
            message_id = outlook_message_id(key) if style == "outlook" else gmail_message_id(key)
        if body is None and plain:
            body = text_body(full)
        if body is None:
            if style == "outlook":
                boundary = f"_000_{message_id.split('@')[0]}_"
                block = f"{attribution}\n\n{quoted}" if attribution and quoted else None
                body = alternative(full, outlook_html(own, block), boundary)
            else:
                body = alternative(full, gmail_html(own, attribution, quoted), gmail_boundary(key))

        label_set = {label.strip() for label in labels.split(",")}
        headers: list[Header] = []
        if not label_set & {"Sent", "Draft"}:
            headers.append(("Delivered-To", MAILBOX))
            headers.append(received_header(when, key))
            headers.append(("Return-Path", f"<{return_path or sender[1]}>"))
        headers.extend(extra)
        headers.append(("MIME-Version", "1.0"))
        if references:
            headers.append(("References", "\n ".join(f"<{ref}>" for ref in references)))
            headers.append(("In-Reply-To", f"<{references[-1]}>"))
        headers.append(("From", format_address(sender, sender_charset)))
        headers.append(("Date", rfc_date(when)))
        headers.append(("Message-ID", f"<{message_id}>"))
        headers.append(("Subject", encode_header(subject, subject_charset)))
        headers.append(("To", format_addresses(to)))
        if cc:
            headers.append(("Cc", format_addresses(cc)))
        if reply_to is not None:
            headers.append(("Reply-To", format_address(reply_to)))
        return self.add(
            key,
            when,
            labels=labels,
            headers=headers,
            body=body,
            expect=expect,
            thread=thread,
            message_id=message_id,
            references=references,
            text=full,
            subject=subject,
            sender=sender,
        )


def T(text: str) -> str:  # noqa: N802 - reads like a literal marker in the data below
    """A dedented text block without its first newline."""
    return dedent(text).lstrip("\n")


SIGNATURE = T("""
    Med venlig hilsen

    Rendetalje
    Rengøring i Aarhus og omegn
    Tlf. 86 20 40 60 · info@rendetalje.dk · rendetalje.dk
""")

SIGNATURE_EN = T("""
    Kind regards

    Rendetalje
    Cleaning in Aarhus and surroundings
    Phone +45 86 20 40 60 · info@rendetalje.dk · rendetalje.dk
""")

LEADMAIL: Addr = ("Rengøring.nu via Leadmail", "noreply@leadmail.no")
LEADPOINT: Addr = ("Leadpoint", "leads@leadpoint.dk")
WORDPRESS: Addr = ("Rendetalje", "wordpress@rendetalje.dk")
LEADMAIL_BOUNCES = "bounce+rendetalje=rendetalje.dk@leadmail.no"


def leadmail_headers(salt: str) -> list[Header]:
    return [
        (
            "List-Unsubscribe",
            f"<https://leadmail.no/u/{token(salt, 24)}>,\n <mailto:unsubscribe@leadmail.no?subject={token(salt, 12)}>",
        ),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("X-Mailer", "Leadmail 4.2"),
    ]


def leadmail_message_id(when: datetime, salt: str) -> str:
    return f"{when.astimezone(UTC):%Y%m%d%H%M%S}.{token(salt, 10)}@leadmail.no"


def leadpoint_message_id(number: int, when: datetime) -> str:
    return f"lead-{number}.{int(when.timestamp())}@leadpoint.dk"


def wordpress_message_id(salt: str) -> str:
    return f"{token(salt, 32)}@rendetalje.dk"


# --------------------------------------------------------------------------- the sample


def build() -> Sample:
    s = Sample()
    cph = copenhagen

    anna: Addr = ("Anna Jensen", "anna.jensen84@gmail.com")
    mads: Addr = ("Mads Nielsen", "mads.nielsen.aarhus@outlook.dk")
    mads_form: Addr = ("Mads Nielsen", "Mads.Nielsen.Aarhus@outlook.dk")
    sofie: Addr = ("Sofie Lund", "sofielund93@hotmail.dk")
    soren: Addr = ("Søren Madsen", "soren.madsen@gmial.com")  # the typo is the customer's
    karina: Addr = ("Karina Holm", "karina.holm@hotmail.dk")
    peter: Addr = ("Peter Kjær", "peter@kjaer-ejendomme.dk")
    julie: Addr = ("Julie Andersen", "julie.andersen@gmail.com")
    mette: Addr = ("Mette Hansen", "Mette.Hansen@Gmail.com")
    mette_lower: Addr = ("Mette Hansen", "mette.hansen@gmail.com")
    james: Addr = ("James O'Connor", "james.oconnor@outlook.com")
    henrik: Addr = ("Henrik Bach", "henrik@bach-fysio.dk")
    lone: Addr = ("Lone Bach", "lone@bach-fysio.dk")
    birgitte: Addr = ("Birgitte Thomsen", "birgitte.thomsen@live.dk")
    louise: Addr = ("Louise Winther", "louise.winther@gmail.com")
    lars: Addr = ("Lars Pedersen", "lars@rendetalje.dk")

    # ---- Anna Jensen: Rengøring.nu lead -> reply -> quote -> acceptance -> booking -> thanks
    when = cph(2025, 9, 29, 11, 14, 3)
    anna_lead = s.mail(
        "anna-lead",
        when,
        sender=LEADMAIL,
        to=[US],
        reply_to=anna,
        subject="Nyt lead fra Rengøring.nu",
        labels="Inbox,Important,Opened,Category Updates,Leads",
        extra=leadmail_headers("anna-lead"),
        return_path=LEADMAIL_BOUNCES,
        message_id=leadmail_message_id(when, "anna-lead"),
        text=T("""
            Du har modtaget et nyt lead fra Rengøring.nu

            Navn: Anna Jensen
            Email: anna.jensen84@gmail.com
            Telefon: 12 34 56 78
            Adresse: Søndergade 12, 1. tv, 8000 Aarhus C
            Boligtype: Lejlighed
            Behov: Flytterengøring
            Hvor stort er området: 120 m2
            Antal rum: 4
            Ønsket dato: Fredag den 31. oktober
            Besked: Vi flytter ud den 31. oktober og skal aflevere lejligheden til udlejer den 1. november. Der er to badeværelser, og køkkenet trænger til en ordentlig omgang, især ovn og emhætte.

            Svar kunden hurtigst muligt. Kunder, der får svar inden for en time, vælger oftere firmaet.

            Med venlig hilsen
            Rengøring.nu

            --
            Denne e-mail er sendt til info@rendetalje.dk via Leadmail.
            Afmeld leads: https://leadmail.no/u/3c9e1a7f
        """),
        plain=True,
        expect=inbound(anna[1], "rengoring.nu"),
    )
    s.mail(
        "anna-reply",
        cph(2025, 9, 29, 12, 2, 41),
        sender=US,
        to=[anna],
        reply=anna_lead,
        labels="Sent",
        subject="Re: Nyt lead fra Rengøring.nu",
        text=T("""
            Hej Anna

            Tak for din forespørgsel på flytterengøring via Rengøring.nu.

            Vi har god erfaring med lejligheder på Søndergade og kan sagtens nå det fredag den 31. oktober, så I er klar til afleveringen den 1. november. Jeg sender dig et fast tilbud i løbet af i dag ud fra de 120 m2, inklusive ovn, emhætte og begge badeværelser.

        """)
        + SIGNATURE,
        expect=outbound(anna[1]),
    )
    anna_quote = s.mail(
        "anna-quote",
        cph(2025, 9, 29, 16, 40, 12),
        sender=US,
        to=[anna],
        labels="Sent",
        subject="Tilbud på flytterengøring – 3.450 kr",
        text=T("""
            Hej Anna

            Som lovet får du her vores tilbud på flytterengøring af Søndergade 12, 1. tv, 8000 Aarhus C.

            Opgave: Flytterengøring af lejlighed på 120 m2 (4 rum, køkken og 2 badeværelser)
            Inkluderet: Ovn, emhætte, køleskab, skabe ind- og udvendigt, badeværelser med afkalkning, vinduer indvendigt, gulve og paneler
            Dato: Fredag den 31. oktober 2025 fra kl. 8.00
            Pris: 3.450 kr. inkl. moms

            Vi giver afleveringsgaranti: Hvis udlejer har bemærkninger til rengøringen, kommer vi tilbage og udbedrer dem uden beregning.

            Tilbuddet gælder i 14 dage. Du skal bare svare på denne mail, hvis I vil have det.

        """)
        + SIGNATURE,
        expect=outbound(anna[1]),
    )
    anna_accept = s.mail(
        "anna-accept",
        cph(2025, 9, 30, 8, 12, 55),
        sender=anna,
        to=[US],
        reply=anna_quote,
        labels="Inbox,Important,Opened,Starred",
        subject="Re: Tilbud på flytterengøring – 3.450 kr",
        text=T("""
            Hej

            Det lyder rigtig fint. Vi vil gerne takke ja til tilbuddet på 3.450 kr. for flytterengøringen fredag den 31. oktober.

            Nøglerne kan hentes hos viceværten i opgang 12 torsdag eftermiddag. Skal vi betale på forhånd eller bagefter?

            Mvh
            Anna Jensen
            12 34 56 78
        """),
        expect=inbound(anna[1]),
    )
    s.mail(
        "anna-booking",
        cph(2025, 9, 30, 9, 5, 18),
        sender=US,
        to=[anna],
        reply=anna_accept,
        labels="Sent",
        subject="Re: Tilbud på flytterengøring – 3.450 kr",
        text=T("""
            Hej Anna

            Tak, det er vi glade for. Hermed bekræftelse af jeres booking:

            Bekræftelse af booking
            Opgave: Flytterengøring, 120 m2
            Adresse: Søndergade 12, 1. tv, 8000 Aarhus C
            Dato: Fredag den 31. oktober 2025, fra kl. 8.00 (forventet færdig ca. kl. 15)
            Pris: 3.450 kr. inkl. moms

            Vi henter nøglerne hos viceværten torsdag, og du betaler først, når lejligheden er godkendt ved afleveringen – via MobilePay eller bankoverførsel.

        """)
        + SIGNATURE,
        expect=outbound(anna[1]),
    )

    # ---- Mads Nielsen: Rengøring.nu lead (label and value on separate lines), text + HTML
    mads_fields = [
        ("Navn", "Mads Nielsen"),
        ("E-mail", "mads.nielsen.aarhus@outlook.dk"),
        ("Telefon", "+45 23456789"),
        ("Adresse", "Skovvejen 4\n8240 Risskov"),
        ("Boligtype", "Rækkehus"),
        ("Behov", "Almindelig rengøring hver 14. dag"),
        ("Hvor stort er området", "ca. 85 m²"),
        ("Antal rum", "3"),
        ("Ønsket dato", "Snarest muligt, gerne fast om fredagen"),
        (
            "Besked",
            "Vi er en familie på fire med en hund, så der er en del hår. Vi vil gerne have støvsuget, vasket gulve og gjort badeværelse og køkken rent.",
        ),
    ]
    mads_text = (
        "Hej Rendetalje\n\nMads Nielsen har bedt om tilbud på rengøring via Rengøring.nu.\n\n"
        + "\n\n".join(f"{label}\n{value}" for label, value in mads_fields)
        + "\n\nVenlig hilsen\nRengøring.nu\n\n--\nAfmeld leads: https://leadmail.no/u/9b2d4e60\n"
    )
    when = cph(2025, 10, 1, 19, 22, 47)
    mads_lead = s.mail(
        "mads-lead",
        when,
        sender=LEADMAIL,
        to=[US],
        subject="Mads Nielsen fra Rengøring.nu",
        labels="Inbox,Opened,Category Updates,Leads",
        extra=leadmail_headers("mads-lead"),
        return_path=LEADMAIL_BOUNCES,
        message_id=leadmail_message_id(when, "mads-lead"),
        text=mads_text,
        body=alternative(
            mads_text,
            lead_html(
                "Nyt lead fra Rengøring.nu",
                mads_fields,
                "Afmeld leads: https://leadmail.no/u/9b2d4e60",
            ),
            "=_lm_" + token("mads-lead", 20),
        ),
        expect=inbound(mads[1], "rengoring.nu"),
    )
    mads_reply = s.mail(
        "mads-reply",
        cph(2025, 10, 2, 8, 15, 9),
        sender=US,
        to=[mads],
        reply=mads_lead,
        labels="Sent",
        subject="Re: Mads Nielsen fra Rengøring.nu",
        text=T("""
            Hej Mads

            Tak for jeres henvendelse via Rengøring.nu.

            Fast rengøring hver 14. dag af et rækkehus på ca. 85 m² koster hos os 890 kr. pr. gang inkl. moms (ca. 3 timer). Hundehår er ingen sag – vi har støvsugere med HEPA-filter.

            Vi har en fast fredagsplads ledig fra fredag den 17. oktober. Passer det jer?

        """)
        + SIGNATURE,
        expect=outbound(mads[1]),
    )
    s.mail(
        "mads-answer",
        cph(2025, 10, 2, 12, 40, 33),
        sender=mads,
        to=[US],
        reply=mads_reply,
        style="outlook",
        labels="Inbox,Opened",
        subject="SV: Mads Nielsen fra Rengøring.nu",
        text=T("""
            Hej

            Det passer os fint. Vi starter fredag den 17. oktober. Nøglen ligger i nøgleboksen ved hoveddøren, koden sender jeg på sms.

            Venlig hilsen
            Mads
        """),
        expect=inbound(mads[1]),
    )

    # ---- Sofie Lund: Rengøring.nu lead as HTML only (base64), phone 0045 …
    sofie_fields = [
        ("Navn", "Sofie Lund"),
        ("Email", "sofielund93@hotmail.dk"),
        ("Mobil", "0045 34 56 78 90"),
        ("Adresse", "Birkevej 23, 8330 Beder"),
        ("Boligtype", "Villa"),
        ("Behov", "Hovedrengøring"),
        ("Hvor stort er området", "160 m2"),
        ("Antal rum", "6"),
        ("Ønsket dato", "Uge 42 – gerne før fredag"),
        (
            "Besked",
            "Vi skal have hovedrengjort huset, inden vi får gæster i efterårsferien. Gerne inkl. vinduer indvendigt og ovn.",
        ),
    ]
    sofie_html = lead_html(
        "Sofie Lund har bedt om et tilbud",
        sofie_fields,
        "Sendt via Leadmail for Rengøring.nu. Afmeld: https://leadmail.no/u/51fa0c2e",
    )
    when = cph(2025, 10, 3, 7, 48, 10)
    sofie_lead = s.mail(
        "sofie-lead",
        when,
        sender=LEADMAIL,
        to=[US],
        subject="Sofie Lund fra Rengøring.nu",
        labels="Inbox,Opened,Category Updates,Leads",
        extra=leadmail_headers("sofie-lead"),
        return_path=LEADMAIL_BOUNCES,
        message_id=leadmail_message_id(when, "sofie-lead"),
        text="\n".join(f"{label}: {value}" for label, value in sofie_fields),
        body=text_body(sofie_html, "html", encoding="base64"),
        expect=inbound(sofie[1], "rengoring.nu"),
    )
    s.mail(
        "sofie-reply",
        cph(2025, 10, 3, 9, 31, 2),
        sender=US,
        to=[sofie],
        reply=sofie_lead,
        labels="Sent",
        quote=False,
        subject="Re: Sofie Lund fra Rengøring.nu",
        text=T("""
            Hej Sofie

            Tak for din henvendelse via Rengøring.nu.

            Hovedrengøring af en villa på 160 m2 inkl. ovn og vinduer indvendigt tager to af vores folk en dag. Prisen er 4.200 kr. inkl. moms. Vi kan komme onsdag den 15. oktober fra kl. 8.

            Skal vi sætte det i kalenderen?

        """)
        + SIGNATURE,
        expect=outbound(sofie[1]),
    )

    # ---- Søren Madsen: lead with a mistyped address; our reply bounces
    when = cph(2025, 10, 6, 10, 3, 51)
    soren_lead = s.mail(
        "soren-lead",
        when,
        sender=LEADMAIL,
        to=[US],
        reply_to=soren,
        subject="Nyt lead fra Rengøring.nu",
        labels="Inbox,Opened,Category Updates,Leads",
        extra=leadmail_headers("soren-lead"),
        return_path=LEADMAIL_BOUNCES,
        message_id=leadmail_message_id(when, "soren-lead"),
        text=T("""
            Du har modtaget et nyt lead fra Rengøring.nu

            Navn: Søren Madsen
            E-mail: soren.madsen@gmial.com
            Tlf: 40 11 22 33
            Adresse: Vestergade 58, 2. th, 8000 Aarhus C
            Boligtype: Lejlighed
            Behov: Flytterengøring
            Hvor stort er området: 65 m2
            Antal rum: 2
            Ønsket dato: 28. oktober
            Besked: Skal aflevere lejligheden den 29. oktober og har ikke tid til at gøre det selv.

            Med venlig hilsen
            Rengøring.nu

            --
            Denne e-mail er sendt til info@rendetalje.dk via Leadmail.
        """),
        plain=True,
        expect=inbound(soren[1], "rengoring.nu"),
    )
    soren_reply = s.mail(
        "soren-reply",
        cph(2025, 10, 6, 12, 20, 11),
        sender=US,
        to=[soren],
        reply=soren_lead,
        labels="Sent",
        subject="Re: Nyt lead fra Rengøring.nu",
        text=T("""
            Hej Søren

            Tak for din forespørgsel. Flytterengøring af 65 m2 på Vestergade kan vi lave tirsdag den 28. oktober for 2.150 kr. inkl. moms, med afleveringsgaranti.

            Svar blot på denne mail, så booker vi tiden.

        """)
        + SIGNATURE,
        expect=outbound(soren[1]),
    )
    assert soren_reply.message_id is not None
    s.add(
        "soren-bounce",
        cph(2025, 10, 6, 12, 20, 14),
        labels="Inbox,Important,Opened",
        thread=soren_reply,
        headers=[
            ("Delivered-To", MAILBOX),
            received_header(cph(2025, 10, 6, 12, 20, 14), "soren-bounce"),
            ("Return-Path", "<>"),
            ("Auto-Submitted", "auto-replied"),
            ("MIME-Version", "1.0"),
            ("From", "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"),
            ("To", MAILBOX),
            ("X-Failed-Recipients", soren[1]),
            ("Subject", "Delivery Status Notification (Failure)"),
            ("References", f"<{soren_reply.message_id}>"),
            ("In-Reply-To", f"<{soren_reply.message_id}>"),
            (
                "Message-ID",
                f"<{token('soren-bounce', 12)}.{token('soren-bounce-2', 8)}.BOUNCE@mx.google.com>",
            ),
            ("Date", rfc_date(cph(2025, 10, 6, 12, 20, 14))),
        ],
        body=multipart(
            "report",
            [
                text_body(
                    T(f"""

                    ** Adressen blev ikke fundet **

                    Din meddelelse blev ikke leveret til {soren[1]}, fordi adressen ikke blev fundet, eller fordi den ikke kan modtage e-mails.

                    Få flere oplysninger her: https://support.google.com/mail/?p=NoSuchUser

                    Svaret fra fjernserveren var:

                    550 5.1.1 <{soren[1]}>: Recipient address rejected: User unknown in virtual mailbox table
                """)
                ),
                Body(
                    (("Content-Type", "message/delivery-status"),),
                    T(f"""
                        Reporting-MTA: dns; googlemail.com
                        Received-From-MTA: dns; {MAILBOX}
                        Arrival-Date: {received_date(cph(2025, 10, 6, 12, 20, 11))}
                        X-Original-Message-ID: <{soren_reply.message_id}>

                        Final-Recipient: rfc822; {soren[1]}
                        Action: failed
                        Status: 5.1.1
                        Remote-MTA: dns; mx.gmial.com. (198.51.100.23, the server for the domain gmial.com.)
                        Diagnostic-Code: smtp; 550 5.1.1 <{soren[1]}>: Recipient address rejected: User unknown in virtual mailbox table
                        Last-Attempt-Date: {received_date(cph(2025, 10, 6, 12, 20, 13))}
                    """).encode(),
                ),
                Body(
                    (("Content-Type", "message/rfc822"),),
                    soren_reply.raw.split(b"\n", 2)[2],  # the original, without the Gmail headers
                ),
            ],
            "000000000000" + token("soren-bounce-boundary"),
            "; report-type=delivery-status",
        ),
        message_id=None,
        expect=Expect("bounce", bounced=(soren_reply.message_id,)),
    )

    # ---- Karina Holm: Leadpoint lead, a question, a price; a draft; a malformed message
    when = cph(2025, 10, 7, 14, 5, 26)
    karina_lead = s.mail(
        "karina-lead",
        when,
        sender=LEADPOINT,
        to=[US],
        reply_to=karina,
        subject="Rengøring Aarhus",
        labels="Inbox,Important,Opened,Leads",
        message_id=leadpoint_message_id(48213, when),
        extra=[("X-Mailer", "Leadpoint Mailer")],
        text=T("""
            Nyt lead fra Leadpoint

            Navn: Karina Holm
            E-mail: karina.holm@hotmail.dk
            Telefon: 28 91 45 67
            Adresse: Tranehøjen 7
            Postnummer: 8270
            By: Højbjerg
            Opgavebeskrivelse: Hovedrengøring af hus inden jul, inkl. køkkenskabe indvendigt og vinduer indvendigt. Vi har to katte.
            Størrelse: 140 m2

            Leadet er sendt til højst 3 firmaer. Kontakt kunden hurtigst muligt.
            Leadpoint ApS · leadpoint.dk
        """),
        plain=True,
        expect=inbound(karina[1], "leadpoint"),
    )
    karina_reply = s.mail(
        "karina-reply",
        cph(2025, 10, 7, 15, 12, 40),
        sender=US,
        to=[karina],
        reply=karina_lead,
        labels="Sent",
        subject="Re: Rengøring Aarhus",
        text=T("""
            Hej Karina

            Tak for din henvendelse via Leadpoint. Vi vil meget gerne hjælpe med hovedrengøringen inden jul.

            Må jeg spørge, om I har trægulve eller klinker i stuen, og om vinduerne har sprosser? Så kan jeg give en fast pris.

        """)
        + SIGNATURE,
        expect=outbound(karina[1]),
    )
    karina_answer = s.mail(
        "karina-answer",
        cph(2025, 10, 8, 18, 51, 7),
        sender=karina,
        to=[US],
        reply=karina_reply,
        style="outlook",
        labels="Inbox,Opened",
        subject="SV: Rengøring Aarhus",
        text=T("""
            Hej

            Der er trægulv i stue og soveværelser og klinker i køkken og bad. Vinduerne er uden sprosser, 14 i alt.

            Kan I komme en fredag i november?

            Hilsen Karina
        """),
        expect=inbound(karina[1]),
    )
    karina_price = s.mail(
        "karina-price",
        cph(2025, 10, 9, 8, 30, 0),
        sender=US,
        to=[karina],
        reply=karina_answer,
        labels="Sent",
        subject="SV: Rengøring Aarhus",
        text=T("""
            Hej Karina

            Tak for oplysningerne. Hovedrengøring af 140 m2 inkl. køkkenskabe og 14 vinduer indvendigt koster 3.900 kr. inkl. moms. Vi kan komme fredag den 21. november fra kl. 8.

            Sig endelig til, hvis det passer.

        """)
        + SIGNATURE,
        expect=outbound(karina[1]),
    )
    s.mail(
        "karina-draft",
        cph(2025, 10, 13, 16, 2, 30),
        sender=US,
        to=[karina],
        reply=karina_price,
        labels="Draft",
        quote=False,
        subject="SV: Rengøring Aarhus",
        text=T("""
            Hej Karina

            Jeg skriver lige for at høre, om du har haft mulighed for at se på tilbuddet. Vi har stadig fredag den 21. november

            [MANGLER: pris på ovnrens som tilvalg]
        """),
        expect=skip("label:draft"),
    )
    # Broken multipart (the declared boundary never occurs), a Date no parser can read
    # and an unencoded ISO-8859-1 Subject. (The body itself stays 7-bit: the stdlib
    # generator cannot write 8-bit bytes inside a multipart it could not split.)
    karina_broken = (
        "Delivered-To: info@rendetalje.dk\n"
        f"{': '.join(received_header(cph(2025, 10, 10, 7, 2, 44), 'karina-broken'))}\n"
        "Return-Path: <karina.holm@hotmail.dk>\n"
        "MIME-Version: 1.0\n"
        "Date: fredag d. 10/10 kl. 25:61\n"
        f"Message-ID: <{outlook_message_id('karina-broken')}>\n"
        "Subject: Sp\xf8rgsm\xe5l om pris p\xe5 hovedreng\xf8ring\n"
        "From: Karina Holm <karina.holm@hotmail.dk>\n"
        "To: info@rendetalje.dk\n"
        'Content-Type: multipart/mixed; boundary="----=_Part_4411_1802716377.1760072564"\n'
        "\n"
        "------=_Part_0000_0000000000.0000000000\n"
        "Content-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "Hej igen\n"
        "\n"
        "Kan I ogs=E5 tage ovnen med? Jeg vedh=E6fter en plantegning af huset.\n"
        "\n"
        "Hilsen Karina\n"
        "------=_Part_0000_0000000000.0000000000\n"
        'Content-Type: application/pdf; name="plantegning.pdf"\n'
        "Content-Transfer-Encoding: base64\n"
        'Content-Disposition: attachment; filename="plantegning.pdf"\n'
        "\n"
        "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29k\n"
        "ZT4+CnN0cmVhbQp4nCtUMFAwUDA0NVIwMVYw"
    ).encode("latin-1")
    s.add(
        "karina-broken",
        cph(2025, 10, 10, 7, 2, 44),
        labels="Inbox,Unread",
        headers=[],
        body=karina_broken,
        message_id=outlook_message_id("karina-broken"),
        expect=quarantine_or_skip(karina[1]),
    )

    # ---- Peter Kjær: Leadpoint lead in ISO-8859-1; our reply; his out-of-office
    when = cph(2025, 10, 14, 9, 44, 18)
    peter_text = T("""
        Nyt lead fra Leadpoint

        Navn: Peter Kjær
        E-mail: peter@kjaer-ejendomme.dk
        Telefon: 86 14 22 90
        Adresse: Åboulevarden 33, 3. sal
        Postnummer: 8000
        By: Aarhus C
        Opgavebeskrivelse: Fast kontorrengøring 2 gange om ugen. Ca. 8 arbejdspladser, mødelokale, køkken og 2 toiletter. Gerne efter kl. 16.
        Størrelse: 220 m2

        Leadet er sendt til højst 3 firmaer. Kontakt kunden hurtigst muligt.
        Leadpoint ApS · leadpoint.dk
    """)
    peter_lead = s.mail(
        "peter-lead",
        when,
        sender=LEADPOINT,
        to=[US],
        reply_to=peter,
        subject="Nyt lead: Rengøring Aarhus",
        subject_charset="ISO-8859-1",
        labels="Inbox,Important,Opened,Leads",
        message_id=leadpoint_message_id(48790, when),
        extra=[("X-Mailer", "Leadpoint Mailer")],
        text=peter_text,
        body=text_body(peter_text, charset="ISO-8859-1"),
        expect=inbound(peter[1], "leadpoint"),
    )
    peter_reply = s.mail(
        "peter-reply",
        cph(2025, 10, 14, 10, 58, 3),
        sender=US,
        to=[peter],
        reply=peter_lead,
        labels="Sent",
        subject="Re: Nyt lead: Rengøring Aarhus",
        text=T("""
            Hej Peter

            Tak for henvendelsen. Vi gør rent for flere kontorer i midtbyen og kan sagtens komme efter kl. 16 to gange om ugen.

            Jeg vil foreslå, at vi kigger forbi og ser lokalerne – så får du en fast månedspris. Passer torsdag den 16. oktober kl. 15?

        """)
        + SIGNATURE,
        expect=outbound(peter[1]),
    )
    s.mail(
        "peter-autoreply",
        cph(2025, 10, 14, 10, 58, 9),
        sender=peter,
        to=[US],
        reply=peter_reply,
        style="outlook",
        quote=False,
        labels="Inbox,Opened",
        subject="Automatisk svar: Re: Nyt lead: Rengøring Aarhus",
        extra=[("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")],
        text=T("""
            Tak for din mail. Jeg er på ferie til og med mandag den 20. oktober og har begrænset adgang til mail.

            I hastende tilfælde kan du ringe til kontoret på 86 14 22 90.

            Venlig hilsen
            Peter Kjær
            Kjær Ejendomme ApS
        """),
        expect=skip("bulk:auto-submitted"),
    )

    # ---- Julie Andersen: website contact form (8-bit UTF-8, as wp_mail sends it)
    julie_form = T("""
        Navn: Julie Andersen
        Email: julie.andersen@gmail.com
        Telefon: 31 45 67 89
        Besked: Hej, vi har lige købt en lejlighed i Aarhus N (ca. 75 m2) og vil gerne have den gjort grundigt rent, inden vi flytter ind den 1. november. Hvad vil det koste, og har I tid i uge 43?

        --
        Denne e-mail blev sendt fra kontaktformularen på Rendetalje (https://rendetalje.dk)
    """)
    julie_lead = s.mail(
        "julie-form",
        cph(2025, 10, 16, 21, 17, 36),
        sender=WORDPRESS,
        to=[US],
        reply_to=julie,
        subject="Ny henvendelse fra kontaktformular",
        labels="Inbox,Important,Opened,Leads",
        message_id=wordpress_message_id("julie-form"),
        extra=[("X-Mailer", "PHPMailer 6.9.1 (https://github.com/PHPMailer/PHPMailer)")],
        return_path="wordpress@rendetalje.dk",
        text=julie_form,
        body=text_body(julie_form, encoding="8bit"),
        expect=inbound(julie[1], "website"),
    )
    julie_reply = s.mail(
        "julie-reply",
        cph(2025, 10, 17, 8, 4, 52),
        sender=US,
        to=[julie],
        reply=julie_lead,
        labels="Sent",
        subject="Re: Ny henvendelse fra kontaktformular",
        text=T("""
            Hej Julie

            Tak for din henvendelse via vores hjemmeside, og tillykke med lejligheden!

            En grundig indflytningsrengøring af 75 m2 koster 2.400 kr. inkl. moms. I uge 43 har vi tid onsdag den 22. eller torsdag den 23. oktober.

        """)
        + SIGNATURE,
        expect=outbound(julie[1]),
    )
    julie_answer = s.mail(
        "julie-answer",
        cph(2025, 10, 17, 9, 26, 14),
        sender=julie,
        to=[US],
        reply=julie_reply,
        labels="Inbox,Opened",
        subject="Re: Ny henvendelse fra kontaktformular",
        text=T("""
            Hej

            Torsdag den 23. passer perfekt. Vi får nøglerne den 20., så I kan bare hente dem hos mig – jeg arbejder hjemme.

            Venlig hilsen
            Julie
        """),
        expect=inbound(julie[1]),
    )
    s.mail(
        "julie-confirm",
        cph(2025, 10, 17, 10, 1, 7),
        sender=US,
        to=[julie],
        reply=julie_answer,
        labels="Sent",
        subject="Re: Ny henvendelse fra kontaktformular",
        text=T("""
            Hej Julie

            Så er du booket torsdag den 23. oktober kl. 8.00. Vi ringer dagen før og aftaler nøgler.

        """)
        + SIGNATURE,
        expect=outbound(julie[1]),
    )

    # ---- Mette Hansen: returning customer writes directly, in two letter cases
    mette_ask = s.mail(
        "mette-ask",
        cph(2025, 10, 20, 7, 55, 21),
        sender=mette,
        to=[US],
        labels="Inbox,Important,Opened,Kunder",
        subject="Vinduespudsning igen?",
        text=T("""
            Hej Rendetalje

            I pudsede vores vinduer i foråret, og vi var meget tilfredse. Kan I komme igen inden jul? Samme adresse som sidst: Egevej 9, 8210 Aarhus V.

            Venlig hilsen
            Mette Hansen
            20 55 43 21
        """),
        expect=inbound(mette[1]),
    )
    mette_reply = s.mail(
        "mette-reply",
        cph(2025, 10, 20, 9, 12, 38),
        sender=US,
        to=[mette],
        reply=mette_ask,
        labels="Sent",
        subject="Re: Vinduespudsning igen?",
        text=T("""
            Hej Mette

            Hvor dejligt at høre fra jer igen! Vi kan komme tirsdag den 25. november. Prisen er den samme som sidst: 750 kr. inkl. moms for ind- og udvendig pudsning.

        """)
        + SIGNATURE,
        expect=outbound(mette[1]),
    )
    mette_yes = s.mail(
        "mette-yes",
        cph(2025, 10, 21, 17, 3, 0),
        sender=mette_lower,
        to=[US],
        reply=mette_reply,
        labels="Inbox,Opened,Kunder",
        subject="Re: Vinduespudsning igen?",
        text="Tirsdag den 25. passer fint. Vi er hjemme fra kl. 9.\n\nMette\n\nSendt fra min iPhone\n",
        expect=inbound(mette_lower[1]),
    )
    s.mail(
        "mette-confirm",
        cph(2025, 10, 22, 8, 0, 45),
        sender=US,
        to=[mette_lower],
        reply=mette_yes,
        labels="Sent",
        subject="Re: Vinduespudsning igen?",
        text=T("""
            Hej Mette

            Perfekt – vi kommer tirsdag den 25. november kl. 9.

        """)
        + SIGNATURE,
        expect=outbound(mette_lower[1]),
    )

    # ---- James O'Connor: an English inquiry; the body has a line starting with "From "
    james_text = T("""
        Hi,

        My name is James O'Connor, I moved to Aarhus in August for work and I'm looking
        for someone to clean my apartment every other week. It's 2 bedrooms, about 80 m2,
        on Guldsmedgade 21, 3rd floor, 8000 Aarhus C.

        From what I can see on your website you also do windows - could that be added
        once a month? I don't speak much Danish yet, so I hope English is fine.

        Best,
        James O'Connor
        +45 52 18 90 33
    """)
    james_ask = s.mail(
        "james-ask",
        cph(2025, 10, 22, 19, 41, 5),
        sender=james,
        to=[US],
        labels="Inbox,Opened",
        subject="Cleaning quote for my apartment in Aarhus C",
        message_id=outlook_message_id("james-ask"),
        text=james_text,
        body=text_body(james_text, charset="us-ascii", encoding="7bit"),
        expect=inbound(james[1]),
    )
    james_reply = s.mail(
        "james-reply",
        cph(2025, 10, 23, 8, 22, 19),
        sender=US,
        to=[james],
        reply=james_ask,
        labels="Sent",
        subject="Re: Cleaning quote for my apartment in Aarhus C",
        text=T("""
            Hi James

            Thanks for getting in touch – English is perfectly fine.

            Cleaning every other week for 80 m2 is 850 DKK per visit incl. VAT, and inside and outside windows once a month would be 450 DKK extra. We'd be happy to come by and say hello first: would Thursday 30 October at 16:00 work?

        """)
        + SIGNATURE_EN,
        expect=outbound(james[1]),
    )
    s.mail(
        "james-yes",
        cph(2025, 10, 23, 12, 9, 48),
        sender=james,
        to=[US],
        reply=james_reply,
        style="english",
        labels="Inbox,Opened",
        subject="Re: Cleaning quote for my apartment in Aarhus C",
        text="Hi,\n\nThursday at 16:00 works for me. The buzzer says O'Connor / Holm.\n\nThanks,\nJames\n",
        expect=inbound(james[1]),
    )

    # ---- Internal mail: from a colleague, and a note to ourselves
    s.mail(
        "lars-schedule",
        cph(2025, 10, 24, 15, 30, 2),
        sender=lars,
        to=[US],
        labels="Inbox,Opened",
        subject="Vagtplan uge 44",
        text=T("""
            Hej

            Her er planen for uge 44:

            Mandag: Kjær Ejendomme (opstart efter besigtigelse), Risskov
            Tirsdag: Vestergade 58 (flytterengøring)
            Torsdag: Guldsmedgade 21 (besigtigelse kl. 16)
            Fredag: Søndergade 12 (flytterengøring, 2 mand) + Skovvejen 4

            Jeg har bestilt mere afkalkningsmiddel.

            Lars
        """),
        expect=skip("internal"),
    )

    # ---- Henrik Bach: a clinic asks directly; answers with a colleague on Cc
    henrik_ask = s.mail(
        "henrik-ask",
        cph(2025, 10, 27, 10, 12, 44),
        sender=henrik,
        to=[US],
        labels="Inbox,Important,Opened",
        subject="Rengøring af klinik i Risskov",
        text=T("""
            Hej

            Vi er en fysioterapiklinik i Risskov med to behandlingsrum, venteværelse og et lille træningslokale, i alt ca. 110 m2. Vores nuværende rengøringsfirma stopper til december.

            Kan I give et tilbud på rengøring tre gange om ugen efter lukketid (kl. 18)?

            Venlig hilsen
            Henrik Bach
            Bach Fysioterapi
            Tlf. 86 17 03 50
        """),
        expect=inbound(henrik[1]),
    )
    henrik_reply = s.mail(
        "henrik-reply",
        cph(2025, 10, 27, 13, 45, 10),
        sender=US,
        to=[henrik],
        reply=henrik_ask,
        labels="Sent",
        subject="Re: Rengøring af klinik i Risskov",
        text=T("""
            Hej Henrik

            Tak for henvendelsen. Vi har flere klinikker som kunder og kender kravene til hygiejne i behandlingsrum.

            Tre gange om ugen efter kl. 18 i 110 m2 vil koste ca. 6.800 kr. om måneden ekskl. moms. Jeg kommer gerne forbi og ser klinikken, så prisen bliver helt præcis.

        """)
        + SIGNATURE,
        expect=outbound(henrik[1]),
    )
    henrik_answer = s.mail(
        "henrik-answer",
        cph(2025, 10, 28, 8, 3, 57),
        sender=henrik,
        to=[US],
        cc=[lone],
        reply=henrik_reply,
        labels="Inbox,Opened",
        subject="Re: Rengøring af klinik i Risskov",
        text=T("""
            Hej

            Det lyder fornuftigt. Kom gerne forbi onsdag den 5. november kl. 17. Jeg har sat Lone, der står for vores indkøb, på cc.

            Henrik
        """),
        expect=inbound(henrik[1]),
    )

    s.mail(
        "note-to-self",
        cph(2025, 10, 30, 16, 20, 31),
        sender=US,
        to=[US],
        labels="Sent,Inbox,Opened",
        subject="Husk: nøgler til Søndergade 12 fredag",
        text=T("""
            Nøglerne til Søndergade 12, 1. tv hentes hos viceværten torsdag kl. 16.
            Husk ovnrens, kalkfjerner og ekstra mikrofiberklude. Anna betaler efter godkendt aflevering (3.450 kr.).
        """),
        expect=skip("internal"),
    )

    # ---- Anna writes again after the cleaning
    s.mail(
        "anna-thanks",
        cph(2025, 11, 1, 10, 47, 3),
        sender=anna,
        to=[US],
        labels="Inbox,Opened,Starred",
        subject="Tak for en flot rengøring",
        text=T("""
            Hej

            Vi fik lejligheden godkendt ved afleveringen i går uden en eneste bemærkning. Tusind tak for hjælpen – pengene er sendt via MobilePay.

            Jeg anbefaler jer gerne videre.

            Mvh Anna
        """),
        expect=inbound(anna[1]),
    )

    # ---- Birgitte Thomsen: we write first (an offer after a phone call); no answer yet
    s.mail(
        "birgitte-offer",
        cph(2025, 11, 3, 11, 20, 0),
        sender=US,
        to=[birgitte],
        labels="Sent",
        subject="Tilbud på vinduespudsning – 650 kr",
        text=T("""
            Hej Birgitte

            Tak for snakken i telefonen i dag. Som aftalt sender jeg tilbuddet på vinduespudsning af jeres hus på Grønnedalen 14 i Højbjerg:

            Ind- og udvendig pudsning af 16 vinduer og 2 ovenlysvinduer: 650 kr. inkl. moms.

            Vi kan komme i uge 46 eller 47. Giv bare lyd, når det passer jer.

        """)
        + SIGNATURE,
        expect=outbound(birgitte[1]),
    )

    # ---- Louise Winther: Rengøring.nu lead, labels with colons on their own lines
    louise_text = T("""
        Nyt lead fra Rengøring.nu

        Navn:
        Louise Winther
        E-mail:
        louise.winther@gmail.com
        Mobil:
        +45 61 72 83 94
        Adresse:
        Frederiks Allé 101, 3. th
        8000 Aarhus C
        Boligtype:
        Lejlighed
        Behov:
        Vinduespudsning og hovedrengøring
        Hvor stort er området:
        ca. 70 m²
        Antal rum:
        3
        Ønsket dato:
        Efter aftale, gerne en lørdag
        Besked:
        Vinduerne er ikke blevet pudset i et år. 3. sal, ingen elevator.

        Med venlig hilsen
        Rengøring.nu

        --
        Afmeld leads: https://leadmail.no/u/c07e25d1
    """)
    when = cph(2025, 11, 5, 20, 6, 12)
    louise_lead = s.mail(
        "louise-lead",
        when,
        sender=LEADMAIL,
        to=[US],
        reply_to=louise,
        subject="Nyt lead fra Rengøring.nu",
        labels="Inbox,Opened,Category Updates,Leads",
        extra=leadmail_headers("louise-lead"),
        return_path=LEADMAIL_BOUNCES,
        message_id=leadmail_message_id(when, "louise-lead"),
        text=louise_text,
        body=alternative(
            louise_text,
            '<html><body><pre style="font-family:Arial,sans-serif">'
            + html.escape(louise_text)
            + "</pre></body></html>\n",
            "=_lm_" + token("louise-lead", 20),
        ),
        expect=inbound(louise[1], "rengoring.nu"),
    )
    s.mail(
        "louise-reply",
        cph(2025, 11, 6, 8, 40, 25),
        sender=US,
        to=[louise],
        reply=louise_lead,
        labels="Sent",
        subject="Re: Nyt lead fra Rengøring.nu",
        text=T("""
            Hej Louise

            Tak for din forespørgsel via Rengøring.nu. Hovedrengøring af 70 m² inkl. vinduespudsning ind- og udvendigt koster 2.650 kr. inkl. moms. Vi kan komme lørdag den 15. november.

        """)
        + SIGNATURE,
        expect=outbound(louise[1]),
    )

    # ---- Mads again, now through the website form, with his address in another case
    mads_form_text = T("""
        Navn: Mads Nielsen
        Email: Mads.Nielsen.Aarhus@outlook.dk
        Telefon: +45 23 45 67 89
        Besked: Hej igen. Vi er glade for den faste rengøring om fredagen. Kan I også pudse vinduer i rækkehuset inden jul? Der er 12 vinduer og en glasdør til haven.

        --
        Denne e-mail blev sendt fra kontaktformularen på Rendetalje (https://rendetalje.dk)
    """)
    s.mail(
        "mads-form",
        cph(2025, 11, 12, 13, 7, 58),
        sender=WORDPRESS,
        to=[US],
        reply_to=mads_form,
        subject="Ny henvendelse fra kontaktformular",
        labels="Inbox,Opened,Leads",
        message_id=wordpress_message_id("mads-form"),
        extra=[("X-Mailer", "PHPMailer 6.9.1 (https://github.com/PHPMailer/PHPMailer)")],
        return_path="wordpress@rendetalje.dk",
        text=mads_form_text,
        body=text_body(mads_form_text, encoding="8bit"),
        expect=inbound(mads_form[1], "website"),
    )

    # ---- After the job: the same check-up mail to three customers (one template), and
    # what came back: thanks within hours, a complaint, silence; and a complaint from Peter.
    def check_up(first_name: str, job: str, day: str) -> str:
        return (
            T(f"""
            Hej {first_name}

            Tak fordi I valgte Rendetalje til {job} {day}. Vi vil gerne høre, om alt blev, som I havde forventet. Har vi overset noget, så svar blot på denne mail, så kommer vi forbi og retter det uden beregning.

        """)
            + SIGNATURE
        )

    s.mail(
        "julie-check-up",
        cph(2025, 11, 13, 9, 0, 12),
        sender=US,
        to=[julie],
        reply=julie_reply,
        labels="Sent",
        subject="Hvordan gik vinduespudsningen?",
        quote=False,
        text=check_up("Julie", "vinduespudsningen", "mandag den 10. november"),
        expect=outbound(julie[1]),
    )
    karina_check_up = s.mail(
        "karina-check-up",
        cph(2025, 11, 13, 9, 5, 40),
        sender=US,
        to=[karina],
        reply=karina_price,
        labels="Sent",
        subject="Hvordan gik hovedrengøringen?",
        quote=False,
        text=check_up("Karina", "hovedrengøringen", "den 11.11.2025"),
        expect=outbound(karina[1]),
    )
    s.mail(
        "karina-check-up-answer",
        cph(2025, 11, 13, 19, 32, 6),
        sender=karina,
        to=[US],
        reply=karina_check_up,
        labels="Inbox,Opened",
        subject="Re: Hvordan gik hovedrengøringen?",
        text=T("""
            Hej

            Tusind tak, huset var skinnende rent, og ovnen ligner en ny. Vi er meget tilfredse og bestiller gerne igen til foråret.

            Mvh Karina
        """),
        expect=inbound(karina[1]),
    )
    henrik_check_up = s.mail(
        "henrik-check-up",
        cph(2025, 11, 14, 8, 30, 0),
        sender=US,
        to=[henrik],
        reply=henrik_answer,
        labels="Sent",
        subject="Hvordan gik den første rengøring?",
        quote=False,
        text=check_up("Henrik", "rengøringen af klinikken", "i går"),
        expect=outbound(henrik[1]),
    )
    s.mail(
        "henrik-complaint",
        cph(2025, 11, 14, 15, 11, 27),
        sender=henrik,
        to=[US],
        reply=henrik_check_up,
        labels="Inbox,Important,Opened",
        subject="Re: Hvordan gik den første rengøring?",
        text=T("""
            Hej

            Desværre er vi ikke tilfredse. Gulvet i træningslokalet var stadig beskidt, og skraldespandene i behandlingsrummene var ikke tømt. Det er ikke godt nok til en klinik.

            Henrik
        """),
        expect=inbound(henrik[1]),
    )
    s.mail(
        "peter-complaint",
        cph(2025, 11, 18, 7, 55, 13),
        sender=peter,
        to=[US],
        reply=peter_reply,
        labels="Inbox,Important,Opened",
        subject="Re: Nyt lead: Rengøring Aarhus",
        text=T("""
            Hej

            Trappeopgangen blev ikke gjort ordentligt i mandags: der var stadig snavset på reposerne, og vinduerne havde striber. Vi er skuffede, det er anden gang.

            Venlig hilsen
            Peter Kjær
        """),
        expect=inbound(peter[1]),
    )

    # ---- Noise
    s.mail(
        "renoklar-newsletter",
        cph(2025, 9, 30, 6, 0, 12),
        sender=("RenoKlar Engros", "kampagner@renoklar-engros.dk"),
        to=[US],
        labels="Inbox,Category Promotions",
        subject="Oktobertilbud: mikrofiberklude og svanemærket sæbe",
        message_id=f"{token('renoklar', 20)}@mail.renoklar-engros.dk",
        return_path="bounces-r7@mail.renoklar-engros.dk",
        extra=[
            (
                "List-Unsubscribe",
                "<https://renoklar-engros.dk/afmeld?u=8f31c2&l=7>,\n <mailto:afmeld@renoklar-engros.dk>",
            ),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("List-Id", "RenoKlar nyhedsbrev <nyhedsbrev.renoklar-engros.dk>"),
            ("Precedence", "bulk"),
        ],
        text=T("""
            Oktobertilbud hos RenoKlar Engros

            Mikrofiberklude 40x40, 10 stk.: 89 kr. (før 129 kr.)
            Svanemærket universalsæbe 5 l: 149 kr.
            Fri fragt ved køb over 1.000 kr. ekskl. moms.

            Du modtager denne mail, fordi du er erhvervskunde hos RenoKlar Engros.
            Afmeld nyhedsbrevet: https://renoklar-engros.dk/afmeld?u=8f31c2&l=7
        """),
        expect=skip("bulk:list-unsubscribe"),
    )
    s.mail(
        "spam-award",
        cph(2025, 10, 4, 3, 17, 40),
        sender=("Nordic Business Awards", "awards@nordic-biz-awards.example"),
        to=[US],
        labels="Spam,Unread",
        subject="Congratulations! Rendetalje has been selected for the 2025 award",
        message_id=f"{token('spam-award', 24)}@nordic-biz-awards.example",
        extra=[("List-Unsubscribe", "<mailto:remove@nordic-biz-awards.example>")],
        text=T("""
            Dear Rendetalje team,

            We are delighted to inform you that your company has been selected as a winner
            of the Nordic Business Excellence Award 2025. To receive your certificate and
            trophy, simply confirm your listing (fee: EUR 1,490) within 48 hours.

            Claim your award: http://nordic-biz-awards.example/claim
        """),
        expect=skip("label:spam"),
    )
    s.mail(
        "havnekoekken-trash",
        cph(2025, 10, 11, 9, 15, 0),
        sender=("Restaurant Havnekøkkenet", "booking@havnekoekkenet.dk"),
        to=[US],
        labels="Trash,Opened,Category Promotions",
        subject="Julefrokost 2025 – book jeres bord nu",
        message_id=f"{token('havn', 20)}@havnekoekkenet.dk",
        extra=[("List-Unsubscribe", "<https://havnekoekkenet.dk/nyhedsbrev/afmeld>")],
        text=T("""
            Kære Rendetalje

            Skal jeres julefrokost holdes ved havnen i år? Vi har stadig ledige datoer i november og december. Julebuffet fra 395 kr. pr. person.

            Book på havnekoekkenet.dk eller ring på 86 11 22 33.
        """),
        expect=skip("label:trash"),
    )
    s.mail(
        "renbooking-maintenance",
        cph(2025, 10, 13, 11, 0, 4),
        sender=("RenBooking Drift", "drift@renbooking.dk"),
        to=[US],
        labels="Inbox,Category Updates",
        subject="Driftsmeddelelse: planlagt vedligeholdelse natten til søndag",
        message_id=f"{token('renbooking', 20)}@renbooking.dk",
        extra=[("Precedence", "bulk")],
        text=T("""
            Kære kunde

            RenBooking er lukket for vedligeholdelse natten til søndag den 19. oktober mellem kl. 01 og 05. Bookinger foretaget i perioden gemmes og bekræftes, når systemet er oppe igen.

            Venlig hilsen
            RenBooking
        """),
        expect=skip("bulk:precedence"),
    )
    s.mail(
        "erfa-list",
        cph(2025, 10, 15, 20, 33, 51),
        sender=("Kim Lauridsen", "kim@glans-service.dk"),
        to=[("", "erfa-rengoering@lister.renbranchen.dk")],
        labels="Inbox,Opened,Erfa",
        subject="[Erfa-rengøring] Moms på flytterengøring for private?",
        extra=[
            (
                "List-Id",
                f"{encode_q('Erfagruppe for rengøringsfirmaer')} <erfa-rengoering.lister.renbranchen.dk>",
            ),
            ("List-Post", "<mailto:erfa-rengoering@lister.renbranchen.dk>"),
            ("Sender", "erfa-rengoering@lister.renbranchen.dk"),
        ],
        text=T("""
            Hej alle

            Er der nogen, der har erfaring med, hvordan I skriver moms på tilbud til private? Vi får en del spørgsmål om, hvorvidt prisen er inkl. eller ekskl. moms.

            Mvh Kim
            Glans Service
        """),
        expect=skip("bulk:list-id"),
    )
    s.mail(
        "spam-parcel",
        cph(2025, 10, 19, 4, 2, 27),
        sender=("Pakkeservice", "besked@pakke-levering.example"),
        to=[US],
        labels="Spam,Unread",
        subject="Din pakke kunne ikke leveres – bekræft din adresse",
        message_id=f"{token('spam-parcel', 24)}@pakke-levering.example",
        text=T("""
            Vi forsøgte at levere din pakke i dag, men adressen var ufuldstændig.

            Bekræft din adresse og betal 12,50 kr. i gebyr inden 24 timer:
            http://pakke-levering.example/bekraeft
        """),
        expect=skip("label:spam"),
    )
    s.mail(
        "regnskab-reminder",
        cph(2025, 10, 28, 7, 0, 0),
        sender=("Regnskabsportalen", "noreply@regnskabsportalen.dk"),
        to=[US],
        labels="Inbox,Category Updates",
        subject="Påmindelse: momsangivelse for 3. kvartal",
        message_id=f"{token('regnskab', 20)}@regnskabsportalen.dk",
        extra=[("List-Unsubscribe", "<https://regnskabsportalen.dk/notifikationer/afmeld>")],
        text=T("""
            Hej Rendetalje

            Husk at indberette moms for 3. kvartal 2025 senest den 1. december. Du kan se dine tal under Rapporter → Moms.

            Denne besked er sendt automatisk og kan ikke besvares.
        """),
        expect=skip("noise:no-reply"),
    )
    s.mail(
        "mobilepay-payment",
        cph(2025, 11, 1, 10, 31, 40),
        sender=("MobilePay", "no-reply@mobilepay.dk"),
        to=[US],
        labels="Inbox,Opened,Category Updates",
        subject="Du har modtaget 3.450,00 kr.",
        message_id=f"{token('mobilepay', 20)}@mobilepay.dk",
        text=T("""
            Du har modtaget en betaling

            Fra: Anna Jensen
            Beløb: 3.450,00 kr.
            Besked: Flytterengøring Søndergade 12

            Pengene er på vej til jeres konto.

            Denne e-mail kan ikke besvares.
        """),
        expect=skip("noise:no-reply"),
    )

    # ---- Headers only: no From, no Date, no Subject, no body
    s.add(
        "headers-only",
        cph(2025, 11, 8, 5, 15, 12),
        labels="Inbox,Unread",
        headers=[
            ("Delivered-To", MAILBOX),
            received_header(cph(2025, 11, 8, 5, 15, 12), "headers-only"),
            ("Return-Path", "<>"),
            (
                "Message-ID",
                f"<20251108041512.{token('headers-only', 10).upper()}@smtp.relay.example>",
            ),
            ("X-Mailer", "bulk-relay 0.9"),
            ("Content-Type", "text/plain; charset=unknown-8bit"),
        ],
        body=b"",
        message_id=f"20251108041512.{token('headers-only', 10).upper()}@smtp.relay.example",
        expect=quarantine_or_skip(),
    )

    s.entries.sort(key=lambda entry: entry.when)
    return s


# --------------------------------------------------------------------------- output


def write_mbox(entries: Iterable[tuple[str, bytes]], path: Path) -> None:
    """Write (From_ line, message bytes) pairs to a new mbox at ``path`` (replaced atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".mbox", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()
        box = mailbox.mbox(tmp, create=True)
        try:
            for from_line, raw in entries:
                message = mailbox.mboxMessage(raw)
                message.set_from(from_line)
                box.add(message)
            box.flush()
        finally:
            box.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def expected(sample: Sample) -> dict[str, Any]:
    """The expectations as written to expected.json."""
    messages: dict[str, dict[str, Any]] = {}
    kinds: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    leads_by_source: Counter[str] = Counter()
    customers: dict[str, int] = {}
    bounced: list[str] = []
    for entry in sample.entries:
        e = entry.expect
        assert e.kind in KINDS, e
        assert e.skip_reason is None or e.skip_reason in SKIP_REASONS, e
        assert e.lead_source is None or e.lead_source in LEAD_SOURCES, e
        messages[entry.gmail_id] = {
            "kind": e.kind,
            "customer": e.customer,
            "lead_source": e.lead_source,
            "skip_reason": e.skip_reason,
            "thread": entry.thread_id,
        }
        kinds[e.kind] += 1
        if e.skip_reason:
            skipped[e.skip_reason] += 1
        if e.kind in ("inbound", "outbound") and e.customer:
            customers.setdefault(e.customer, 0)
            if e.lead_source:
                customers[e.customer] += 1
                leads_by_source[e.lead_source] += 1
        bounced.extend(e.bounced)
    return {
        "mailbox": MAILBOX,
        "mbox": "rendetalje.mbox",
        "messages": messages,
        "summary": {
            "customers": dict(sorted(customers.items())),
            "totals": {
                "messages": len(sample.entries),
                "inbound": kinds["inbound"],
                "outbound": kinds["outbound"],
                "bounces": kinds["bounce"],
                "quarantine_or_skip": kinds["quarantine_or_skip"],
                "skipped": kinds["skip"],
                "skipped_by_reason": dict(sorted(skipped.items())),
                "leads": sum(leads_by_source.values()),
                "leads_by_source": dict(sorted(leads_by_source.items())),
                "customers": len(customers),
                "threads": len({entry.thread_id for entry in sample.entries}),
            },
            "bounced_message_ids": bounced,
        },
    }


def expected_json(sample: Sample) -> str:
    return json.dumps(expected(sample), indent=2, ensure_ascii=False) + "\n"


def write_sample(mbox_path: Path = MBOX_PATH, expected_path: Path = EXPECTED_PATH) -> Sample:
    sample = build()
    write_mbox(((takeout_from_line(e.gmail_id, e.when), e.raw) for e in sample.entries), mbox_path)
    expected_path.write_text(expected_json(sample), encoding="utf-8")
    return sample


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print(__doc__)
        return 0 if args and args[0] in ("-h", "--help") else 2
    mbox_path = Path(args[0]) if args else MBOX_PATH
    expected_path = mbox_path.with_suffix(".json") if args else EXPECTED_PATH
    sample = write_sample(mbox_path, expected_path)
    totals = expected(sample)["summary"]["totals"]
    print(f"wrote {mbox_path} ({len(sample.entries)} messages) and {expected_path}")
    print(", ".join(f"{key}={value}" for key, value in totals.items() if isinstance(value, int)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
