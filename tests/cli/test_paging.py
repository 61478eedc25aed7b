"""Lists and reports show a page and say how many there are in all."""

from __future__ import annotations

import shlex

from tests.cli.conftest import Cli


def test_customer_list_pages_with_a_cursor_and_says_how_many(cli: Cli) -> None:
    ids = [
        cli.create(f"Kunde {n}", f"kunde{n}@example.dk", "--tag", "vip" if n % 2 else "ny")
        for n in range(5)
    ]

    first = cli("customer", "list", "--limit", "2").splitlines()
    assert first[-2] == "Showing 2 of 5 customers."
    command, cursor = first[-1].removeprefix("Next page: ").split(" --after ")
    assert command == "crm customer list active --limit 2"
    names = [line.split()[1] for line in first if line.startswith("Kunde")]
    assert names == ["4", "3"]

    second = cli("customer", "list", "--limit", "2", "--after", cursor).splitlines()
    assert [line.split()[1] for line in second if line.startswith("Kunde")] == ["2", "1"]
    cursor = second[-1].split(" --after ")[1]
    last = cli("customer", "list", "--limit", "2", "--after", cursor).splitlines()
    assert [line.split()[1] for line in last if line.startswith("Kunde")] == ["0"]
    assert last[-1] == "Showing 1 of 5 customers."

    vip = cli("customer", "list", "--tag", "vip", "--limit", "1").splitlines()
    assert vip[-2:-1] == ["Showing 1 of 2 customers."]
    assert vip[-1].startswith("Next page: crm customer list active --tag vip --limit 1 --after ")
    # The next page's command can be pasted into a shell: a tag with a space is quoted.
    for customer_id in ids[3:]:
        cli("customer", "update", customer_id, "--add-tag", "ny kunde")
    spaced = cli("customer", "list", "--tag", "ny kunde", "--limit", "1").splitlines()[-1]
    assert spaced.startswith("Next page: crm customer list active --tag 'ny kunde' --limit 1")
    pasted = shlex.split(spaced.removeprefix("Next page: crm "))
    second_page = cli(*pasted).splitlines()
    assert [line.split()[1] for line in second_page if line.startswith("Kunde")] == ["3"]
    assert cli("customer", "list").splitlines()[-1] == "Total: 5 customers"
    assert "invalid cursor" in cli.fails("customer", "list", "--after", "nonsense")


def test_reports_have_a_limit_that_all_lifts(cli: Cli) -> None:
    for n in range(3):
        cli.create(f"Kunde {n}", f"kunde{n}@example.dk")
    top = cli("report", "top-customers", "--limit", "2").splitlines()
    assert top[-2:] == ["Showing 2 of 3 active customers.", "--all shows every one."]
    everyone = cli("report", "top-customers", "--all").splitlines()
    assert everyone[-1] == "Total: 3 active customers"
