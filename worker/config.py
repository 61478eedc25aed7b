"""One settings object, read from config.toml and overridden by CRM_* variables.

Priority, highest first: values passed in code, environment (``CRM_DATABASE_URL``,
``CRM_BROKER_URL``, …: ``CRM_<SECTION>_<KEY>``), the TOML file, the defaults below
(which equal the shipped config.toml, so the package also runs without the file).
The file is ``--config PATH``, else ``$CRM_CONFIG``, else ``./config.toml`` if present.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from crm_core.errors import ValidationError as DomainValidationError
from crm_core.normalize import normalize_domain, normalize_email
from worker.mail.message import ParseLimits
from worker.mail.rules import IngestRules


class ConfigError(Exception):
    """The configuration is unusable; the message names the key and the problem."""


DAY_MS = 24 * 3600 * 1000
DAY_S = 24 * 3600.0


class Section(BaseModel):
    # NaN and infinity parse as TOML floats but make no sense as a setting; the upper
    # bounds below keep times within what sleep() and the broker accept.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DatabaseSettings(Section):
    url: str = "sqlite:///crm.db"
    echo: bool = False
    # PostgreSQL only: keep the tables in this schema (search_path) instead of public.
    pg_schema: str | None = None

    @field_validator("url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL: {value!r}") from None
        backend = url.get_backend_name()
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError(
                f"unsupported database {backend!r}; use sqlite:/// or postgresql+psycopg://"
            )
        _check_driver(url)
        if backend == "postgresql" and not url.database:
            # libpq would fall back to a database named after the OS user: never guess.
            raise ValueError("name the database: postgresql+psycopg://user@host:5432/DATABASE")
        return value


def _check_driver(url: URL) -> None:
    """Accept only a driver this installation has (plain ``postgresql://`` means
    psycopg2, which it does not)."""
    try:
        url.get_dialect().import_dbapi()
    except (ImportError, ArgumentError):
        raise ValueError(
            f"database driver {url.drivername!r} is not installed; "
            "use sqlite:///FILE or postgresql+psycopg://user@host:5432/DATABASE"
        ) from None


class BrokerSettings(Section):
    url: str = "inline"
    # Redis key prefix: lets several installations (or test runs) share one Redis.
    namespace: str = "crm"
    # A worker silent this long is presumed dead and its unfinished jobs are requeued.
    heartbeat_timeout_ms: int = Field(default=60_000, gt=0, le=DAY_MS)
    # Out of a million broker commands, how many also run that dead-worker check.
    maintenance_chance: int = Field(default=1000, ge=0, le=1_000_000)

    @field_validator("url")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if value != "inline" and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected 'inline' or a redis:// URL")
        if value.startswith(("redis://", "rediss://")):
            _check_redis_url(value)
        return value


def _check_redis_url(value: str) -> None:
    """What redis-py would only find out when it first connects."""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - the property raises on a port out of range
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    database = parts.path.strip("/")
    if database and not database.isdigit():
        raise ValueError(f"the database after the port must be a number, got {database!r}")


def _valid_address(value: str) -> str:
    try:
        normalize_email(value)
    except DomainValidationError as exc:
        raise ValueError(str(exc)) from None
    return value


def _valid_domain(value: str) -> str:
    try:
        normalize_domain(value)
    except DomainValidationError as exc:
        raise ValueError(str(exc)) from None
    return value


class CompanySettings(Section):
    name: str = "Rendetalje"
    mailbox: str = "info@rendetalje.dk"
    aliases: list[str] = Field(default_factory=list)
    own_domains: list[str] = Field(default_factory=lambda: ["rendetalje.dk"])

    @field_validator("mailbox")
    @classmethod
    def _mailbox_is_an_address(cls, value: str) -> str:
        return _valid_address(value)

    @field_validator("aliases")
    @classmethod
    def _aliases_are_addresses(cls, values: list[str]) -> list[str]:
        return [_valid_address(value) for value in values]

    @field_validator("own_domains")
    @classmethod
    def _domains_are_domains(cls, values: list[str]) -> list[str]:
        return [_valid_domain(value) for value in values]


class LimitsSettings(Section):
    """A message over any of these is quarantined instead of parsed."""

    max_message_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    max_mime_depth: int = Field(default=20, gt=0)
    max_parts: int = Field(default=500, gt=0)
    preview_chars: int = Field(default=200, gt=0, le=500)

    def parse_limits(self) -> ParseLimits:
        return ParseLimits(
            max_bytes=self.max_message_bytes,
            max_depth=self.max_mime_depth,
            max_parts=self.max_parts,
            preview_chars=self.preview_chars,
        )


class WorkerSettings(Section):
    processes: int = Field(default=2, gt=0, le=256)
    threads: int = Field(default=4, gt=0, le=1024)
    # Attempts for a job that fails with a transient error (database or broker down).
    max_retries: int = Field(default=8, ge=0, le=1000)
    min_backoff_ms: int = Field(default=500, gt=0, le=DAY_MS)
    max_backoff_ms: int = Field(default=60_000, gt=0, le=DAY_MS)
    # When `crm worker` starts, send again the jobs of every message still pending: a
    # worker killed mid-job (or a Redis that lost its queue) leaves them so, and the
    # broker gives unacknowledged jobs back only minutes later. Idempotent.
    resume_on_start: bool = True


class MailboxConfig(Section):
    """One Gmail mailbox to sync (``[[mailboxes]]``)."""

    address: str
    aliases: list[str] = Field(default_factory=list)
    # Authorized-user JSON written by `crm gmail auth`, or a service account key
    # (Workspace, domain-wide delegation; the mailbox address is the subject).
    # Default: <gmail.token_dir>/<address>.json
    credentials_file: Path | None = None
    mode: Literal["poll", "push"] = "poll"
    # Override [sending] for this mailbox.
    sending_mode: Literal["draft", "send", "dry-run"] | None = None
    max_per_day: int | None = Field(default=None, ge=0)

    @field_validator("address")
    @classmethod
    def _address_is_an_address(cls, value: str) -> str:
        return _valid_address(value)

    @field_validator("aliases")
    @classmethod
    def _aliases_are_addresses(cls, values: list[str]) -> list[str]:
        return [_valid_address(value) for value in values]


class SendingSettings(Section):
    """Replies written in the CRM (``crm reply``): how they leave, and how many a day."""

    # draft: a Gmail draft a person sends; send: at once; dry-run: recorded only.
    mode: Literal["draft", "send", "dry-run"] = "draft"
    # Replies per mailbox per rolling 24 hours (Gmail: 2,000 Workspace, 500 consumer).
    max_per_day: int = Field(default=400, ge=0)
    # After a send whose answer never came, how long the mailbox is searched for it
    # (Gmail may show a just-sent message late) before the reply is failed for a
    # person to look at; it is never sent again by itself.
    lookup_window_seconds: float = Field(default=300, gt=0)


class GmailSettings(Section):
    # Every call goes here, batch requests included (tests and proxies change it).
    api_endpoint: str = "https://gmail.googleapis.com"
    # The OAuth client (installed app) that `crm gmail auth` authorises with.
    client_secrets_file: Path | None = None
    token_dir: Path = Path("tokens")
    # Per-mailbox budget in Gmail quota units per second. Google's per-user limit is
    # 250 units/s on older projects and 6,000 units/min (100/s) on newer ones.
    quota_units_per_second: float = Field(default=250, gt=0)
    batch_size: int = Field(default=50, gt=0, le=50)
    # Raw message bytes one batch request aims to stay within. Gmail names no sizes
    # before fetching, so batches follow the sizes seen (worker/gmail/batch_sizer.py);
    # a process holds several times this while it takes a batch answer apart.
    batch_max_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    list_page_size: int = Field(default=500, gt=0, le=500)
    poll_interval_seconds: float = Field(default=30, gt=0, le=DAY_S)
    # Even in push mode: Google may delay or drop notifications.
    backstop_interval_seconds: float = Field(default=600, gt=0, le=DAY_S)
    # Gmail's watch expires after 7 days: renewing less often loses notifications.
    watch_renew_hours: float = Field(default=24, gt=0, le=7 * 24)
    # Cloud Pub/Sub topic for users.watch: "projects/<project>/topics/<topic>".
    topic_name: str | None = None


class PushSettings(Section):
    """The HTTP endpoint for Cloud Pub/Sub push subscriptions (``crm watch``)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    path: str = "/gmail/push"
    # OIDC: the push subscription's audience and service account.
    audience: str | None = None
    service_account_email: str | None = None
    issuers: list[str] = Field(
        default_factory=lambda: ["https://accounts.google.com", "accounts.google.com"]
    )
    certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    # Alternative to OIDC: a secret token in the push URL (?token=…), compared in
    # constant time. Prefer OIDC; set this from the environment (CRM_PUSH_SHARED_TOKEN).
    shared_token: SecretStr | None = None


class HttpSettings(Section):
    """Limits of the HTTP servers: `crm watch`'s push port and `crm worker`'s health port.

    A client gets ``request_timeout_seconds`` for its whole request, headers and body
    together (a slow client is answered 408 and cut off, however steadily it dribbles);
    past ``max_connections`` open connections a new one is answered 503 and closed.
    """

    request_timeout_seconds: float = Field(default=10, gt=0, le=300)
    # Each connection is a file descriptor: stay well under the process's limit (systemd
    # gives services 1,024 unless LimitNOFILE says otherwise).
    max_connections: int = Field(default=500, gt=0, le=100_000)
    # Push bodies over this are answered 413 (a Pub/Sub envelope is a few hundred bytes).
    max_body_bytes: int = Field(default=64 * 1024, gt=0, le=16 * 1024 * 1024)
    # On SIGTERM, requests in progress get this long to finish before they are cut off.
    shutdown_timeout_seconds: float = Field(default=3, ge=0, le=300)


class DisplaySettings(Section):
    """How the command line shows amounts and times (worker/cli/display.py)."""

    locale: str = "da_DK"  # 3.450,50 kr; en_GB gives 3,450.50 kr
    time_zone: str = "Europe/Copenhagen"

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value == "da_DK":
            return value  # Babel is loaded only to check another locale
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"unknown locale {value!r}; e.g. da_DK, en_GB, de_DE") from None
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, OSError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; e.g. Europe/Copenhagen") from None
        return value


class LoggingSettings(Section):
    # "auto": JSON lines when stderr is not a terminal (services), text otherwise.
    format: Literal["auto", "json", "text"] = "auto"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class MetricsSettings(Section):
    """Where `crm worker` serves Prometheus metrics and health (the watcher serves
    both on its push port)."""

    host: str = "127.0.0.1"
    # 0 picks any free port (tests run several workers on one machine).
    worker_port: int = Field(default=9191, ge=0, le=65535)
    worker_health_port: int = Field(default=9192, ge=0, le=65535)


class RetentionSettings(Section):
    """How long the ledger keeps raw RFC 822 bytes (``crm retention run``, daily in
    ``crm watch``): of messages filed (stored, skipped, bounce), and of quarantined ones."""

    raw_mail_days: int = Field(default=90, ge=1, le=36500)
    quarantine_days: int = Field(default=30, ge=1, le=36500)


class PrivacySettings(Section):
    """Requests from data subjects (``crm privacy …``)."""

    # The key of the keyed hashes (HMAC-SHA256) that stand for erased addresses in the
    # erasure record and the suppression list: created by the first erasure, mode 0600.
    hash_key_file: Path = Path("tokens/privacy-hash.key")


class WebhooksSettings(Section):
    """Delivery of events to webhook endpoints (``crm webhook``; worker/webhooks)."""

    # Deliver to addresses on this machine or the local network (loopback, private,
    # link-local): off, so that a URL cannot reach internal services. Cloud metadata
    # addresses are refused even then.
    allow_private_networks: bool = False
    # Accept http:// URLs (a test receiver); off: https only.
    allow_http: bool = False
    # One attempt: connecting, sending and reading the answer.
    timeout_seconds: float = Field(default=10, gt=0, le=300)
    # Seconds between attempts after a failure (jitter ±10 %): about three days in all;
    # past the last, the delivery fails for good and the endpoint's next event goes.
    retry_delays_seconds: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
        max_length=50,
    )
    # An endpoint whose every attempt failed for this long is disabled.
    disable_after_hours: float = Field(default=120, gt=0, le=24 * 365)
    # How often `crm worker` and `crm watch` fan out events whose job was lost and
    # start deliveries that are due (retries, and those of a worker that died).
    sweep_interval_seconds: float = Field(default=10, gt=0, le=DAY_S)
    # Events and their delivery log are kept this long (for `deliveries`, `replay`),
    # then deleted by the sweep; those still pending stay until they are not.
    keep_days: int = Field(default=30, ge=1, le=36500)

    @field_validator("retry_delays_seconds")
    @classmethod
    def _positive_delays(cls, values: list[float]) -> list[float]:
        if any(not 0 < value <= DAY_S for value in values):
            raise ValueError("each delay must be more than 0 and at most 86400 seconds")
        return values


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CRM_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    company: CompanySettings = Field(default_factory=CompanySettings)
    ingest: IngestRules = Field(default_factory=IngestRules)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    gmail: GmailSettings = Field(default_factory=GmailSettings)
    sending: SendingSettings = Field(default_factory=SendingSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    mailboxes: list[MailboxConfig] = Field(default_factory=list)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    display: DisplaySettings = Field(default_factory=DisplaySettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    webhooks: WebhooksSettings = Field(default_factory=WebhooksSettings)

    def ingest_rules(self) -> IngestRules:
        """The classification rules with the company's own mailbox, aliases and domains."""
        aliases = [*self.company.aliases]
        for mailbox in self.mailboxes:
            aliases += [mailbox.address, *mailbox.aliases]
        return self.ingest.with_mailbox(self.company.mailbox, aliases, self.company.own_domains)

    def mailbox(self, address: str) -> MailboxConfig:
        """The configured mailbox with this address (any letter case)."""
        wanted = address.strip().lower()
        for mailbox in self.mailboxes:
            if mailbox.address.strip().lower() == wanted:
                return mailbox
        raise ConfigError(f"mailbox {address!r} is not configured in [[mailboxes]]")

    def sending_of(self, address: str) -> tuple[str, int]:
        """The sending mode and daily cap of a mailbox ([sending], or its override)."""
        try:
            mailbox: MailboxConfig | None = self.mailbox(address)
        except ConfigError:
            mailbox = None
        mode = (mailbox.sending_mode if mailbox else None) or self.sending.mode
        cap = mailbox.max_per_day if mailbox and mailbox.max_per_day is not None else None
        return mode, cap if cap is not None else self.sending.max_per_day

    _toml_file: ClassVar[Path | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_file))
        return tuple(sources)


def config_path(explicit: str | Path | None = None) -> Path | None:
    """The file to read: explicit, else $CRM_CONFIG, else ./config.toml when present."""
    if explicit:
        return Path(explicit)
    if env := os.environ.get("CRM_CONFIG"):
        return Path(env)
    local = Path("config.toml")
    return local if local.is_file() else None


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read the settings; raise ConfigError naming the offending key on bad input."""
    toml_file = config_path(path)
    if toml_file is not None and not toml_file.is_file():
        raise ConfigError(f"config file not found: {toml_file}")
    _refuse_undecodable_environment()
    Settings._toml_file = toml_file
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, toml_file)) from None
    except ValueError as exc:  # TOML syntax errors surface as ValueError subclasses
        raise ConfigError(f"{toml_file}: {exc}") from None
    except OSError as exc:  # the file is there but cannot be read (permissions, I/O)
        raise ConfigError(f"cannot read config file {toml_file}: {exc.strerror}") from None
    finally:
        Settings._toml_file = None


def _refuse_undecodable_environment() -> None:
    """A CRM_* variable with bytes that are not UTF-8 (Python keeps them as lone
    surrogates) would fail deep inside a driver; name it instead."""
    for key, value in os.environ.items():
        if key.startswith("CRM_") and _has_surrogates(value):
            raise ConfigError(f"environment variable {key} is not valid UTF-8 text")


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _describe(exc: ValidationError, toml_file: Path | None) -> str:
    where = f" in {toml_file}" if toml_file else ""
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        message = message.removeprefix("Value error, ")  # our validators say it all
        problems.append(f"{key}: {message}")
    return f"invalid configuration{where}: " + "; ".join(problems)
