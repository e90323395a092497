"""Creates the SQLAlchemy engine of the boleto store."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boleto_service.store.tables import sequences
from boletos.platform import database
from boletos.platform.migrations import History, upgrade

NOSSO_NUMERO = "nosso_numero"

HISTORY = History(
    "boleto_service",
    Path(__file__).parent / "migrations",
    first_revision="0001",
    marker_table="boletos",
)


def create_engine(url: str) -> Engine:
    return database.create_engine(url, sqlite_cache_kib=64 * 1024)


def seed(engine: Engine) -> None:
    """The nosso número sequence's first row, made once by whichever replica comes first."""
    try:
        with database.writing(engine) as conn:
            known = sa.select(sequences.c.name).where(sequences.c.name == NOSSO_NUMERO)
            if conn.execute(known).first() is None:
                conn.execute(sequences.insert().values(name=NOSSO_NUMERO, next_value=1))
    except sa.exc.IntegrityError:
        pass  # another replica starting at the same moment created it


def upgrade_schema(engine: Engine) -> None:
    """The newest schema, for tests and tools that make a store of their own."""
    upgrade(engine, HISTORY)
    seed(engine)
