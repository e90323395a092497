"""The boleto service asking for mutual TLS: the mailer gets its PDFs with its certificate
and its service key; a caller without a certificate never gets past the handshake, and a
certificate alone is no credential."""

from __future__ import annotations

import grpc
import pytest

from boletos.platform.access import transport
from boletos.platform.access.transport import ClientTls
from boletos.v1 import boleto_pb2, boleto_pb2_grpc
from tests.support import access
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink


async def test_the_mailer_reaches_a_boleto_service_that_asks_for_client_certificates(
    tmp_path, nats_server
):
    rows = valid_rows(12, seed=8)
    sink = Sink()
    mutual = {"GRPC_TLS_CLIENT_CA": str(access.secrets().ca)}
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(f"sqlite:///{tmp_path / 'i.db'}", nats_server.url) as ingest,
            running_boleto(f"sqlite:///{tmp_path / 'b.db'}", nats_server.url, **mutual) as boleto,
            running_mailer(
                f"sqlite:///{tmp_path / 'm.db'}", nats_server.url, boleto.address, smtp.port
            ),
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            progress = await settled(ingest.stub, summary.upload_id)
            assert (progress.emails_sent, progress.emails_failed) == (12, 0)

            request = boleto_pb2.ListBoletosRequest(upload_id=summary.upload_id)
            no_certificate = ClientTls(ca_file=str(access.secrets().ca))
            async with transport.channel(boleto.address, no_certificate, access.admin_key()) as ch:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await boleto_pb2_grpc.BoletoServiceStub(ch).ListBoletos(request, timeout=10)
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE

            async with transport.channel(boleto.address, access.client_tls(), "") as ch:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await boleto_pb2_grpc.BoletoServiceStub(ch).ListBoletos(request, timeout=10)
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

    assert sorted(m["X-Boleto-Debt-Id"] for m in sink.messages) == sorted(r.debt_id for r in rows)
