"""Strict parsing of address headers (From, To, Cc, Reply-To) into ``Address``.

A small tokenizer instead of ``email.utils.getaddresses``: that one guesses on
garbage (and, depending on the Python patch level, returns nothing at all for a
list with one bad entry). Here each comma-separated entry stands on its own: a
valid addr-spec becomes an ``Address``, anything else is dropped and noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from worker.mail.charsets import clean, recover_8bit
from worker.mail.defects import DefectLog, quoted
from worker.mail.headers import bounded, decode_words, folded
from worker.mail.message import Address

_SPECIALS = frozenset('"(<>,;:')
_ENCODED_WORD_AT = re.compile(r"=\?[^?\s]*\?[QqBb]\?[^?]*\?=")
_LINE_BREAKS = re.compile(r"[\r\n]+")

# Printable non-ASCII (RFC 6532 internationalised mail); U+FFFD marks damage, not a name.
_UNICODE = "\u00a1-\ufffc\U00010000-\U0010ffff"
# RFC 5322 atext.
_ATEXT = rf"[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~\-{_UNICODE}]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_QUOTED_LOCAL = r'"(?:[^"\\\r\n]|\\.)*"'
_LABEL = rf"[A-Za-z0-9{_UNICODE}](?:[A-Za-z0-9\-{_UNICODE}]{{0,61}}[A-Za-z0-9{_UNICODE}])?"
# At least two labels: a bare host name is no address a customer can be reached at.
_DOMAIN = rf"(?:{_LABEL}\.)+{_LABEL}|\[[^\[\]\\\s]+\]"
_ADDR_SPEC = re.compile(rf"(?:{_DOT_ATOM}|{_QUOTED_LOCAL})@(?:{_DOMAIN})")
_MAX_LOCAL_CHARS = 64
_MAX_ADDRESS_CHARS = 254


def is_addr_spec(text: str) -> bool:
    """Whether ``text`` is exactly one valid addr-spec, e.g. ``info@rendetalje.dk``."""
    if len(text) > _MAX_ADDRESS_CHARS or not _ADDR_SPEC.fullmatch(text):
        return False
    local = text.rsplit("@", 1)[0]
    return len(local) <= _MAX_LOCAL_CHARS


@dataclass
class _Entry:
    """One comma-separated entry of an address list, as read so far."""

    start: int
    phrase: list[str] = field(default_factory=list)  # display-name words
    bare: list[str] = field(default_factory=list)  # everything outside comments
    comments: list[str] = field(default_factory=list)
    angle: str | None = None


def parse_addresses(raw: str, header: str, defects: DefectLog) -> tuple[Address, ...]:
    """Every valid mailbox in an address-list header value, groups flattened."""
    text = _LINE_BREAKS.sub("", recover_8bit(bounded(raw, defects), defects))
    addresses: list[Address] = []
    for entry, source in _entries(text):
        address = _address_of(entry, defects)
        if address is not None:
            addresses.append(address)
        elif source.strip():
            defects.add(f"invalid address in {header}: {quoted(clean(source))}")
    return tuple(addresses)


def _entries(text: str) -> list[tuple[_Entry, str]]:
    """Split an address list into entries, keeping each entry's source text."""
    done: list[tuple[_Entry, str]] = []
    entry = _Entry(start=0)
    index = 0
    while index < len(text):
        char = text[index]
        if char in ",;":
            # A comma ends an entry; a semicolon ends a group and its last entry.
            done.append((entry, text[entry.start : index]))
            entry = _Entry(start=index + 1)
            index += 1
        elif char == ":":
            # "Kunder: a@x.dk, b@y.dk;" - the group name is not a mailbox.
            entry = _Entry(start=index + 1)
            index += 1
        elif char == '"':
            content, index = _read_delimited(text, index, '"')
            entry.phrase.append(content)
            entry.bare.append('"' + content.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif char == "(":
            content, index = _read_comment(text, index)
            entry.comments.append(content)
        elif char == "<":
            content, index = _read_delimited(text, index, ">")
            entry.angle = content
        elif char == ">":
            index += 1  # a stray closing bracket carries nothing
            entry.bare.append(">")
        elif char.isspace():
            entry.phrase.append(" ")
            entry.bare.append(" ")
            index += 1
        else:
            word, index = _read_word(text, index)
            entry.phrase.append(word)
            entry.bare.append(word)
    done.append((entry, text[entry.start :]))
    return done


def _read_word(text: str, index: int) -> tuple[str, int]:
    """An atom (dots and @ included) or a whole encoded word, which may hold specials."""
    encoded = _ENCODED_WORD_AT.match(text, index)
    if encoded:
        return encoded.group(0), encoded.end()
    end = index
    while end < len(text) and text[end] not in _SPECIALS and not text[end].isspace():
        end += 1
    end = max(end, index + 1)  # always make progress, whatever the character
    return text[index:end], end


def _read_delimited(text: str, index: int, closing: str) -> tuple[str, int]:
    """Content after ``text[index]`` up to ``closing`` (backslash escapes honoured)."""
    chars: list[str] = []
    index += 1
    while index < len(text) and text[index] != closing:
        if text[index] == "\\" and index + 1 < len(text) and closing == '"':
            index += 1
        chars.append(text[index])
        index += 1
    return "".join(chars), index + 1


def _read_comment(text: str, index: int) -> tuple[str, int]:
    """A parenthesised comment, which may nest, without its outer parentheses."""
    chars: list[str] = []
    depth = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            chars.append(text[index + 1])
            index += 2
            continue
        depth += (char == "(") - (char == ")")
        if depth == 0:
            return "".join(chars[1:]), index + 1
        chars.append(char)
        index += 1
    return "".join(chars[1:]), index


def _address_of(entry: _Entry, defects: DefectLog) -> Address | None:
    if entry.angle is not None:
        email = _without_route(entry.angle.strip())
        name = _display_name(entry.phrase, defects) or _display_name(entry.comments, defects)
    else:
        email = _bare_addr_spec(entry.bare)
        name = _display_name(entry.comments, defects)
    email = clean(email)
    if not is_addr_spec(email):
        return None
    return Address(email=email, name=name)


def _bare_addr_spec(tokens: list[str]) -> str:
    """Join the words of an address without brackets.

    Obsolete syntax allows whitespace around "@" and dots ("jens @ x . dk"), so
    that whitespace goes; any other ("jens hansen@x.dk") stays and invalidates it.
    """
    kept: list[str] = []
    for index, word in enumerate(tokens):
        if word == " ":
            before = kept[-1] if kept else ""
            after = tokens[index + 1] if index + 1 < len(tokens) else ""
            if after in ("", " ") or not before or before[-1] in ".@" or after[0] in ".@":
                continue
        kept.append(word)
    return "".join(kept)


def _without_route(spec: str) -> str:
    """Drop an obsolete source route: ``<@relay.dk:jens@x.dk>`` -> ``jens@x.dk``."""
    if spec.startswith("@") and ":" in spec:
        return spec.split(":", 1)[1].strip()
    return spec


def _display_name(words: list[str], defects: DefectLog) -> str:
    # Encoded words also show up inside quotes; every mail client decodes them there.
    name = folded(clean(decode_words("".join(words), defects)))
    # Outlook quotes names in single quotes: "'Jens Hansen' <jens@x.dk>".
    if len(name) >= 2 and name[0] == name[-1] == "'":
        name = name[1:-1].strip()
    return name
