from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(ingest, boleto) databases: each service owns its own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ingest.db'}", f"sqlite:///{tmp_path / 'boleto.db'}"
    return request.getfixturevalue("postgres_url"), request.getfixturevalue("second_postgres_url")
