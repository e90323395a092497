"""Fixtures shared by every layer of tests: real NATS, real PostgreSQL, scratch dirs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from boletos.platform import logs
from tests.support import access
from tests.support.processes import NatsServer

DEFAULT_TEST_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# Tests log at DEBUG to check every line; the DEBUG lines gRPC's Cython layer writes under its
# own lock can deadlock then. The rest of gRPC's lines stay, for the tests that read them.
logs.keep_grpc_quiet(logger="grpc._cython")


@pytest.fixture(autouse=True)
def cli_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """`boletos` run in-process reads its CA and key from the environment, as after
    `source cli.env`; the test services trust and know them."""
    for name, value in access.cli_env().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    return os.environ.get("BOLETOS_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES)


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards.

    PostgreSQL is part of the product's test matrix: in CI a missing server fails the run
    instead of skipping.
    """
    yield from _scratch_database(postgres_admin_url)


@pytest.fixture
def second_postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """Another scratch database, for a second service in the same test."""
    yield from _scratch_database(postgres_admin_url)


@pytest.fixture
def third_postgres_url(postgres_admin_url: str) -> Iterator[str]:
    yield from _scratch_database(postgres_admin_url)


def _scratch_database(postgres_admin_url: str) -> Iterator[str]:
    import sqlalchemy as sa

    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    name = f"boletos_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {postgres_admin_url}: {exc.orig}")
    url = sa.engine.make_url(postgres_admin_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
