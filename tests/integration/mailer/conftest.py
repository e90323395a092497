from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mailer.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, str]:
    """(ingest, boleto, mailer) databases: each service owns its own."""
    if request.param == "sqlite":
        return tuple(f"sqlite:///{tmp_path / name}.db" for name in ("ingest", "boleto", "mailer"))  # type: ignore[return-value]
    return (
        request.getfixturevalue("postgres_url"),
        request.getfixturevalue("second_postgres_url"),
        request.getfixturevalue("third_postgres_url"),
    )
