"""SQLAlchemy engines for the services' stores: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

SQLITE_BUSY_TIMEOUT_MS = 60_000


def create_engine(
    url: str,
    *,
    sqlite_cache_kib: int = 16 * 1024,
    sqlite_page_size: int | None = None,
    sqlite_begin: str = "DEFERRED",
    pool_size: int = 8,
) -> Engine:
    """`sqlite_begin` is how transactions start on SQLite unless a connection's
    `sqlite_begin` execution option says otherwise (see writing())."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_size=pool_size, max_overflow=8, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, connect_args={"check_same_thread": False}, pool_size=4)
    pragmas = [
        *([f"page_size={sqlite_page_size}"] if sqlite_page_size else []),  # new files only
        "journal_mode=WAL",
        # In WAL mode NORMAL loses no committed data on a process crash, only on power loss.
        "synchronous=NORMAL",
        f"cache_size=-{sqlite_cache_kib}",
        f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "temp_store=MEMORY",
        # Checkpoint (and fsync) every ~40 MB of log rather than every 4 MB.
        "wal_autocheckpoint=10000",
    ]

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        for pragma in pragmas:
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql(
            f"BEGIN {conn.get_execution_options().get('sqlite_begin', sqlite_begin)}"
        )

    return engine


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes. On SQLite it takes the write lock up front: a deferred
    transaction that later writes fails with SQLITE_BUSY instead of waiting its turn, while
    reads stay deferred and never queue behind a writer."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


def raw_cursor(conn: Connection) -> Any:
    """The driver's own cursor, inside `conn`'s transaction: for bulk statements (executemany
    of thousands of rows, COPY) where SQLAlchemy's per-row Python would cost more than the
    database's work. Statements use the driver's parameter style (? for sqlite3, %s for
    psycopg)."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def sqlite_date(day: dt.date | None) -> str | None:
    """A date as SQLAlchemy's Date keeps it on SQLite, for rows written through raw_cursor."""
    return None if day is None else day.isoformat()


def sqlite_datetime(moment: dt.datetime | None) -> str | None:
    """A moment as SQLAlchemy's DateTime keeps it on SQLite: the wall clock as given, with
    microseconds, no zone (the stores write UTC)."""
    return None if moment is None else f"{moment:%Y-%m-%d %H:%M:%S.%f}"


def prefer_index_probes(cursor: Any) -> None:
    """For the rest of the transaction on PostgreSQL: join a batch of keys (an unnested
    array) to a large table by probing the table's index. The planner cannot see the
    array's length and, misjudging it, would scan the whole table."""
    for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
        cursor.execute(f"SET LOCAL {setting} = off")
