"""The quick path of normalize_email gives exactly what email-validator gives."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crm_core.errors import InvalidEmailError
from crm_core.normalize import normalize_email

normalize_uncached = normalize_email.__wrapped__


def by_email_validator(email: str) -> str | None:
    """The normalisation before the quick path: email-validator for every address."""
    try:
        result = validate_email(email.strip(), check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


def by_normalize_email(email: str) -> str | None:
    try:
        return str(normalize_uncached(email))
    except InvalidEmailError:
        return None


# Pieces that sit on the edges of what is valid: dots, hyphens, Punycode, special-use
# names, non-ASCII letters, quoting, long runs.
_LOCAL_CHARS = st.sampled_from(list("aZ9._%+-!#'*/=?^`{|}~\"() é\u00e6ø@\\"))
_LABEL_CHARS = st.sampled_from(list("aB7-_é.ø"))
_LABELS = st.one_of(
    st.text(_LABEL_CHARS, min_size=0, max_size=8),
    st.sampled_from(["xn--", "xn--bcher-kva", "ab--c", "localhost", "local", "test", "arpa",
                     "onion", "invalid", "home", "example", "dk", "com", "123", "a" * 63,
                     "b" * 64, "æøå", "EXAMPLE"]),
)  # fmt: skip


_PLAIN_LOCAL = st.one_of(
    st.text(st.sampled_from(list("aZ9._%+-")), min_size=1, max_size=12),
    st.lists(st.text(st.sampled_from(list("aZ9_%+-")), min_size=1, max_size=5), min_size=1,
             max_size=3).map(".".join),
)  # fmt: skip
_PLAIN_LABEL = st.text(st.sampled_from(list("aaB7-")), min_size=1, max_size=6).filter(
    lambda label: not label.startswith("-")
)
_TOP_LEVEL = st.sampled_from(["dk", "COM", "io", "x", "a1", "test", "local", "arpa", "onion"])


@st.composite
def addresses(draw: st.DrawFn) -> str:
    if draw(st.booleans()):  # about the shape of the quick path's addresses
        labels = draw(st.lists(st.one_of(_PLAIN_LABEL, _LABELS), min_size=1, max_size=3))
        top = draw(st.one_of(_TOP_LEVEL, _PLAIN_LABEL))
        return draw(_PLAIN_LOCAL) + "@" + ".".join([*labels, top])
    local = draw(
        st.one_of(st.text(_LOCAL_CHARS, max_size=12), st.just("x" * draw(st.integers(60, 70))))
    )
    labels = draw(st.lists(_LABELS, min_size=0, max_size=5))
    domain = ".".join(labels)
    at = draw(st.sampled_from(["@", "@", "@", "", "@@"]))
    padding = draw(st.sampled_from(["", " ", "\t"]))
    return padding + local + at + domain + padding


@settings(max_examples=3000, deadline=None)
@given(addresses())
@example("Kunde.1@Example.dk")
@example("a@b.co")
@example("user@xn--bcher-kva.ch")
@example("user@sub.localhost")
@example("user@mail.test")
@example("x" * 64 + "@example.dk")
@example("x" * 65 + "@example.dk")
@example("user@" + "a" * 63 + ".dk")
@example("user@" + "a" * 64 + ".dk")
@example("user@" + ".".join(["a" * 60] * 4) + ".dk")
@example("first.last@example.123")
@example(".first@example.dk")
@example("first.@example.dk")
@example("fi..rst@example.dk")
@example("user@-example.dk")
@example("user@example-.dk")
@example("user@ab--cd.dk")
def test_quick_path_gives_what_email_validator_gives(address: str) -> None:
    assert by_normalize_email(address) == by_email_validator(address)


def test_plain_addresses_are_lower_cased_and_trimmed() -> None:
    assert normalize_uncached("  Kunde.Ny+1@Example.DK ") == "kunde.ny+1@example.dk"


@pytest.mark.parametrize("address", ["", "no-at-sign", "a@localhost", "a@b", "a b@c.dk"])
def test_invalid_addresses_are_refused(address: str) -> None:
    with pytest.raises(InvalidEmailError):
        normalize_uncached(address)
