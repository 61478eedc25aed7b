"""Bad arguments, bad environment and bad config files: every one is refused with one
line naming what is wrong, exit code 1 or 2, and the database unchanged.

Runs in-process on PostgreSQL and SQLite; tests/cli/test_bad_input_processes.py runs
the cases that depend on the real process (argv bytes, file permissions, Redis).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_core.models import Quote
from tests.cli.conftest import Cli
from tests.cli.refusals import every_case, invoke, refused
from tests.conftest import Database
from tests.ingest.test_sample_mailbox import SAMPLES

HUGE = "100000000000000000000"
SAMPLE = str(SAMPLES / "rendetalje.mbox")


@pytest.fixture
def ids(cli: Cli) -> dict[str, str]:
    """A customer, a lead and a quote to aim the bad input at."""
    customer = cli.create("Mette Hansen", "mette@example.dk")
    lead = cli.json("lead", "create", "--email", "lead@example.dk")["id"]
    quote = cli.json("quote", "create", "--total", "100", "--customer", customer)["id"]
    return {"customer": customer, "lead": lead, "quote": quote}


# (arguments, what the error line says, exit code); {customer} etc. are filled in.
BAD_ARGUMENTS = [
    (
        ("customer", "create", "\udcff\udcfe", "a@b.dk"),
        "argument '\\xff\\xfe' is not valid UTF-8",
        2,
    ),
    (("customer", "get", "\udce6"), "is not valid UTF-8", 2),
    (("quote", "create", "--total", "NaN", "--customer", "{customer}"), "not a number: 'NaN'", 1),
    (("quote", "create", "--total", "-Infinity", "--lead", "{lead}"), "not a number", 1),
    (("quote", "create", "--total", "sNaN", "--customer", "{customer}"), "not a number", 1),
    (("quote", "create", "--total", "12,50", "--customer", "{customer}"), "not a number", 1),
    (
        ("quote", "create", "--total", "99999999999999999999999.99", "--customer", "{customer}"),
        "at most 9999999999.99 kr",
        1,
    ),
    (("quote", "create", "--total", "1e400", "--customer", "{customer}"), "at most", 1),
    (("quote", "create", "--total", "-0.01", "--customer", "{customer}"), "zero or more", 1),
    (
        ("booking", "create", "--at", "0001-01-01T00:00", "--customer", "{customer}"),
        "date and time out of range",
        1,
    ),
    (
        ("booking", "create", "--at", "0001-01-01T00:00+14:00", "--lead", "{lead}"),
        "date and time out of range",
        1,
    ),
    (("booking", "create", "--at", "1899-12-31T23:00", "--lead", "{lead}"), "between 1900", 1),
    (("booking", "create", "--at", "9999-12-31T23:59", "--quote", "{quote}"), "between 1900", 1),
    (("booking", "create", "--at", "31.12.9999 23:59", "--customer", "{customer}"), "between", 1),
    (
        ("booking", "create", "--at", "tomorrow", "--customer", "{customer}"),
        "not a date and time",
        1,
    ),
    (("customer", "list", "--limit", HUGE), "limit must be between 1 and 1,000,000", 1),
    (("customer", "list", "--limit", "1000001"), "limit must be between", 1),
    (("report", "top-customers", "--limit", HUGE), "limit must be between", 1),
    (("report", "response-ratio", "--limit", HUGE), "limit must be between", 1),
    (("quarantine", "list", "--limit", HUGE), "limit must be between", 1),
    (("lead", "unlinked", "--limit", HUGE), "limit must be between", 1),
    (("lead", "list", "--limit", HUGE), "limit must be between", 1),
    (("conversation", "list", "--limit", HUGE), "limit must be between", 1),
    (("quote", "list", "--limit", HUGE), "limit must be between", 1),
    (("booking", "list", "--limit", HUGE), "limit must be between", 1),
    (("customer", "list", "--limit", "0"), "Invalid value for '--limit'", 2),
    (("search", "x", "--since", "0001-01-01"), "--since: date and time out of range", 1),
    (("ingest", "resume", "--older-than", "nan"), "expected seconds from 0 to", 2),
    (("ingest", "resume", "--older-than", "inf"), "expected seconds", 2),
    (("ingest", "resume", "--older-than", "1e308"), "expected seconds", 2),
    (("import", "mbox", SAMPLE, "--wait", "-inf"), "expected seconds", 2),
    (("replay-thread", "t1", "--wait", "nan"), "expected seconds", 2),
    (("customer", "list", "--limit", "many"), "Invalid value for '--limit'", 2),
    (("customer", "create", "Ole", "ole@example.dk", "abc"), "invalid phone number 'abc'", 1),
    (("customer", "create", "Ole", "ole@example.dk", "+45 12"), "invalid phone number", 1),
    (("customer", "update", "{customer}", "--phone", "abc"), "invalid phone number 'abc'", 1),
    (("customer", "update", "{customer}", "--email", "not-an-email"), "invalid email address", 1),
    (("customer", "create", "   ", "x@example.dk"), "name must not be empty", 1),
    (("customer", "create", "Ole", "@@@"), "invalid email address", 1),
    (("lead", "create", "--link"), "--link needs --email", 1),
    (("lead", "create", "--email", "x@@y", "--link"), "invalid email address", 1),
    (("customer", "get", "nosuch"), "customer not found", 1),
    (("customer", "get", " "), "no customer given", 1),
    (("customer", "link-lead", "nosuch", "{customer}"), "lead not found", 1),
    (("quote", "accept", "nosuch"), "quote not found", 1),
    (("booking", "cancel", "nosuch"), "booking not found", 1),
    (("quarantine", "show", "nosuch"), "not found", 1),
    (("quarantine", "retry"), "name the messages to retry", 1),
    (("customer", "frobnicate"), "No such command 'frobnicate'", 2),
    (("customer", "get"), "Missing argument", 2),
    (("customer", "update", "{customer}", "--phone"), "requires an argument", 2),
    (("--no-such-option", "customer", "list"), "No such option: --no-such-option", 2),
    (("import", "mbox", "/nonexistent/all.mbox"), "does not exist", 2),
    (("--config", "/nonexistent/crm.toml", "customer", "list"), "config file not found", 1),
]


def test_bad_arguments_are_refused_in_one_line(
    cli: Cli, database: Database, ids: dict[str, str]
) -> None:
    def case(args: tuple[str, ...], says: str, code: int) -> None:
        filled = tuple(arg.format(**ids) if "{" in arg else arg for arg in args)
        line = refused(cli, database, *filled, code=code)
        assert says in line, line

    every_case(case, BAD_ARGUMENTS)


def test_a_refused_total_is_not_stored_and_the_largest_one_is_exact(
    cli: Cli, database: Database, ids: dict[str, str]
) -> None:
    largest = cli.json("quote", "create", "--total", "9999999999.99", "--customer", ids["customer"])
    assert largest["total"] == "9999999999.99"
    with database.sessions() as session:
        totals = sorted(str(quote.total) for quote in session.query(Quote))
    assert totals == ["100.00", "9999999999.99"]


def test_a_valid_phone_is_kept_as_written(cli: Cli) -> None:
    customer = cli.json("customer", "create", "Ole", "ole@example.dk", "+45 12 34 56 78")
    assert customer["phone"] == "+45 12 34 56 78"


# (environment, command, what the error line says)
BAD_ENVIRONMENT = [
    (
        {"CRM_DATABASE_URL": "postgresql+psycopg2://postgres@127.0.0.1:5432/test"},
        ("customer", "list"),
        "database.url: database driver 'postgresql+psycopg2' is not installed",
    ),
    (
        {"CRM_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/test"},
        ("customer", "list"),
        "database driver 'postgresql+asyncpg' is not installed",
    ),
    (
        {"CRM_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432"},
        ("db", "upgrade"),
        "database.url: name the database",
    ),
    (
        {"CRM_DATABASE_URL": "postgresql+psycopg://"},
        ("customer", "create", "Ole"),
        "name the database",
    ),
    ({"CRM_DATABASE_URL": "mysql://x@y/z"}, ("customer", "list"), "unsupported database"),
    ({"CRM_DATABASE_URL": "crm.db"}, ("customer", "list"), "not a database URL"),
    (
        {"CRM_DATABASE_URL": "sqlite:///\udcff.db"},
        ("customer", "list"),
        "environment variable CRM_DATABASE_URL is not valid UTF-8",
    ),
    (
        {"CRM_COMPANY_MAILBOX": "not-an-email"},
        ("customer", "list"),
        "company.mailbox: invalid email address 'not-an-email'",
    ),
    ({"CRM_BROKER_URL": "redis://:99999/7"}, ("ingest", "resume"), "broker.url: the port"),
    ({"CRM_BROKER_URL": "redis://:99999/7"}, ("import", "mbox", SAMPLE), "broker.url"),
    ({"CRM_BROKER_URL": "redis://127.0.0.1:6379/x"}, ("ingest", "resume"), "broker.url"),
    ({"CRM_BROKER_URL": "amqp://localhost"}, ("ingest", "resume"), "broker.url"),
    (
        {"CRM_BROKER_URL": "redis://127.0.0.1:1/0"},
        ("ingest", "resume"),
        "cannot use the broker at redis://127.0.0.1:1/0",
    ),
    ({"CRM_BROKER_URL": "redis://127.0.0.1:1/0"}, ("import", "mbox", SAMPLE), "cannot use"),
    (
        {"CRM_BROKER_URL": "redis://nobody:wrong-pw@127.0.0.1:6379/0"},
        ("import", "mbox", SAMPLE),
        "redis://nobody:***@127.0.0.1:6379/0: invalid username-password pair",
    ),
    (
        {"CRM_BROKER_URL": "redis://nobody:wrong-pw@127.0.0.1:6379/0"},
        ("ingest", "resume"),
        "invalid username-password pair",
    ),
    ({"CRM_WORKER_PROCESSES": "0"}, ("ingest", "resume"), "worker.processes"),
    ({"CRM_LIMITS_MAX_PARTS": "many"}, ("import", "mbox", SAMPLE), "limits.max_parts"),
]


def test_bad_environment_is_refused_in_one_line(cli: Cli, database: Database) -> None:
    def case(env: dict[str, str], args: tuple[str, ...], says: str) -> None:
        with pytest.MonkeyPatch.context() as monkeypatch:
            for key, value in env.items():
                monkeypatch.setenv(key, value)
            line = refused(cli, database, *args)
        assert says in line, line
        assert "wrong-pw" not in line

    every_case(case, BAD_ENVIRONMENT)


# (config file text, what the error line says)
BAD_CONFIG_FILES = [
    ('[company]\nown_domains = ["@@@"]\n', "company.own_domains: invalid mail domain '@@@'"),
    ('[company]\nown_domains = ["rendetalje dk"]\n', "invalid mail domain"),
    ('[company]\nmailbox = "not-an-email"\n', "company.mailbox: invalid email address"),
    ('[company]\naliases = ["lars"]\n', "company.aliases: invalid email address 'lars'"),
    ('[[mailboxes]]\naddress = "nobody"\n', "mailboxes.0.address: invalid email address"),
    ('[broker]\nurl = "redis://:PW@localhost:70000/0"\n', "broker.url: the port"),
    ("[database\nurl = 1\n", "crm.toml"),
    ('[datbase]\nurl = "sqlite:///x.db"\n', "datbase: unknown key"),
    ("[limits]\nmax_parts = -1\n", "limits.max_parts"),
    ("[gmail]\npoll_interval_seconds = inf\n", "gmail.poll_interval_seconds"),
    ("[gmail]\nquota_units_per_second = nan\n", "gmail.quota_units_per_second"),
    ("[worker]\nmax_backoff_ms = 99999999999999999999\n", "worker.max_backoff_ms"),
    ("[worker]\nprocesses = 100000\n", "worker.processes"),
    ('[logging]\nlevel = "LOUD"\n', "logging.level"),
]


def test_bad_config_files_are_refused_in_one_line(
    cli: Cli, database: Database, tmp_path: Path
) -> None:
    def case(text: str, says: str) -> None:
        config = tmp_path / "crm.toml"
        config.write_text(text, encoding="utf-8")
        line = refused(cli, database, "--config", str(config), "customer", "list")
        assert says in line, line
        assert "PW" not in line

    every_case(case, BAD_CONFIG_FILES)


def test_a_config_file_that_is_not_utf8_is_refused(
    cli: Cli, database: Database, tmp_path: Path
) -> None:
    config = tmp_path / "crm.toml"
    config.write_bytes(b'[company]\nname = "Rendetalje \xe6\xf8\xe5"\n')  # Latin-1
    assert "crm.toml" in refused(cli, database, "--config", str(config), "customer", "list")


def test_a_config_directory_is_refused(cli: Cli, tmp_path: Path) -> None:
    line = refused(cli, None, "--config", str(tmp_path), "customer", "list", code=2)
    assert "is a directory" in line


def test_config_check_masks_every_password(
    cli: Cli, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if database.kind == "postgresql":  # trust authentication ignores the password
        monkeypatch.setenv("CRM_DATABASE_URL", f"{database.url}?password=db-secret-1")
    monkeypatch.setenv("CRM_BROKER_URL", "redis://:redis-secret-2@127.0.0.1:1/0")
    for args in (("config", "check"), ("config", "check", "--json")):
        result = invoke(cli, *args)
        assert result.exit_code == 1  # the broker cannot be reached
        for secret in ("db-secret-1", "redis-secret-2"):
            assert secret not in result.output
        assert "redis://:***@127.0.0.1:1/0" in result.stdout
        if database.kind == "postgresql":
            assert "password=***" in result.stdout

    monkeypatch.setenv("CRM_BROKER_URL", "redis://127.0.0.1:1/0?password=redis-secret-3")
    result = invoke(cli, "config", "check", "--json")
    assert "redis-secret-3" not in result.output and "password=***" in result.stdout


def test_a_broker_failing_mid_command_is_one_line() -> None:
    """What a command prints when Redis goes away after the start-up check passed."""
    import redis

    from worker.cli.context import describe_error

    lost = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Refused.")
    assert describe_error(lost) == (
        "the broker failed: Error 111 connecting to 127.0.0.1:6379. Refused.; "
        "is Redis running and broker.url right?"
    )
    refused = redis.exceptions.AuthenticationError("invalid username-password pair")
    assert describe_error(refused) == (
        "the broker failed: invalid username-password pair (check the password in "
        "broker.url); is Redis running and broker.url right?"
    )
