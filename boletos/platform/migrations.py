"""Versioned schemas: each service keeps an Alembic history of its own store.

A service starts only on a store at the revision its code expects. `python -m <service>
migrate` upgrades and exits (a deployment runs it before a rollout); with DB_AUTO_MIGRATE=true
the service upgrades as it starts. Either way the upgrade holds a lock, so replicas starting
together migrate once: PostgreSQL's advisory lock, SQLite's write lock.

A store made before the histories existed (the tables are there, the version table is not) is
the first revision, recorded as such and then upgraded. Every revision is additive first
(expand): a new column has a default, nothing an older replica still reads is dropped or
renamed in the same release, so old and new replicas run side by side during a rolling upgrade;
a later release removes what nothing reads any more (contract).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from boletos.platform.database import writing


class SchemaOutdated(Exception):
    """The store is behind the code; the message says what to run."""


@dataclass(frozen=True)
class History:
    """One service's migrations: its scripts, and the table recording its revision (named for
    the service, so stores sharing a database in development keep apart)."""

    service: str  # "ingest_service"
    directory: Path  # holds env.py and versions/
    first_revision: str
    # A table the first revision created: its presence without a version table marks a store
    # made before the histories existed.
    marker_table: str

    @property
    def version_table(self) -> str:
        return f"{self.service.removesuffix('_service')}_schema_version"

    def config(self, connection: Connection | None = None) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.directory))
        config.attributes["version_table"] = self.version_table
        if connection is not None:
            config.attributes["connection"] = connection
        return config

    def head(self) -> str:
        head = ScriptDirectory.from_config(self.config()).get_current_head()
        assert head is not None, f"{self.directory} has no revisions"
        return head


def current(engine: Engine, history: History) -> str | None:
    with engine.connect() as conn:
        return _current(conn, history)


def upgrade(engine: Engine, history: History) -> tuple[str | None, str]:
    """Brings the store to the newest revision; returns (from, to)."""
    with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            key = zlib.crc32(history.version_table.encode())
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        before = _current(conn, history)
        config = history.config(conn)
        if before is None and sa.inspect(conn).has_table(history.marker_table):
            command.stamp(config, history.first_revision)
            before = history.first_revision
        command.upgrade(config, "head")
        return before, _current(conn, history) or ""


def ensure(engine: Engine, history: History, *, auto_migrate: bool) -> None:
    """Upgrades when told to; otherwise refuses a store at any revision but the newest."""
    if auto_migrate:
        upgrade(engine, history)
        return
    at, head = current(engine, history), history.head()
    if at != head:
        raise SchemaOutdated(
            f"the store is at schema revision {at or 'none'}, this version needs {head}: "
            f"run `python -m {history.service} migrate` (or set DB_AUTO_MIGRATE=true)"
        )


def new_revision(history: History, message: str) -> None:
    """Writes the next revision: what Alembic finds between the newest one and the code's
    tables, compared on a scratch SQLite store."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        engine = sa.create_engine(f"sqlite:///{scratch}/scratch.db")
        with engine.begin() as conn:
            command.upgrade(history.config(conn), "head")
            number = int(history.head()) + 1
            command.revision(
                history.config(conn), message=message, autogenerate=True, rev_id=f"{number:04d}"
            )
        engine.dispose()


def _current(conn: Connection, history: History) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": history.version_table})
    return context.get_current_revision()


def run_env(metadata: sa.MetaData) -> None:
    """The body of every service's migrations/env.py: run on the connection the service
    passes in, or, for Alembic's own command line (`alembic revision --autogenerate`), on
    DATABASE_URL."""
    import os

    from alembic import context

    config = context.config
    version_table = config.attributes.get("version_table") or os.environ["VERSION_TABLE"]

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            # SQLite alters tables by copying them; batch mode does that where needed.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = sa.create_engine(os.environ["DATABASE_URL"])
    with engine.begin() as conn:
        run(conn)
