"""The mailer store's engine and schema."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from boletos.platform import database
from boletos.platform.migrations import History, upgrade

HISTORY = History(
    "mailer_service",
    Path(__file__).parent / "migrations",
    first_revision="0001",
    marker_table="deliveries",
)


def create_engine(url: str) -> Engine:
    return database.create_engine(url)


def upgrade_schema(engine: Engine) -> None:
    """The newest schema, for tests and tools that make a store of their own."""
    upgrade(engine, HISTORY)
