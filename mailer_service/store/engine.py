"""The mailer store's engine and schema."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from boletos.platform import database
from boletos.platform.schema import create_schema as create_tables
from mailer_service.store.tables import metadata


def create_engine(url: str) -> Engine:
    return database.create_engine(url)


def create_schema(engine: Engine) -> None:
    create_tables(engine, metadata)
