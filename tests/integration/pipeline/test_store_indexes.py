"""Every statement the three services run against PostgreSQL finds an index.

A file goes CSV -> boleto -> e-mail (a failure and a retry included) while every SQL
statement is recorded; then each is explained on its own database with sequential scans
priced out of reach. On tables this small the planner would scan anyway, so only a plan that
*still* scans names a statement no index serves. `pytest -s` prints the plans.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from boletos.v1 import ingest_pb2, mailer_pb2
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink

# One row per service, or a handful: scanning them is what an index would cost.
TINY_TABLES = {"sequences"}
DML = re.compile(r"^\s*(SELECT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


@pytest.fixture
def statements() -> Iterator[list[tuple[str, str, Any]]]:
    """(database URL, SQL, parameters) of every single statement any engine runs."""
    seen: list[tuple[str, str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if not executemany and conn.dialect.name == "postgresql" and DML.match(statement):
            seen.append(
                (conn.engine.url.render_as_string(hide_password=False), statement, parameters)
            )

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


@pytest.mark.postgres
async def test_every_statement_of_the_pipeline_has_an_index_behind_it(
    postgres_url, second_postgres_url, third_postgres_url, nats_server, statements
):
    rows = valid_rows(40, seed=12)
    refused = rows[3].email
    sink = Sink(reply=lambda rcpt: "550 5.1.1 no such user" if rcpt == refused else None)
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(postgres_url, nats_server.url) as ingest,
            running_boleto(second_postgres_url, nats_server.url) as boleto,
            running_mailer(
                third_postgres_url, nats_server.url, boleto.address, smtp.port
            ) as mailer,
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            await settled(ingest.stub, summary.upload_id)
            await upload(ingest.stub, csv_bytes(rows))  # duplicates
            await mailer.stub.RetryFailed(
                mailer_pb2.RetryFailedRequest(upload_id=summary.upload_id)
            )
            await mailer.stub.ListDeliveries(
                mailer_pb2.ListDeliveriesRequest(upload_id=summary.upload_id)
            )
            await ingest.stub.ListUploads(ingest_pb2.ListUploadsRequest())
            async for _ in ingest.stub.GetUploadReport(
                ingest_pb2.GetUploadReportRequest(upload_id=summary.upload_id)
            ):
                pass
            await asyncio.sleep(1)

    distinct: dict[tuple[str, str], Any] = {}
    for url, statement, parameters in statements:
        distinct.setdefault((url, statement), parameters)
    assert len(distinct) > 20, "the services' statements were not recorded"

    scans = []
    engines: dict[str, sa.Engine] = {}
    try:
        for (url, statement), parameters in distinct.items():
            engine = engines.setdefault(url, sa.create_engine(url))
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("SET enable_seqscan = off")
                cursor.execute("EXPLAIN " + statement, parameters)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                raw.rollback()
            finally:
                raw.close()
            print(f"\n{' '.join(statement.split())[:300]}\n{plan}")
            scanned = set(re.findall(r"Seq Scan on (\w+)", plan)) - TINY_TABLES
            if scanned:
                scans.append(f"{sorted(scanned)} <- {' '.join(statement.split())[:200]}")
    finally:
        for engine in engines.values():
            engine.dispose()
    assert scans == [], "\n".join(scans)
