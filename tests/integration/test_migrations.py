"""Each store's schema history, on SQLite and PostgreSQL: it builds exactly the tables the code
describes, upgrades a store made by an earlier release without losing a row, lets an older
replica keep writing during a rolling upgrade, and a service refuses a store it is newer
than until someone runs `migrate`."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from boleto_service.store import engine as boleto_store
from boleto_service.store import tables as boleto_tables
from boletos.platform import database, migrations
from boletos.platform.migrations import History
from boletos.v1 import ingest_pb2
from ingest_service.store import engine as ingest_store
from ingest_service.store import tables as ingest_tables
from mailer_service.store import engine as mailer_store
from mailer_service.store import tables as mailer_tables
from tests.support.ingest import running_ingest
from tests.support.processes import python_env

HISTORIES = {
    "ingest": (ingest_store.HISTORY, ingest_tables.metadata),
    "boleto": (boleto_store.HISTORY, boleto_tables.metadata),
    "mailer": (mailer_store.HISTORY, mailer_tables.metadata),
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.mark.parametrize("service", sorted(HISTORIES))
def test_each_history_builds_exactly_the_tables_the_code_describes(store_url, service):
    history, metadata = HISTORIES[service]
    engine = database.create_engine(store_url)
    try:
        before, after = migrations.upgrade(engine, history)
        assert (before, after) == (None, history.head())
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "version_table": history.version_table}
            )
            assert compare_metadata(context, metadata) == []
        # Upgrading again changes nothing.
        assert migrations.upgrade(engine, history) == (history.head(), history.head())
    finally:
        engine.dispose()


def _at_first_release(url: str, history: History) -> sa.Engine:
    """A store as the release before schema histories left it: the first revision's tables
    and no version table."""
    engine = database.create_engine(url)
    with database.writing(engine) as conn:
        command.upgrade(history.config(conn), history.first_revision)
        conn.execute(sa.text(f"DROP TABLE {history.version_table}"))
    return engine


def _old_release_upload(conn: sa.Connection, name: str) -> str:
    """An upload row as the first release wrote it: no owner column."""
    upload_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    counters = dict.fromkeys(
        ("rows", "accepted", "duplicates", "conflicts", "rejected", "bytes_received"), 3
    )
    pipeline = dict.fromkeys(
        ("boletos_issued", "boletos_failed", "emails_sent", "emails_failed"), 0
    )
    conn.execute(
        sa.text(
            "INSERT INTO uploads (upload_id, file_name, client_request_id, content_sha256, "
            "state, rows, accepted, duplicates, conflicts, rejected, bytes_received, "
            "rejection_reason, boletos_issued, boletos_failed, emails_sent, emails_failed, "
            "created_at, finished_at, receiver) VALUES (:upload_id, :name, '', '', 4, :rows, "
            ":accepted, :duplicates, :conflicts, :rejected, :bytes_received, '', "
            ":boletos_issued, :boletos_failed, :emails_sent, :emails_failed, :now, :now, '')"
        ),
        {"upload_id": upload_id, "name": name, "now": now, **counters, **pipeline},
    )
    return upload_id


def _migrate(service: str, url: str) -> subprocess.CompletedProcess[str]:
    env = python_env(DATABASE_URL=url, LOG_FORMAT="json")
    env.pop("DB_AUTO_MIGRATE")
    return subprocess.run(
        [sys.executable, "-m", f"{service}_service", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_store_of_the_first_release_is_upgraded_with_every_row(store_url, nats_server):
    history = ingest_store.HISTORY
    engine = _at_first_release(store_url, history)
    with database.writing(engine) as conn:
        kept = _old_release_upload(conn, "janeiro.csv")

    done = _migrate("ingest", store_url)
    assert done.returncode == 0, done.stderr
    assert '"event": "schema.migrated"' in done.stderr
    assert migrations.current(engine, history) == history.head() == "0007"

    # A replica of the previous release, still running during the rollout, writes as it did.
    with database.writing(engine) as conn:
        during = _old_release_upload(conn, "fevereiro.csv")
    engine.dispose()

    # The new code reads both, through the real service.
    async with running_ingest(store_url, nats_server.url, DB_AUTO_MIGRATE="false") as svc:
        for upload_id, name in ((kept, "janeiro.csv"), (during, "fevereiro.csv")):
            got = await svc.stub.GetUpload(ingest_pb2.GetUploadRequest(upload_id=upload_id))
            assert (got.summary.file_name, got.summary.accepted) == (name, 3)
        listed = await svc.stub.ListUploads(ingest_pb2.ListUploadsRequest())
        assert {u.upload_id for u in listed.uploads} == {kept, during}


@pytest.mark.parametrize("service", sorted(HISTORIES))
def test_a_service_refuses_a_store_older_than_its_code(tmp_path, service):
    history, _ = HISTORIES[service]
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _at_first_release(url, history).dispose()
    env = python_env(DATABASE_URL=url, LOG_FORMAT="json", NATS_URL="nats://127.0.0.1:1")
    env.pop("DB_AUTO_MIGRATE")
    started = subprocess.run(
        [sys.executable, "-m", f"{service}_service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 78, started.stderr
    (refusal,) = [line for line in started.stderr.splitlines() if "schema_outdated" in line]
    assert f"python -m {service}_service migrate" in refusal
    assert "Traceback" not in started.stderr


@pytest.mark.postgres
def test_replicas_starting_together_migrate_once(postgres_url):
    engines = [database.create_engine(postgres_url) for _ in range(4)]
    results: list[tuple[str | None, str]] = []
    errors: list[BaseException] = []

    def start(engine: sa.Engine) -> None:
        try:
            results.append(migrations.upgrade(engine, mailer_store.HISTORY))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    head = mailer_store.HISTORY.head()
    # One replica upgraded from nothing; the others found it done.
    assert sorted(results, key=str) == sorted([(None, head), *[(head, head)] * 3], key=str)


def test_a_bad_argument_is_named(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mailer_service", "migrat"],
        env=python_env(DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 64
    assert "usage: python -m mailer_service [migrate]" in done.stderr
