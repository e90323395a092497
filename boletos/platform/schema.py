"""Creates a service's tables safely when several replicas start at once."""

from __future__ import annotations

import zlib

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boletos.platform.database import writing


def create_schema(engine: Engine, metadata: sa.MetaData) -> None:
    with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            # Replicas starting together would race between "no such table" and CREATE TABLE;
            # a transaction-scoped advisory lock lets one create while the others wait.
            key = zlib.crc32(",".join(sorted(metadata.tables)).encode())
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        # SQLite writers already run one at a time (BEGIN IMMEDIATE).
        metadata.create_all(conn)
