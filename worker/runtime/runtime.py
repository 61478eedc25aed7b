"""What a job needs in this process: settings, sessions, rules. Built once, on first use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from crm_core.planner import GrowthWatch, analyze_ingest_tables
from crm_core.privacy.keys import AddressHasher, file_hasher
from worker.config import Settings, load_settings
from worker.database import engine_for, sessions_for
from worker.mail.message import ParseLimits
from worker.mail.rules import IngestRules


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return sessions_for(self.settings.database)

    def growth_watch(self) -> GrowthWatch:
        """Refreshes planner statistics as a bulk intake (export, full sync) grows."""
        engine = engine_for(self.settings.database)
        return GrowthWatch(lambda: analyze_ingest_tables(engine))

    @cached_property
    def rules(self) -> IngestRules:
        return self.settings.ingest_rules()

    @cached_property
    def limits(self) -> ParseLimits:
        return self.settings.limits.parse_limits()

    @cached_property
    def address_hasher(self) -> AddressHasher:
        """Hashes addresses for the suppression list; reads ``[privacy] hash_key_file``
        on first use only (never created here: the first erasure creates it)."""
        return file_hasher(self.settings.privacy.hash_key_file)


_current: Runtime | None = None


def get_runtime() -> Runtime:
    """The runtime set by ``use_settings``, else one from the configuration files."""
    global _current
    if _current is None:
        _current = Runtime(load_settings())
    return _current


def use_settings(settings: Settings) -> Runtime:
    global _current
    _current = Runtime(settings)
    return _current
