"""`crm retention run`: raw mail past [retention] is dropped, the ledger rows stay,
and nothing ingests a dropped row again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from crm_core.models import ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.statuses import IngestOutcome
from tests.cli.conftest import Cli
from tests.conftest import Database
from tests.ingest.test_sample_mailbox import SAMPLES

SAMPLE = str(SAMPLES / "rendetalje.mbox")


def _age(database: Database, ids: list[str], days: int) -> None:
    then = utcnow() - timedelta(days=days)
    with database.sessions() as session, session.begin():
        session.execute(
            update(ReceivedMessage)
            .where(ReceivedMessage.id.in_(ids))
            .values(staged_at=then, processed_at=then)
        )


def _ledger(database: Database) -> dict[str, tuple[IngestOutcome, str | None, int, int]]:
    with database.sessions() as session:
        rows = session.execute(
            select(
                ReceivedMessage.id,
                ReceivedMessage.outcome,
                ReceivedMessage.reason,
                ReceivedMessage.size,
                func.length(ReceivedMessage.raw),
            )
        )
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def test_old_raw_mail_is_dropped_and_never_ingested_again(
    cli: Cli, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_LIMITS_MAX_MESSAGE_BYTES", "2500")
    cli("import", "mbox", SAMPLE)
    monkeypatch.delenv("CRM_LIMITS_MAX_MESSAGE_BYTES")
    before = _ledger(database)
    quarantined = sorted(i for i, r in before.items() if r[0] is IngestOutcome.QUARANTINED)
    filed = sorted(i for i, r in before.items() if r[0] is not IngestOutcome.QUARANTINED)
    assert len(quarantined) > 4 and len(filed) > 4
    status = cli.json("status")["overall"]
    assert status["raw_mail_messages"] == len(before)
    assert status["raw_mail_bytes"] == sum(r[2] for r in before.values())
    assert "Raw mail held: " in cli("status")

    # Filed 100 days ago (past 90) and 60 (not yet); quarantined 40 days ago (past 30).
    old_filed, young_filed = filed[: len(filed) // 2], filed[len(filed) // 2 :]
    old_quarantined = quarantined[:2]
    _age(database, old_filed, 100)
    _age(database, young_filed, 60)
    _age(database, old_quarantined, 40)

    expected = {
        "processed_dropped": len(old_filed),
        "processed_bytes": sum(before[i][2] for i in old_filed),
        "quarantined_dropped": 2,
        "quarantined_bytes": sum(before[i][2] for i in old_quarantined),
    }
    dry = cli.json("retention", "run", "--dry-run")
    assert {k: dry[k] for k in expected} == expected and dry["dry_run"] is True
    assert _ledger(database) == before
    assert "Would drop the raw mail of" in cli("retention", "run", "--dry-run")

    done = cli.json("retention", "run")
    assert {k: done[k] for k in expected} == expected
    after = _ledger(database)
    assert set(after) == set(before)  # every row stays, with its outcome and size
    for received_id, (outcome, reason, size, held) in after.items():
        assert outcome == before[received_id][0] and size == before[received_id][2]
        dropped = received_id in old_filed or received_id in old_quarantined
        assert (held == 0) == dropped
        if received_id in old_quarantined:
            assert reason == "retention: raw mail dropped after 30 days"
        else:
            assert reason == before[received_id][1]
    status = cli.json("status")["overall"]
    assert status["raw_mail_messages"] == len(before) - len(old_filed) - 2
    assert status["quarantined"] == len(quarantined) - 2  # ended ones need no one

    again = cli.json("retention", "run")
    assert again["processed_dropped"] == again["quarantined_dropped"] == 0

    # A dropped quarantined message cannot be retried; the others still can.
    error = cli.fails("quarantine", "retry", old_quarantined[0])
    assert "retention dropped its raw mail" in error
    assert "retention: raw mail dropped after 30 days" in cli(
        "quarantine", "show", old_quarantined[0]
    )
    retried = cli.json("quarantine", "retry", "--all")
    assert {row["id"] for row in retried} == set(quarantined) - set(old_quarantined)
    assert _ledger(database)[old_quarantined[0]][:2] == (
        IngestOutcome.QUARANTINED,
        "retention: raw mail dropped after 30 days",
    )
    with database.sessions() as session:
        gmail_id = session.get(ReceivedMessage, old_filed[0]).gmail_message_id  # type: ignore[union-attr]
    assert "retention dropped its raw mail" in cli.fails("explain", "--gmail-id", gmail_id)
