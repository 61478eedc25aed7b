"""The architecture, held by tests: the layering contracts of pyproject.toml, one way
into ingestion, every query in crm_core, one registry of jobs, one source of defaults.

Each contract is also shown to fail on the problem it exists for: the import is added
to a copy of the real import graph, and the contract must report it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter.configuration import configure
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract
from importlinter.contracts.protected import ProtectedContract

from worker.config import Settings, load_settings
from worker.jobs.broker import placeholder, registered_actors
from worker.runtime.registry import JOBS, QUEUES

configure()  # import-linter's services (timer, file system), as its command sets them up

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACT_TYPES = {
    "forbidden": ForbiddenContract,
    "layers": LayersContract,
    "acyclic_siblings": AcyclicSiblingsContract,
    "protected": ProtectedContract,
}


def test_lint_imports_keeps_every_contract() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        *PYPROJECT["root_packages"],
        include_external_packages=True,
        exclude_type_checking_imports=True,
    )


def contract(contract_id: str) -> Any:
    (options,) = [c for c in PYPROJECT["contracts"] if c["id"] == contract_id]
    contract_type = CONTRACT_TYPES[options["type"]]
    return contract_type(
        name=contract_id,
        session_options={
            "root_packages": PYPROJECT["root_packages"],
            "include_external_packages": True,
        },
        contract_options={k: v for k, v in options.items() if k not in {"id", "name", "type"}},
    )


def kept_with(graph: grimp.ImportGraph, contract_id: str, *imports: tuple[str, str]) -> bool:
    """Is the contract kept by the real graph plus ``imports``? (The graph is restored.)"""
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported)
    try:
        return bool(contract(contract_id).check(graph, verbose=False).kept)
    finally:
        for importer, imported in imports:
            graph.remove_import(importer=importer, imported=imported)


@pytest.mark.parametrize("contract_id", [c["id"] for c in PYPROJECT["contracts"]])
def test_each_contract_is_kept_today(graph: grimp.ImportGraph, contract_id: str) -> None:
    assert kept_with(graph, contract_id)


@pytest.mark.parametrize(
    ("contract_id", "importer", "imported"),
    [
        # The import cycle: gmail staging sending through the actors, the sync actor
        # calling gmail, the worker's health server reusing the watcher's server.
        ("layers", "worker.gmail.staging", "worker.jobs.actors"),
        ("acyclic", "worker.gmail.staging", "worker.jobs.actors"),
        ("layers", "worker.observability.worker_health", "worker.watch.push_server"),
        ("acyclic", "worker.observability.worker_health", "worker.watch.push_server"),
        ("layers", "worker.intake.handoff", "worker.gmail.fetch"),
        # A sender of ingest jobs that imports the actor instead of going by name.
        ("jobs-by-name", "worker.importers.run", "worker.jobs.actors"),
        ("jobs-by-name", "worker.cli.quarantine", "worker.jobs.actors"),
        ("jobs-by-name", "worker.cli.watch", "worker.jobs.sync_actors"),
        # The domain reaching out.
        ("domain", "crm_core.inbox.staging", "worker.intake"),
        ("domain", "crm_core.messages.service", "dramatiq"),
        ("domain", "crm_core.mailboxes.service", "googleapiclient"),
        ("domain", "crm_core.db", "redis"),
        ("acyclic", "crm_core.inbox.ledger", "crm_core.messages.bounces"),
    ],
)
def test_each_contract_fails_on_the_problem_it_exists_for(
    graph: grimp.ImportGraph, contract_id: str, importer: str, imported: str
) -> None:
    assert not kept_with(graph, contract_id, (importer, imported))


# --- one way into ingestion, every query in crm_core -------------------------------------

WORKER = ROOT / "worker"
INTAKE = {WORKER / "intake" / "handoff.py"}
# The ingest job itself splits a failed batch into single-message jobs.
INGEST_SPLIT = {WORKER / "jobs" / "actors.py"}


def worker_modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(WORKER.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def enqueued_jobs(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "enqueue"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            yield str(node.args[0].value)


def test_only_the_intake_sends_ingest_jobs() -> None:
    senders = {
        path.relative_to(ROOT).as_posix(): sorted(set(enqueued_jobs(tree)))
        for path, tree in worker_modules()
        if any(job.startswith("ingest") for job in enqueued_jobs(tree))
    }
    allowed = {p.relative_to(ROOT).as_posix() for p in INTAKE | INGEST_SPLIT}
    assert set(senders) <= allowed, senders
    assert senders["worker/intake/handoff.py"] == ["ingest_batch"]


# Building SQL in the worker would put a query outside the domain.
QUERY_BUILDERS = {
    "select", "update", "insert", "delete", "func", "text", "bindparam", "or_", "and_",
    "exists", "case", "literal", "column", "table", "union", "join", "outerjoin",
}  # fmt: skip
SESSION_QUERIES = {"execute", "scalars", "scalar", "query", "get"}


def query_problems(path: Path, tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(("sqlalchemy.sql", "sqlalchemy.dialects")):
                yield f"imports {node.module}"
            if node.module == "sqlalchemy":
                for name in node.names:
                    if name.name in QUERY_BUILDERS:
                        yield f"imports sqlalchemy.{name.name}"
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_QUERIES
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"session", "connection"}
        ):
            yield f"line {node.lineno}: {node.func.value.id}.{node.func.attr}(…)"


def test_the_worker_runs_no_query_of_its_own() -> None:
    problems = {
        path.relative_to(ROOT).as_posix(): list(query_problems(path, tree))
        for path, tree in worker_modules()
    }
    assert {path: found for path, found in problems.items() if found} == {}


def test_the_query_check_sees_a_query() -> None:
    tree = ast.parse(
        "from sqlalchemy import func, select\n"
        "def f(session):\n    return session.execute(select(func.count()))\n"
    )
    assert list(query_problems(Path("x.py"), tree)) == [
        "imports sqlalchemy.func",
        "imports sqlalchemy.select",
        "line 3: session.execute(…)",
    ]


# --- one registry of jobs ------------------------------------------------------------


def test_every_registered_job_has_its_actor_on_its_queue() -> None:
    actors = registered_actors()
    assert [a.actor_name for a in actors] == list(JOBS)
    assert {a.actor_name: a.queue_name for a in actors} == {n: j.queue for n, j in JOBS.items()}
    # No actor is declared that the registry does not name (it would never be consumed).
    assert set(placeholder.actors) == set(JOBS)
    assert set(QUEUES) == {j.queue for j in JOBS.values()}


# --- one source of defaults ----------------------------------------------------------


def test_the_shipped_config_file_equals_the_built_in_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [n for n in __import__("os").environ if n.startswith("CRM_")]:
        monkeypatch.delenv(name)
    shipped = load_settings(ROOT / "config.toml")
    built_in = Settings()
    assert shipped.model_dump() == built_in.model_dump()
    # The rules the app builds from either are the same too (lead sources included).
    assert shipped.ingest_rules().model_dump() == built_in.ingest_rules().model_dump()


def test_every_section_and_key_of_the_defaults_is_in_the_shipped_file() -> None:
    """A new setting is documented in config.toml, not only in code (keys that have no
    useful default appear there as comments)."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    shipped = tomllib.loads(text)
    missing = [
        f"{section}.{key}"
        for section, values in Settings().model_dump().items()
        if isinstance(values, dict)
        for key in values
        if key not in shipped.get(section, {}) and f"# {key} =" not in text
    ]
    assert missing == []
