"""One PostgreSQL database and one role per service of a local stack, made from an
administrative URL: the arrangement compose makes with deploy/postgres-init.sql, so each
service runs on a store that only it (and the administrator) can reach.

Names come from the stack's base port (``boletos_50051_ingest``): stacks running side by
side on one server never share a database, and a stack started again on the same port finds
its own and keeps their data. Each role's password is made on first use and kept with the
stack's other secrets.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from boletos_cli.stack.errors import StackError

# The driver the services use; a bare postgresql:// would ask SQLAlchemy for psycopg2.
DRIVER = "postgresql+psycopg"
CONNECT_TIMEOUT_SECONDS = 10
# Passwords go into DDL as literals (PostgreSQL binds no parameters there), so they are
# made, and accepted back from their files, only in a form that needs no quoting.
_PASSWORD = re.compile(r"[0-9a-f]{32,}")


def admin_url(url: str) -> URL:
    """The administrative URL with the services' driver; anything but PostgreSQL refused."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several kinds for a bad URL
        raise StackError(
            "--postgres needs a URL such as postgresql://postgres@host/postgres"
        ) from None
    # postgres:// too, as libpq and most providers write it, though SQLAlchemy does not.
    if parsed.drivername.partition("+")[0] not in ("postgresql", "postgres"):
        raise StackError(f"--postgres needs a PostgreSQL URL, not {parsed.drivername}://")
    return parsed.set(drivername=DRIVER)


def database_name(base_port: int, service: str) -> str:
    """Also the name of the role that owns it."""
    return f"boletos_{base_port}_{service}"


def password(secrets_dir: Path, service: str) -> str:
    """The service's role password, made on first use and read back afterwards."""
    path = secrets_dir / f"postgres-{service}.password"
    if path.exists():
        kept = path.read_text().strip()
        if not _PASSWORD.fullmatch(kept):
            raise StackError(f"{path} does not hold a password this stack made; delete it")
        return kept
    secrets_dir.mkdir(parents=True, exist_ok=True)
    made = secrets.token_hex(16)
    path.write_text(made + "\n")
    path.chmod(0o600)
    return made


def service_url(admin: URL, name: str, role_password: str | None) -> str:
    """Where the service connects: the administrator's server, its own role and database;
    without a password, what people are shown."""
    own = URL.create(
        admin.drivername,
        username=name,
        password=role_password,
        host=admin.host,
        port=admin.port,
        database=name,
        query=admin.query,
    )
    return own.render_as_string(hide_password=False)


def ensure_databases(admin: URL, roles: Mapping[str, str]) -> None:
    """Creates each role (name: password) and its database, or brings an existing role's
    password in line with the stack's file; safe to repeat on every start."""
    try:
        with _connection(admin) as conn:
            _create(conn, roles)
    except sa.exc.DBAPIError as exc:
        label = admin.render_as_string(hide_password=True)
        raise StackError(f"cannot prepare the services' databases at {label}: {exc.orig}") from None


def _create(conn: sa.engine.Connection, roles: Mapping[str, str]) -> None:
    for name, role_password in roles.items():
        _check_name(name)
        if not _PASSWORD.fullmatch(role_password):
            raise StackError(f"refusing {name}'s password: not one this stack made")
        role = sa.text("SELECT 1 FROM pg_roles WHERE rolname = :n")
        # Kept in line with the file on every start, so a role made elsewhere still logs in.
        verb = "ALTER ROLE" if conn.execute(role, {"n": name}).first() else "CREATE ROLE"
        conn.exec_driver_sql(f"{verb} \"{name}\" WITH LOGIN PASSWORD '{role_password}'")
        database = sa.text("SELECT 1 FROM pg_database WHERE datname = :n")
        if not conn.execute(database, {"n": name}).first():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" OWNER "{name}"')
        # New databases let every role connect; this one is its service's alone.
        conn.exec_driver_sql(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{name}" FROM PUBLIC')


def drop_databases(admin: URL, names: Iterable[str]) -> None:
    """Removes databases and roles ensure_databases made, with any connections still open."""
    with _connection(admin) as conn:
        for name in names:
            _check_name(name)
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')


def _check_name(name: str) -> None:
    # Names end up inside DDL text: only the plain ones database_name makes are used.
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise StackError(f"refusing to use {name!r} as a PostgreSQL name")


def _connection(admin: URL) -> sa.engine.Connection:
    engine = sa.create_engine(
        admin,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )
    try:
        return engine.connect()
    except sa.exc.OperationalError as exc:
        label = admin.render_as_string(hide_password=True)
        raise StackError(f"cannot reach PostgreSQL at {label}: {exc.orig}") from None
