"""``boletos stack --postgres URL``: every service on a PostgreSQL database and role of its
own, made by the stack from an administrative URL, a file through the whole pipeline with
exact counts, and a second start on the same databases that finds them as it left them."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from boletos_cli.stack import postgres
from boletos_cli.stack.layout import StackError
from boletos_testing.datagen import write_csv
from boletos_testing.stack_ports import free_base_port
from tests.integration.stack.evidence import debt_ids, mail_headers
from tests.integration.test_stack import READY_LINE, StackFactory, cli

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

ROWS = 40
SERVICES = ("ingest", "boleto", "mailer")
SENT = 3  # mailer_service.domain.delivery.DeliveryStatus.SENT


@pytest.fixture
def base_port(postgres_admin_url: str) -> Iterator[int]:
    """A free base port, whose databases and roles are dropped before and after the test."""
    admin = postgres.admin_url(postgres_admin_url)
    base = free_base_port()
    names = [postgres.database_name(base, service) for service in SERVICES]
    try:
        postgres.drop_databases(admin, names)
    except StackError as exc:
        # Part of the product's matrix: in CI a missing server fails the run.
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {postgres_admin_url}: {exc}")
    try:
        yield base
    finally:
        postgres.drop_databases(admin, names)


def count(url: str, query: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(query).scalar_one())
    finally:
        engine.dispose()


def test_every_service_runs_on_its_own_database_and_role(
    stack_factory: StackFactory, base_port: int, postgres_admin_url: str, tmp_path: Path
) -> None:
    stack = stack_factory("--postgres", postgres_admin_url, base_port=base_port)
    stack.wait_for_output(READY_LINE)
    csv_path = write_csv(tmp_path / "debts.csv", ROWS, seed=31)
    expected = debt_ids(csv_path)

    uploaded = cli(stack, "upload", "--wait", "--json", str(csv_path))
    assert uploaded.returncode == 0, (uploaded.stderr, stack.logs())
    progress = json.loads(uploaded.stdout)["progress"]
    assert progress["settled"], progress
    assert progress["accepted"] == progress["boletos_issued"] == progress["emails_sent"] == ROWS

    # Each service's data is in its own database, reached with its own role.
    admin = postgres.admin_url(postgres_admin_url)
    secrets_dir = stack.secrets.directory
    urls = {
        service: postgres.service_url(
            admin,
            postgres.database_name(base_port, service),
            postgres.password(secrets_dir, service),
        )
        for service in SERVICES
    }
    assert count(urls["ingest"], "SELECT count(DISTINCT debt_id) FROM debts") == ROWS
    assert count(urls["boleto"], "SELECT count(DISTINCT debt_id) FROM boletos") == ROWS
    assert count(urls["boleto"], "SELECT count(*) FROM boletos") == ROWS
    assert count(urls["boleto"], "SELECT count(*) FROM boleto_failures") == 0
    assert count(urls["mailer"], f"SELECT count(*) FROM deliveries WHERE status = {SENT}") == ROWS
    assert count(urls["mailer"], "SELECT count(*) FROM deliveries") == ROWS
    messages = mail_headers(stack.data_dir / "mail" / "new")
    assert {m["X-Boleto-Debt-Id"] for m in messages} == expected
    assert len({m["Message-ID"] for m in messages}) == len(messages) == ROWS
    # No service can open another's database.
    stranger = sa.engine.make_url(urls["mailer"]).set(
        database=postgres.database_name(base_port, "ingest")
    )
    with pytest.raises(sa.exc.OperationalError, match="permission denied"):
        count(stranger.render_as_string(hide_password=False), "SELECT 1")
    assert stack.stop() == 0, stack.logs()

    # Started again on the same port, the stack finds its databases and roles as it left
    # them: the same file comes back as duplicates, and nothing new is issued or sent.
    again = stack_factory("--postgres", postgres_admin_url, base_port=base_port)
    again.wait_for_output(READY_LINE)
    resent = cli(again, "upload", "--wait", "--json", str(csv_path))
    assert resent.returncode == 0, (resent.stderr, again.logs())
    summary = json.loads(resent.stdout)
    assert (summary["accepted"], summary["duplicates"]) == (0, ROWS)
    assert count(urls["boleto"], "SELECT count(*) FROM boletos") == ROWS
    assert count(urls["mailer"], "SELECT count(*) FROM deliveries") == ROWS
    assert len(mail_headers(again.data_dir / "mail" / "new")) == ROWS
    assert again.stop() == 0, again.logs()
