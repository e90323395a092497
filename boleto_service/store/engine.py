"""Creates the SQLAlchemy engine of the boleto store."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boleto_service.store.tables import metadata, sequences
from boletos.platform import database
from boletos.platform.schema import create_schema as create_tables

NOSSO_NUMERO = "nosso_numero"


def create_engine(url: str) -> Engine:
    return database.create_engine(url, sqlite_cache_kib=64 * 1024)


def create_schema(engine: Engine) -> None:
    create_tables(engine, metadata)
    try:
        with database.writing(engine) as conn:
            known = sa.select(sequences.c.name).where(sequences.c.name == NOSSO_NUMERO)
            if conn.execute(known).first() is None:
                conn.execute(sequences.insert().values(name=NOSSO_NUMERO, next_value=1))
    except sa.exc.IntegrityError:
        pass  # another replica starting at the same moment created it
