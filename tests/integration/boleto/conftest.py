from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from boleto_service.store.engine import create_engine, upgrade_schema
from boleto_service.store.repository import BoletoStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(ingest, boleto) databases: each service owns its own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ingest.db'}", f"sqlite:///{tmp_path / 'boleto.db'}"
    return request.getfixturevalue("postgres_url"), request.getfixturevalue("second_postgres_url")


@pytest.fixture
def store(database_url: str) -> Iterator[BoletoStore]:
    """A boleto store with the newest schema, on each database."""
    engine = create_engine(database_url)
    upgrade_schema(engine)
    try:
        yield BoletoStore(engine)
    finally:
        engine.dispose()
