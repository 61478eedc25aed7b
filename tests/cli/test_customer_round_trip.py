"""Property: any customers, exported and imported again, are unchanged (CSV and Excel form)."""

from __future__ import annotations

import itertools
import json
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core import services
from tests.cli.conftest import Cli

_counter = itertools.count()
# Anything a person or a mail can put in a text field, but NUL (no database stores it)
# and lone surrogates (not text).
_TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
)
_LINE = st.text(
    st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
).filter(lambda s: bool(s.strip()))
_TAG = st.text(string.ascii_lowercase + "æøå -_", min_size=1, max_size=12).filter(
    lambda s: bool(s.strip())
)
_PHONE = st.sampled_from(["12 34 56 78", "+45 22 33 44 55", "0045 87654321", "+46 8 123 456 78"])


@st.composite
def customers(draw: st.DrawFn) -> dict[str, object]:
    return {
        "name": draw(_LINE),
        "email": draw(st.none() | st.just(f"kunde.{next(_counter)}@Example.dk")),
        "phone": draw(st.none() | _PHONE),
        "company_name": draw(st.none() | _LINE.map(lambda s: s[:200])),
        "address": draw(st.none() | _TEXT),
        "notes": draw(st.none() | _TEXT),
        "tags": draw(st.lists(_TAG, max_size=3)),
        "status": draw(st.sampled_from(["active", "inactive", "blocked"])),
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(customers(), min_size=1, max_size=4), excel=st.booleans())
def test_export_then_import_changes_nothing(
    cli: Cli, tmp_path: Path, people: list[dict[str, object]], excel: bool
) -> None:
    assert cli.database is not None
    # The database outlives the examples: each exports only its own customers.
    example = f"example {next(_counter)}"
    with cli.database.sessions() as session:
        for person in people:
            status = person.pop("status")
            person["tags"] = [*person["tags"], example]  # type: ignore[misc]
            customer = services.create_customer(session, **person)  # type: ignore[arg-type]
            services.update_customer(session, customer.id, status=str(status))
        session.commit()
    flags = ["--excel"] if excel else []
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    flags += ["--tag", example]
    cli("customer", "export", *flags, "-o", str(first))
    result = json.loads(cli("customer", "import", str(first), "--on-conflict", "error", "--json"))
    assert result["created"] == result["updated"] == result["skipped"] == 0
    assert result["rejected"] == 0, first.read_text("utf-8-sig")
    cli("customer", "export", *flags, "-o", str(second))
    assert second.read_bytes() == first.read_bytes()
