"""Creates the SQLAlchemy engine for SQLite or PostgreSQL, tuned for bulk ingestion."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boletos.platform.schema import create_schema as create_tables
from ingest_service.store.tables import metadata

SQLITE_PAGE_SIZE = 16384  # large pages halve the cost of random-key B-tree inserts
# Each SQLite connection keeps a page cache of its own. Block writes need a large one (a
# transaction's dirty pages must fit, or they are written twice); everything else (reads,
# the outbox relay streaming payloads through) does fine with a small one, and would
# otherwise fill its own large cache with pages read once.
SQLITE_CACHE_KIB = 8 * 1024
SQLITE_BULK_CACHE_KIB = 64 * 1024
SQLITE_BUSY_TIMEOUT_MS = 60_000


def create_engine(url: str, bulk: bool = False) -> Engine:
    """The store's engine; `bulk` for the one that writes blocks (see SQLITE_CACHE_KIB)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, SQLITE_BULK_CACHE_KIB if bulk else SQLITE_CACHE_KIB)
    return sa.create_engine(parsed, pool_size=8, max_overflow=8, pool_pre_ping=True)


def _sqlite_engine(url: sa.engine.URL, cache_kib: int) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False}, pool_size=4)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # only takes effect on a new file
        cur.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL loses no committed data on a process crash, only on power loss.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA cache_size=-{cache_kib}")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # Writers take the lock up front: a deferred transaction that later writes can fail
        # with SQLITE_BUSY instead of waiting its turn.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def create_schema(engine: Engine) -> None:
    create_tables(engine, metadata)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
