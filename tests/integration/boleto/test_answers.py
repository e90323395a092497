"""What the boleto service answers about one debt or one upload: the issue time, why a boleto
was refused (in google.rpc details a program can read), and that an unknown upload is not
an empty one."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2

from boletos.platform.errors import details_of
from boletos.v1 import boleto_pb2
from tests.integration.boleto.test_pipeline import _settled
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, upload


async def test_issued_at_refusal_reasons_and_unknown_uploads(database_urls, nats_server):
    ingest_db, boleto_db = database_urls
    rows = valid_rows(3, seed=5)
    # Valid at ingest, but overdue: a 10% fine takes it past the largest amount a barcode
    # can carry, so no boleto can be issued for it.
    refused = rows[2].changed(amount="99999999.00", due="2024-01-10")
    async with (
        running_ingest(ingest_db, nats_server.url) as ingest,
        running_boleto(boleto_db, nats_server.url, OVERDUE_FINE_PERCENT="10") as boleto,
    ):
        before = dt.datetime.now(dt.UTC)
        summary = await upload(ingest.stub, csv_bytes([rows[0], rows[1], refused]))
        progress = await _settled(ingest.stub, summary.upload_id)
        assert (progress.boletos_issued, progress.boletos_failed) == (2, 1)

        got = await boleto.stub.GetBoleto(boleto_pb2.GetBoletoRequest(debt_id=rows[0].debt_id))
        issued_at = got.boleto.issued_at.ToDatetime(tzinfo=dt.UTC)
        assert before - dt.timedelta(seconds=5) <= issued_at <= dt.datetime.now(dt.UTC)

        with pytest.raises(grpc.aio.AioRpcError) as refusal:
            await boleto.stub.GetBoleto(boleto_pb2.GetBoletoRequest(debt_id=refused.debt_id))
        assert refusal.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "amount" in (refusal.value.details() or "")
        info, precondition = details_of(refusal.value)
        assert isinstance(info, error_details_pb2.ErrorInfo)
        assert (info.reason, info.domain) == ("BOLETO_REFUSED", "boletos.v1")
        assert info.metadata["debt_id"] == refused.debt_id
        assert info.metadata["upload_id"] == summary.upload_id
        assert "amount" in info.metadata["refusal"]
        assert isinstance(precondition, error_details_pb2.PreconditionFailure)
        assert precondition.violations[0].subject == f"debt/{refused.debt_id}"

        unknown = str(uuid.uuid4())
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await boleto.stub.GetBoleto(boleto_pb2.GetBoletoRequest(debt_id=unknown))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        (info, resource) = details_of(missing.value)
        assert isinstance(info, error_details_pb2.ErrorInfo)
        assert info.reason == "BOLETO_NOT_ISSUED"
        assert isinstance(resource, error_details_pb2.ResourceInfo)
        assert resource.resource_name == unknown

        with pytest.raises(grpc.aio.AioRpcError) as no_upload:
            await boleto.stub.ListBoletos(boleto_pb2.ListBoletosRequest(upload_id=unknown))
        assert no_upload.value.code() == grpc.StatusCode.NOT_FOUND
        assert details_of(no_upload.value)[0].reason == "UPLOAD_NOT_FOUND"  # type: ignore[attr-defined]

        with pytest.raises(grpc.aio.AioRpcError) as bad_id:
            await boleto.stub.GetBoleto(boleto_pb2.GetBoletoRequest(debt_id="not-an-id"))
        assert bad_id.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        bad_request = details_of(bad_id.value)[1]
        assert isinstance(bad_request, error_details_pb2.BadRequest)
        assert bad_request.field_violations[0].field == "debt_id"
