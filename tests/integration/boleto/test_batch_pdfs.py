"""BatchGetBoletoPdfs, and the mailer's client of it, against the real boleto service."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from boletos.v1 import boleto_pb2, boleto_pb2_grpc
from mailer_service.clients.boleto_pdfs import BoletoPdfs
from mailer_service.domain.errors import PdfUnavailable
from tests.integration.boleto.test_pipeline import _settled
from tests.support import access
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, upload


async def _single(stub: boleto_pb2_grpc.BoletoServiceStub, debt_id: str) -> bytes:
    request = boleto_pb2.GetBoletoPdfRequest(debt_id=debt_id)
    return b"".join([r.chunk async for r in stub.GetBoletoPdf(request)])


async def test_batch_gives_the_same_pdfs_as_one_by_one_and_leaves_out_the_unknown(
    database_urls, nats_server
):
    ingest_db, boleto_db = database_urls
    rows = valid_rows(140, seed=31)
    unknown = str(uuid.uuid4())
    async with (
        running_ingest(ingest_db, nats_server.url) as ingest,
        running_boleto(boleto_db, nats_server.url) as boleto,
    ):
        summary = await upload(ingest.stub, csv_bytes(rows))
        await _settled(ingest.stub, summary.upload_id)
        asked = [rows[4].debt_id, unknown, "not-a-debt", rows[1].debt_id, rows[4].debt_id]
        response = await boleto.stub.BatchGetBoletoPdfs(
            boleto_pb2.BatchGetBoletoPdfsRequest(debt_ids=asked)
        )
        assert [p.debt_id for p in response.pdfs] == [rows[4].debt_id, rows[1].debt_id]
        assert response.pdfs[0].pdf == await _single(boleto.stub, rows[4].debt_id)
        assert response.pdfs[1].pdf == await _single(boleto.stub, rows[1].debt_id)

        with pytest.raises(grpc.aio.AioRpcError) as too_many:
            await boleto.stub.BatchGetBoletoPdfs(
                boleto_pb2.BatchGetBoletoPdfsRequest(debt_ids=[unknown] * 501)
            )
        assert too_many.value.code() == grpc.StatusCode.INVALID_ARGUMENT

        # The mailer's client: several batches, in order, and a missing PDF fails only itself.
        async with access.channel(boleto.address, access.service_key()) as channel:
            futures = BoletoPdfs(channel, batch_size=32).prefetch(
                [r.debt_id for r in rows] + [unknown]
            )
            pdfs = await asyncio.gather(*futures.values(), return_exceptions=True)
        by_id = dict(zip(futures, pdfs, strict=True))
        fetched = [by_id[r.debt_id] for r in rows]
        assert all(isinstance(pdf, bytes) and pdf.startswith(b"%PDF-") for pdf in fetched)
        assert by_id[rows[77].debt_id] == await _single(boleto.stub, rows[77].debt_id)
        assert isinstance(by_id[unknown], PdfUnavailable)


async def test_client_reports_an_unreachable_service_per_debt():
    from tests.support.processes import free_port

    channel = access.channel(f"127.0.0.1:{free_port()}", access.service_key())
    try:
        futures = BoletoPdfs(channel).prefetch([str(uuid.uuid4()), str(uuid.uuid4())])
        for future in futures.values():
            with pytest.raises(PdfUnavailable, match="UNAVAILABLE"):
                await asyncio.wait_for(future, 40)
    finally:
        await channel.close()
