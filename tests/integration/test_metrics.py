"""Each service, in a process of its own, counts its work on its own /metrics endpoint: the
sample file through the whole pipeline moves every counter by exactly what was done."""

from __future__ import annotations

import asyncio
import contextlib
import urllib.request
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from boletos.v1 import boleto_pb2, boleto_pb2_grpc, ingest_pb2, ingest_pb2_grpc
from boletos_testing.processes import ServiceProcess
from tests.support import access
from tests.support.ingest import upload
from tests.support.mailer import Sink, smtp_sink
from tests.support.processes import free_port

SAMPLE = (resources.files("boletos_cli.samples") / "sample.csv").read_bytes()
# Of the sample's 40 rows, 37 are accepted; these two of them are delivered differently.
REFUSED = "paula.lima@example.org"
DEFERRED_ONCE = "sofia.silva@example.org"
START_TIMEOUT = 60.0

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Service:
    process: ServiceProcess
    address: str
    metrics_port: int


async def wait_serving(service: Service) -> None:
    async with access.channel(service.address, key="") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while asyncio.get_running_loop().time() < deadline:
            if service.process.exit_code() is not None:
                break
            with contextlib.suppress(grpc.aio.AioRpcError):
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(0.2)
    raise AssertionError(f"{service.process.module} never served:\n{service.process.log_tail()}")


@contextlib.asynccontextmanager
async def pipeline(nats_url: str, tmp_path: Path, smtp_port: int) -> AsyncIterator[list[Service]]:
    """ingest, boleto and mailer, each `python -m` with METRICS_ADDR on a free port."""
    boleto_addr = f"127.0.0.1:{free_port()}"
    extra = {
        "ingest_service": {},
        "boleto_service": {},
        "mailer_service": {
            "BOLETO_ADDR": boleto_addr,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "SMTP_SECURITY": "none",
            "MAIL_RETRY_BASE_SECONDS": "0.2",
        },
    }
    services = []
    try:
        for module, env in extra.items():
            address = boleto_addr if module == "boleto_service" else f"127.0.0.1:{free_port()}"
            metrics_port = free_port()
            process = ServiceProcess(
                module,
                {
                    "GRPC_LISTEN_ADDR": address,
                    "METRICS_ADDR": f"127.0.0.1:{metrics_port}",
                    "DATABASE_URL": f"sqlite:///{tmp_path / module}.db",
                    "NATS_URL": nats_url,
                    "LOG_FORMAT": "console",
                    **access.service_env(),
                    **env,
                },
                tmp_path / f"{module}.log",
            ).start()
            services.append(Service(process, address, metrics_port))
        for service in services:
            await wait_serving(service)
        yield services
    finally:
        for service in services:
            await asyncio.to_thread(service.process.stop)


def _scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(service: Service) -> Samples:
    return await asyncio.to_thread(_scrape, service.metrics_port)


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def expect(service: Service, name: str, expected: float, /, **labels: str) -> None:
    """Counters move a moment after the events that announce the work: poll a while."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        found = value(await scrape(service), name, **labels)
        if found == expected or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.25)
    assert found == expected, f"{service.process.module}: {name}{labels} is {found}"


async def settled(stub: ingest_pb2_grpc.IngestServiceStub, upload_id: str) -> None:
    async with asyncio.timeout(120):
        async for response in stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=upload_id)):
            if response.progress.settled:
                return


async def test_the_sample_file_moves_every_counter_by_exactly_the_work_done(
    nats_server, tmp_path
) -> None:
    deferred: list[str] = []

    def reply(rcpt: str) -> str | None:
        if rcpt == REFUSED:
            return "550 5.1.1 no such user"
        if rcpt == DEFERRED_ONCE and not deferred:
            deferred.append(rcpt)
            return "451 4.3.0 try again later"
        return None

    data = SAMPLE
    with smtp_sink(Sink(reply=reply)) as smtp:
        async with pipeline(nats_server.url, tmp_path, smtp.port) as (ingest, boleto, mailer):
            async with access.channel(ingest.address) as channel:
                stub = ingest_pb2_grpc.IngestServiceStub(channel)
                summary = await upload(stub, data, file_name="sample.csv")
                assert (summary.accepted, summary.rejected) == (37, 3)
                await settled(stub, summary.upload_id)
                again = await upload(stub, data, file_name="sample.csv")
                assert (again.accepted, again.duplicates) == (0, 37)

            rows = "boletos_ingest_rows_total"
            await expect(ingest, rows, 37, outcome="accepted")
            await expect(ingest, rows, 37, outcome="duplicate")
            await expect(ingest, rows, 0, outcome="conflict")
            await expect(ingest, rows, 6, outcome="rejected")
            await expect(ingest, "boletos_ingest_uploads_total", 2, state="completed")
            await expect(ingest, "boletos_ingest_uploads_total", 0, state="interrupted")
            rpc = "boletos_grpc_server_handling_seconds_count"
            await expect(
                ingest, rpc, 2, service="boletos.v1.IngestService", method="Upload", code="OK"
            )

            await expect(boleto, "boletos_boletos_issued_total", 37)
            await expect(boleto, "boletos_boletos_failed_total", 0)

            await expect(mailer, "boletos_emails_sent_total", 36)
            await expect(mailer, "boletos_emails_failed_total", 1)
            await expect(mailer, "boletos_email_retries_total", 1)

            lag = "boletos_jetstream_consumer_lag_messages"
            await expect(boleto, lag, 0, stream="INGEST", consumer="boleto-service")
            await expect(mailer, lag, 0, stream="BOLETO", consumer="mailer-service")
            for stream, consumer in (
                ("BOLETO", "ingest-progress-boleto-boletos-issued"),
                ("BOLETO", "ingest-progress-boleto-boletos-failed"),
                ("MAILER", "ingest-progress-mailer-emails-sent"),
                ("MAILER", "ingest-progress-mailer-emails-failed"),
            ):
                await expect(ingest, lag, 0, stream=stream, consumer=consumer)
            # How full each consumed stream is, against the room NATS_STREAM_MAX_DEBTS made.
            # The gauges are sampled every few seconds: wait for a sample taken since the file.
            for _ in range(100):
                scraped = await scrape(mailer)
                held = value(scraped, "boletos_jetstream_stream_bytes", stream="BOLETO")
                room = value(scraped, "boletos_jetstream_stream_max_bytes", stream="BOLETO")
                if held:
                    break
                await asyncio.sleep(0.2)
            assert held is not None and room is not None and 0 < held < room

            # Every e-mail carried a PDF; two more asked for directly render two more, and
            # the RPC they went through is timed with the status each caller got.
            before = await scrape(boleto)
            rendered = value(before, "boletos_pdfs_rendered_total")
            assert rendered is not None and rendered >= 37
            pdf_rpc = {"service": "boletos.v1.BoletoService", "method": "GetBoletoPdf"}
            ok = value(before, rpc, **pdf_rpc, code="OK") or 0
            missing = value(before, rpc, **pdf_rpc, code="NOT_FOUND") or 0
            async with access.channel(boleto.address) as channel:
                boletos = boleto_pb2_grpc.BoletoServiceStub(channel)
                listed = await boletos.ListBoletos(
                    boleto_pb2.ListBoletosRequest(upload_id=summary.upload_id, page_size=1)
                )
                debt_id = listed.boletos[0].debt_id
                for _ in range(2):
                    request = boleto_pb2.GetBoletoPdfRequest(debt_id=debt_id)
                    pdf = b"".join([r.chunk async for r in boletos.GetBoletoPdf(request)])
                    assert pdf.startswith(b"%PDF")
                request = boleto_pb2.GetBoletoPdfRequest(debt_id=str(uuid.uuid4()))
                with pytest.raises(grpc.aio.AioRpcError) as unknown:
                    await boletos.GetBoletoPdf(request).read()
                assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
            await expect(boleto, "boletos_pdfs_rendered_total", rendered + 2)
            await expect(boleto, rpc, ok + 2, **pdf_rpc, code="OK")
            await expect(boleto, rpc, missing + 1, **pdf_rpc, code="NOT_FOUND")
