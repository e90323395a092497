"""CSV -> ingest -> JetStream -> boleto service: one boleto per accepted debt, exactly once."""

from __future__ import annotations

import asyncio

import grpc
import pytest
import sqlalchemy as sa

from boletos.v1 import boleto_pb2, ingest_pb2, ingest_pb2_grpc
from tests.support.boleto import BoletoReplica, announced, running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, upload
from tests.support.scan import rasterize, scan


async def _settled(
    stub: ingest_pb2_grpc.IngestServiceStub, upload_id: str, within: float = 60
) -> ingest_pb2.UploadProgress:
    """Follows WatchUpload until every accepted debt has its boleto (issued or failed)."""
    async with asyncio.timeout(within):
        async for response in stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=upload_id)):
            p = response.progress
            if p.boletos_issued + p.boletos_failed >= p.accepted:
                return p
    raise AssertionError("WatchUpload ended before the boletos were issued")


def _boleto_rows(database_url: str) -> list[tuple]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT sequence, nosso_numero, barcode FROM boletos")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


async def test_every_accepted_debt_gets_one_boleto(database_urls, nats_server):
    ingest_db, boleto_db = database_urls
    rows = valid_rows(1500)
    bad = "Bad Row,12,x@example.com,-5,2023-01-01,00000000-0000-4000-8000-000000000001"
    async with (
        running_ingest(ingest_db, nats_server.url) as ingest,
        running_boleto(boleto_db, nats_server.url) as boleto,
    ):
        summary = await upload(ingest.stub, csv_bytes([*rows, bad]))
        assert (summary.accepted, summary.rejected) == (1500, 1)
        progress = await _settled(ingest.stub, summary.upload_id)
        assert (progress.boletos_issued, progress.boletos_failed) == (1500, 0)

        issued = await announced(nats_server.url, "boleto.boletos.issued", expected=1500)
        assert sorted(b.debt_id for b in issued) == sorted(r.debt_id for r in rows)

        one = rows[7]
        got = (await boleto.stub.GetBoleto(boleto_pb2.GetBoletoRequest(debt_id=one.debt_id))).boleto
        assert got.barcode.startswith("0019")  # Banco do Brasil, real
        assert got.principal_cents == int(one.amount) * 100
        assert got.original_due_date == one.due
        assert got.line == 9
        assert (
            len(got.barcode) == 44
            and len(got.digitable_line.replace(".", "").replace(" ", "")) == 47
        )

        page = await boleto.stub.ListBoletos(
            boleto_pb2.ListBoletosRequest(upload_id=summary.upload_id, page_size=1000)
        )
        rest = await boleto.stub.ListBoletos(
            boleto_pb2.ListBoletosRequest(
                upload_id=summary.upload_id, page_size=1000, page_token=page.next_page_token
            )
        )
        lines = [b.line for b in page.boletos] + [b.line for b in rest.boletos]
        assert lines == list(range(2, 1502)) and rest.next_page_token == ""

        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await boleto.stub.GetBoleto(
                boleto_pb2.GetBoletoRequest(debt_id="00000000-0000-4000-8000-000000000001")
            )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND

    stored = _boleto_rows(boleto_db)
    assert len(stored) == 1500
    assert len({s for s, _, _ in stored}) == 1500  # no nosso número sequence used twice
    assert len({n for _, n, _ in stored}) == 1500


async def test_resent_file_issues_nothing_new(database_urls, nats_server):
    ingest_db, boleto_db = database_urls
    data = csv_bytes(valid_rows(300))
    async with (
        running_ingest(ingest_db, nats_server.url) as ingest,
        running_boleto(boleto_db, nats_server.url),
    ):
        first = await upload(ingest.stub, data)
        await _settled(ingest.stub, first.upload_id)
        again = await upload(ingest.stub, data)
        assert again.accepted == 0
        await asyncio.sleep(2)
    assert len(_boleto_rows(boleto_db)) == 300


async def test_two_replicas_share_the_work_and_a_crash_issues_nothing_twice(
    database_urls, nats_server, tmp_path
):
    ingest_db, boleto_db = database_urls
    rows = valid_rows(12000)
    first = BoletoReplica(boleto_db, nats_server.url, tmp_path / "first.log")
    second = BoletoReplica(boleto_db, nats_server.url, tmp_path / "second.log")
    try:
        async with running_ingest(ingest_db, nats_server.url) as ingest:
            summary = await upload(ingest.stub, csv_bytes(rows))
            # Kill one replica mid-work, with no chance to ack what it holds; start another.
            async with asyncio.timeout(60):
                while first.issued() == 0:
                    assert first.proc.poll() is None, first.log_path.read_text()[-2000:]
                    await asyncio.sleep(0.05)
            first.kill()
            third = BoletoReplica(boleto_db, nats_server.url, tmp_path / "third.log")
            progress = await _settled(ingest.stub, summary.upload_id, within=120)
            assert progress.boletos_issued == 12000
            issued = await announced(nats_server.url, "boleto.boletos.issued", expected=12000)
    finally:
        for replica in (second, third) if "third" in locals() else (second,):
            replica.stop()
        if first.proc.poll() is None:
            first.kill()

    # Every replica did part of the work, and no debt was issued or announced twice.
    assert first.issued() > 0 and second.issued() > 0
    # A replica killed between its commit and its log line did work it never reported.
    assert first.issued() + second.issued() + third.issued() <= 12000
    assert sorted(b.debt_id for b in issued) == sorted(r.debt_id for r in rows)
    stored = _boleto_rows(boleto_db)
    assert len(stored) == 12000 and len({s for s, _, _ in stored}) == 12000


async def test_pdf_from_the_service_scans_to_its_barcode(database_urls, nats_server, tmp_path):
    ingest_db, boleto_db = database_urls
    rows = valid_rows(5)
    async with (
        running_ingest(ingest_db, nats_server.url) as ingest,
        running_boleto(boleto_db, nats_server.url) as boleto,
    ):
        summary = await upload(ingest.stub, csv_bytes(rows))
        await _settled(ingest.stub, summary.upload_id)
        request = boleto_pb2.GetBoletoRequest(debt_id=rows[2].debt_id)
        expected = (await boleto.stub.GetBoleto(request)).boleto.barcode
        chunks = [
            r.chunk
            async for r in boleto.stub.GetBoletoPdf(
                boleto_pb2.GetBoletoPdfRequest(debt_id=rows[2].debt_id)
            )
        ]
        again = b"".join(
            [
                r.chunk
                async for r in boleto.stub.GetBoletoPdf(
                    boleto_pb2.GetBoletoPdfRequest(debt_id=rows[2].debt_id)
                )
            ]
        )
    pdf = b"".join(chunks)
    assert pdf.startswith(b"%PDF-") and pdf == again  # rendered on demand, byte for byte
    assert scan(rasterize(pdf, tmp_path, dpi=300)) == [expected]
