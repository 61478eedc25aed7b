"""Turning bytes of doubtful encoding into text, and text into something storable.

Mail in the wild lies about its charset: ISO-8859-1 labels on UTF-8 text, UTF-8
labels on Windows-1252 text, 8-bit bytes in headers with no label at all, and
labels no codec knows. Everything here decodes without raising and says, through
the defect log, when it had to guess.
"""

from __future__ import annotations

import codecs
import email.charset
import re

from worker.mail.defects import DefectLog, shortened

# Labels for single-byte Western charsets. Text that carries one of these labels
# but is valid multi-byte UTF-8 is UTF-8: genuine Latin-1 prose practically never
# forms valid UTF-8 sequences, while mislabelled UTF-8 is common.
_WESTERN_SINGLE_BYTE = frozenset({"ascii", "iso8859-1", "iso8859-15", "cp1252"})

# Judging the first stretch of a text is enough and keeps huge bodies cheap.
_GUESS_SAMPLE_CHARS = 100_000

_SURROGATES = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """Make text storable: no NUL (PostgreSQL text refuses it), no lone surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _SURROGATES.sub("\ufffd", text)


def codec_for(label: str | None, defects: DefectLog) -> str | None:
    """The Python codec for a MIME charset label, or None when there is none usable."""
    if label is None:
        return None
    name = label.strip().strip("\"'").lower()
    # RFC 2231 lets a language ride along: "utf-8*da".
    name = name.split("*", 1)[0].strip()
    if not name:
        return None
    try:
        info = codecs.lookup(email.charset.ALIASES.get(name, name))
    except (LookupError, ValueError):
        defects.add(f"unknown charset {shortened(name)}")
        return None
    # Bytes-to-bytes codecs (base64, zlib, rot13) are codecs, not charsets.
    if not getattr(info, "_is_text_encoding", True):
        defects.add(f"unknown charset {shortened(name)}")
        return None
    return info.name


def decode_bytes(data: bytes, label: str | None, defects: DefectLog) -> str:
    """Decode ``data`` as its label says if that works, else by the best guess."""
    codec = codec_for(label, defects)
    if codec is None:
        return _guess(data)
    if codec in _WESTERN_SINGLE_BYTE and not data.isascii():
        as_utf8 = _try_decode(data, "utf-8")
        if as_utf8 is not None:
            defects.add(f"charset {codec} mislabels utf-8 text")
            return clean(as_utf8)
        # ISO-8859-1 bytes 0x80-0x9F are control codes nobody types; Windows-1252
        # puts the quotes and dashes Outlook users do type there.
        as_cp1252 = _try_decode(data, "cp1252") if codec in {"ascii", "iso8859-1"} else None
        if as_cp1252 is not None:
            return clean(as_cp1252)
    text = _try_decode(data, codec)
    if text is None:
        defects.add(f"text not decodable as {codec}")
        return _guess(data)
    return clean(text)


def recover_8bit(text: str, defects: DefectLog) -> str:
    """Decode raw 8-bit bytes that the parser smuggled through as surrogates.

    The bytes parser keeps undeclared 8-bit header bytes as surrogate escapes;
    turning them back into bytes and guessing the charset recovers "Søren".
    """
    if not _SURROGATES.search(text):
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeError:
        return clean(text)
    defects.add("8-bit header without encoding")
    return _guess(raw)


def _guess(data: bytes) -> str:
    """UTF-8 when the bytes are (mostly) UTF-8, else Windows-1252, else Latin-1."""
    text = _try_decode(data, "utf-8")
    if text is not None:
        return clean(text)
    lenient = data.decode("utf-8", "replace")
    sample = lenient[:_GUESS_SAMPLE_CHARS]
    damaged = sample.count("\ufffd")
    intact = sum(1 for char in sample if char > "\x7f") - damaged
    # A few broken sequences in otherwise good UTF-8 (a truncated body) keep the
    # UTF-8 reading; a text of lone high bytes is single-byte.
    if intact > damaged:
        return clean(lenient)
    text = _try_decode(data, "cp1252")
    return clean(text if text is not None else data.decode("latin-1"))


def _try_decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    # Exotic codecs raise more than UnicodeError on junk; any failure means "not this".
    except Exception:
        return None
