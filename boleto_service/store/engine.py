"""Creates the SQLAlchemy engine of the boleto store."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boleto_service.store.tables import metadata, sequences
from boletos.platform.schema import create_schema as create_tables

NOSSO_NUMERO = "nosso_numero"


def create_engine(url: str) -> Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_size=8, max_overflow=8, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, connect_args={"check_same_thread": False}, pool_size=4)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None
        for pragma in (
            "journal_mode=WAL",
            # In WAL mode NORMAL loses no committed data on a process crash.
            "synchronous=NORMAL",
            "busy_timeout=60000",
            "cache_size=-65536",
            # Checkpoint (and fsync) every ~40 MB of log rather than every 4 MB.
            "wal_autocheckpoint=10000",
        ):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # Writers take the lock up front instead of failing to upgrade a read later.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_schema(engine: Engine) -> None:
    create_tables(engine, metadata)
    try:
        with engine.begin() as conn:
            known = sa.select(sequences.c.name).where(sequences.c.name == NOSSO_NUMERO)
            if conn.execute(known).first() is None:
                conn.execute(sequences.insert().values(name=NOSSO_NUMERO, next_value=1))
    except sa.exc.IntegrityError:
        pass  # another replica starting at the same moment created it
