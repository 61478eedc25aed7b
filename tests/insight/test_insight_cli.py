"""Insight through ingestion and the command line: an mbox imported by the jobs, then
``crm report templates|sentiment``, ``crm template name``, ``crm customer get``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as Mail
from email.utils import format_datetime
from pathlib import Path

from tests.cli.conftest import Cli, table_row

MAILBOX = "info@rendetalje.dk"
T0 = datetime(2025, 10, 6, 8, 0, tzinfo=UTC)


def _mail(
    sender: str, to: str, subject: str, body: str, at: datetime, thread: int, gid: int
) -> bytes:
    mail = Mail()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"] = format_datetime(at)
    mail["Message-ID"] = f"<m{gid}@example.dk>"
    mail.set_content(body)
    stamp = at.strftime("%a %b %d %H:%M:%S +0000 %Y")
    base = 1790483472630000000
    head = f"From {base + gid}@xxx {stamp}\nX-GM-THRID: {base + thread}\n"
    labels = "Sent" if sender == MAILBOX else "Inbox"
    return (head + f"X-Gmail-Labels: {labels}\n").encode() + mail.as_bytes() + b"\n"


def _offer(name: str, amount: str) -> str:
    return (
        f"Hej {name}\n\nTak for din henvendelse. Vi kan tilbyde hovedrengøring af hele "
        f"boligen til {amount} kr. inkl. moms, og vi kan komme allerede i næste uge. "
        "Prisen dækker køkken, bad og alle gulve.\n\nMed venlig hilsen\nRendetalje\n"
    )


def _mbox(path: Path) -> Path:
    parts = []
    customers = [("anna@example.dk", "Anna", "2.400"), ("ole@example.dk", "Ole", "3.100")]
    for i, (email, name, amount) in enumerate(customers):
        at = T0 + timedelta(days=i)
        parts.append(_mail(email, MAILBOX, "Rengøring", "Kan I gøre rent hos os?", at, i, 10 * i))
        parts.append(
            _mail(
                MAILBOX,
                email,
                "Re: Rengøring",
                _offer(name, amount),
                at + timedelta(hours=2),
                i,
                10 * i + 1,
            )
        )
    parts.append(
        _mail(
            "anna@example.dk",
            MAILBOX,
            "Re: Rengøring",
            "Hej\n\nVi er desværre ikke tilfredse. Der var beskidt i køkkenet.\n\nMvh Anna\n",
            T0 + timedelta(days=3),
            0,
            2,
        )
    )
    path.write_bytes(b"".join(parts))
    return path


def test_reports_after_an_import(cli: Cli, tmp_path: Path) -> None:
    cli("import", "mbox", str(_mbox(tmp_path / "mail.mbox")), "--mailbox", MAILBOX)

    out = cli("report", "templates")
    assert "Traceback" not in out
    templates = cli.json("report", "templates")
    assert len(templates) == 1
    (template,) = templates
    assert (template["uses"], template["replied_within_7_days"]) == (2, 1)
    assert "<amount>" in template["example"] and "Anna" not in template["example"]
    assert table_row(out, template["template_id"])[2:4] == ["2", "50% (1/2)"]
    assert "Total: 1 template" in out

    cli("template", "name", template["template_id"], "Tilbud hovedrengøring")
    assert "Tilbud hovedrengøring" in cli("report", "templates")
    assert cli.fails("template", "name", "nope", "X") == "Error: template not found: nope"

    follow = cli.json("report", "sentiment")
    assert [f["email"] for f in follow] == ["anna@example.dk"]
    assert follow[0]["score"] < 0
    out = cli("report", "sentiment")
    assert "anna@example.dk" in out and "Total: 1 customer" in out

    assert "negative" in cli("customer", "get", "anna@example.dk")
    trend = cli.json("customer", "get", "anna@example.dk")["sentiment_trend"]
    assert len(trend) == 2 and trend[-1]["score"] < 0


def test_limits_and_totals(cli: Cli, tmp_path: Path) -> None:
    parts = []
    for i in range(3):
        at = T0 + timedelta(days=i)
        email = f"k{i}@example.dk"
        parts.append(_mail(email, MAILBOX, "Klage", "Det var elendigt og beskidt.", at, i, 10 * i))
    (tmp_path / "m.mbox").write_bytes(b"".join(parts))
    cli("import", "mbox", str(tmp_path / "m.mbox"), "--mailbox", MAILBOX)
    out = cli("report", "sentiment", "--limit", "2")
    assert "Showing 2 of 3 customers." in out
    assert len(cli.json("report", "sentiment", "--all")) == 3
    assert "--since" in cli.fails("report", "templates", "--since", "yesterday-ish")
    out = cli("insight", "backfill")
    assert "Inbound scored:" in out and "0 messages" in out
