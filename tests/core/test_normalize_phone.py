"""The quick path of checked_e164_phone gives exactly what phonenumbers gives."""

from __future__ import annotations

import phonenumbers
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crm_core.errors import ValidationError
from crm_core.normalize import checked_e164_phone


def by_phonenumbers(text: str, region: str) -> str | None:
    """What checked_e164_phone gave before the quick path: phonenumbers for every number."""
    cleaned = " ".join(text.split())
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def by_checked_e164_phone(text: str, region: str) -> str | None:
    try:
        return checked_e164_phone(text, region)
    except ValidationError:
        return None


_NUMBERS = st.builds(
    lambda prefix, digits, padding: padding + prefix + digits + padding,
    st.sampled_from(["", "", "+45", "+46", "0045", "45", "+", "0"]),
    st.text(st.sampled_from(list("0123456789")), min_size=1, max_size=11),
    st.sampled_from(["", " "]),
)


@settings(max_examples=3000, deadline=None)
@given(_NUMBERS, st.sampled_from(["DK", "DK", "SE", "US"]))
@example("20000000", "DK")
@example("+4520000000", "DK")
@example("02000000", "DK")
@example("00450000", "DK")
@example("12345678", "SE")
def test_quick_path_gives_what_phonenumbers_gives(text: str, region: str) -> None:
    assert by_checked_e164_phone(text, region) == by_phonenumbers(text, region)
