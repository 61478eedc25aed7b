"""`crm lead list --by-score`, `crm lead rescore`, `crm lead show`'s reasons, rescoring
after outcomes (through the rescore_leads job) and `crm report trends [--chart]`."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from crm_core.analytics.trends import COMPANY_ZONE
from crm_core.models import LeadScoreCount, LeadScoringState
from crm_core.scoring import request_rescore
from tests.cli.conftest import Cli, table_row
from tests.insight.history import BAD, GOOD, lead, planted_history


def _history(cli: Cli, count: int, fresh: int = 0) -> list[str]:
    """Planted history, plus ``fresh`` open leads (half good, half bad); their ids."""
    assert cli.database is not None
    recent = datetime.now(UTC) - timedelta(days=2)
    with cli.database.sessions() as session:
        planted_history(session, count)
        ids = [
            lead(session, *(GOOD if index % 2 == 0 else BAD), recent + timedelta(minutes=index)).id
            for index in range(fresh)
        ]
        session.commit()
    return ids


def test_leads_by_score_come_best_first_with_their_reasons(cli: Cli) -> None:
    fresh = _history(cli, 60, fresh=4)
    first = cli.json("lead", "rescore")
    assert (first["trained_on"], first["scored"]) == (60, 64)
    assert cli.json("lead", "rescore")["changed"] == 0

    listed = cli.json("lead", "list", "--by-score", "--limit", "5")
    everyone = cli.json("lead", "list", "--limit", "100")["leads"]
    still_open = [item for item in everyone if item["status"] in ("new", "contacted", "quoted")]
    assert len(everyone) == 64 and len(still_open) < 64  # the history has won and lost ones
    assert listed["total"] == len(still_open) and len(listed["leads"]) == 5
    assert {item["status"] for item in listed["leads"]} <= {"new", "contacted", "quoted"}
    won = cli.json("lead", "list", "--by-score", "--status", "won", "--limit", "100")
    assert won["total"] > 0 and {item["status"] for item in won["leads"]} == {"won"}
    scores = [item["score"] for item in listed["leads"]]
    assert scores == sorted(scores, reverse=True)
    assert all(len(item["score_reasons"]) == 3 for item in listed["leads"])

    out = cli("lead", "list", "--by-score", "--limit", "2", "--source", "leadpoint")
    assert out.splitlines()[-1].startswith("Showing 2 of ")
    assert "Score" in out and "Why" in out
    rows = [line for line in out.splitlines() if "leadpoint" in line]
    assert len(rows) == 2

    good, bad = fresh[0], fresh[1]
    all_leads = cli.json("lead", "list", "--by-score", "--limit", "100")["leads"]
    order = [item["id"] for item in all_leads]
    assert order.index(good) < order.index(bad)

    shown = cli("lead", "show", good)
    assert "Why this score" in shown
    assert "+ source rengoring.nu:" in shown or "+ postcode area 80xx:" in shown
    assert table_row(shown, "Score:")[1].isdigit()
    assert cli.json("lead", "show", good)["score"] == next(
        item["score"] for item in all_leads if item["id"] == good
    )


def test_outcomes_rescore_the_leads_through_the_job(cli: Cli) -> None:
    assert cli.database is not None
    _history(cli, 40)
    with cli.database.sessions() as session:
        old = lead(session, "website", GOOD[1], datetime.now(UTC) - timedelta(days=90))
        other = lead(session, "website", BAD[1], datetime.now(UTC) - timedelta(days=95))
        session.commit()
    cli("lead", "rescore")
    with cli.database.sessions() as session:
        before = session.get(LeadScoringState, 1)
        assert before is not None and before.built == before.requested
        asked = before.requested  # the history's own outcomes asked already

    quote = cli.json("quote", "create", "--lead", old.id, "--total", "2000")["id"]
    cli("quote", "accept", quote)  # the job runs in-process with the inline broker
    with cli.database.sessions() as session:
        website = session.get(LeadScoreCount, ("source", "website"))
        state = session.get(LeadScoringState, 1)
        assert website is not None and (website.leads, website.converted) == (2, 1)
        assert state is not None and state.built == state.requested == asked + 1

    cli("lead", "update", other.id, "--status", "won")
    with cli.database.sessions() as session:
        website = session.get(LeadScoreCount, ("source", "website"))
        state = session.get(LeadScoringState, 1)
        assert website is not None and website.converted == 2
        assert state is not None and state.built == state.requested == asked + 2
    # A failed outcome asks for nothing.
    cli.fails("quote", "accept", "no-such-quote")
    with cli.database.sessions() as session:
        assert session.get(LeadScoringState, 1).requested == asked + 2  # type: ignore[union-attr]


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _trend_data(cli: Cli) -> tuple[datetime, datetime]:
    assert cli.database is not None
    # Months are the company's (Europe/Copenhagen): in the last hour of a month in UTC
    # the report is already in the next one.
    now = datetime.now(COMPANY_ZONE)
    this_month = now.replace(day=1, hour=6, minute=0, second=0, microsecond=0)
    last_month = (this_month - timedelta(days=1)).replace(day=2)
    with cli.database.sessions() as session:
        lead(session, "rengoring.nu", GOOD[1], last_month, converted=True, revenue="4200")
        lead(session, "rengoring.nu", GOOD[1], last_month + timedelta(hours=3))
        lead(session, "leadpoint", BAD[1], this_month)
        session.commit()
    return last_month, this_month


def test_trends_table_and_chart_files(cli: Cli, tmp_path: Path) -> None:
    last_month, this_month = _trend_data(cli)
    out = cli("report", "trends", "--months", "2")
    header = next(line for line in out.splitlines() if line.startswith("Month"))
    assert header.split() == [
        "Month", "Leads", "leadpoint", "rengoring.nu", "Quotes", "sent", "Accepted",
        "Bookings", "Revenue", "Median", "reply",
    ]  # fmt: skip
    assert table_row(out, _month(last_month))[1:8] == ["2", "0", "2", "1", "1", "1", "4.200 kr"]
    assert table_row(out, _month(this_month))[1:4] == ["1", "1", "0"]
    assert out.splitlines()[-1] == "Total: 3 leads, 4.200 kr revenue"

    png = tmp_path / "trends.png"
    assert f"Chart written to {png}" in cli(
        "report", "trends", "--months", "6", "--chart", str(png)
    )
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (1000, 900)

    svg = tmp_path / "trends.svg"
    cli("report", "trends", "--months", "6", "--chart", str(svg))
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join(
        "".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")
    )
    for series in ("leads: rengoring.nu", "leads: leadpoint", "quotes accepted", "bookings"):
        assert series in texts
    assert _month(last_month) in texts and _month(this_month) in texts

    assert "give a file ending in .png or .svg" in cli.fails(
        "report", "trends", "--chart", str(tmp_path / "trends.pdf")
    )
    assert cli.json("report", "trends", "--months", "2")["months"][0]["revenue"] == "4200.00"


def test_the_demo_history_gives_scores_and_trends(cli: Cli) -> None:
    out = cli("demo", "--history")
    assert "Imported history.mbox" in out
    assert "Outcomes recorded: 143" in out
    assert "Outcomes recorded: 0" in cli("demo", "--history")  # nothing twice

    best = cli.json("lead", "list", "--by-score", "--limit", "300")
    assert 0 < best["total"] < 177  # the open ones of the history's 177 leads
    scores = [lead["score"] for lead in best["leads"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1] + 30
    top_reasons = {r["feature"] for lead in best["leads"][:10] for r in lead["score_reasons"]}
    assert top_reasons <= {"source", "area", "reply", "task", "size"}, top_reasons

    trends = cli.json("report", "trends", "--until", "2025-11")["months"]
    assert [row["month"] for row in trends][::11] == ["2024-12", "2025-11"]
    assert all(row["leads"] >= 14 and row["quotes_sent"] > 0 for row in trends)
    assert sum(Decimal(row["revenue"]) for row in trends) > 50_000
    assert "is not a month" in cli.fails("report", "trends", "--until", "november")


def test_status_says_when_outcomes_wait_for_a_rescore(cli: Cli) -> None:
    assert cli.database is not None
    assert "Lead scores: no model yet" in cli("status")
    _history(cli, 20)
    with cli.database.sessions() as session:
        request_rescore(session)  # an outcome whose job was never sent
        session.commit()
    waiting = cli.json("status")["lead_scoring"]
    assert waiting["rescore_waiting"] is True
    assert "outcomes wait for a rescore" in cli("status")
    cli("lead", "rescore")
    built = cli.json("status")["lead_scoring"]
    assert built["rescore_waiting"] is False and built["trained_on"] > 0
    out = cli("status")
    assert "outcomes wait for a rescore" not in out and "decided lead(s)" in out
