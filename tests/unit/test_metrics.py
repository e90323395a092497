"""The shared metrics: RPC latency through a real grpc.aio server, the /metrics endpoint,
and the consumer-lag gauge against a real nats-server."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import grpc
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from boleto_service.config import Settings as BoletoSettings
from boletos.platform.grpc_server import GrpcServer
from boletos.platform.metrics import ConsumerLag, MetricsEndpoint, RpcMetrics
from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from ingest_service.config import Settings as IngestSettings
from mailer_service.config import Settings as MailerSettings
from tests.support import access
from tests.support.processes import free_port

SERVICE = "boletos.v1.IngestService"
PAUSE = 0.3


class SlowIngest(ingest_pb2_grpc.IngestServiceServicer):
    """Takes measurable time in each kind of RPC; ListUploads stays unimplemented."""

    async def Upload(
        self,
        request_iterator: AsyncIterator[ingest_pb2.UploadRequest],
        context: grpc.aio.ServicerContext,
    ) -> ingest_pb2.UploadResponse:
        chunks = [r async for r in request_iterator]
        return ingest_pb2.UploadResponse(summary=ingest_pb2.UploadSummary(rows=len(chunks)))

    async def GetUpload(
        self, request: ingest_pb2.GetUploadRequest, context: grpc.aio.ServicerContext
    ) -> None:  # never answers: fails or aborts
        await asyncio.sleep(PAUSE)
        if request.upload_id == "boom":
            raise RuntimeError("a bug")
        await context.abort(grpc.StatusCode.NOT_FOUND, f"no upload {request.upload_id}")

    async def WatchUpload(
        self, request: ingest_pb2.WatchUploadRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.WatchUploadResponse]:
        for rows in range(3):
            if rows:
                await asyncio.sleep(PAUSE)
            yield ingest_pb2.WatchUploadResponse(progress=ingest_pb2.UploadProgress(rows=rows))


def count(method: str, code: str) -> float:
    labels = {"service": SERVICE, "method": method, "code": code}
    return REGISTRY.get_sample_value("boletos_grpc_server_handling_seconds_count", labels) or 0.0


def total_seconds(method: str, code: str) -> float:
    labels = {"service": SERVICE, "method": method, "code": code}
    return REGISTRY.get_sample_value("boletos_grpc_server_handling_seconds_sum", labels) or 0.0


@pytest.fixture
async def stub() -> AsyncIterator[ingest_pb2_grpc.IngestServiceStub]:
    address = f"127.0.0.1:{free_port()}"
    server = GrpcServer(address, [SERVICE], [RpcMetrics()], tls=None, serve_reflection=False)
    server.add(ingest_pb2_grpc.add_IngestServiceServicer_to_server, SlowIngest())
    await server.start()
    channel = grpc.aio.insecure_channel(address)
    try:
        yield ingest_pb2_grpc.IngestServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(0)


async def test_a_client_stream_is_timed_until_its_last_message_arrives(stub) -> None:
    before_count, before_sum = count("Upload", "OK"), total_seconds("Upload", "OK")

    async def slow_file() -> AsyncIterator[ingest_pb2.UploadRequest]:
        yield ingest_pb2.UploadRequest(header=ingest_pb2.UploadHeader(file_name="a.csv"))
        for _ in range(2):
            await asyncio.sleep(PAUSE)
            yield ingest_pb2.UploadRequest(chunk=b"x")

    response = await stub.Upload(slow_file())
    assert response.summary.rows == 3
    assert count("Upload", "OK") == before_count + 1
    assert total_seconds("Upload", "OK") - before_sum >= 2 * PAUSE


async def test_a_server_stream_is_timed_until_its_last_message_is_sent(stub) -> None:
    before_count, before_sum = count("WatchUpload", "OK"), total_seconds("WatchUpload", "OK")
    responses = [r async for r in stub.WatchUpload(ingest_pb2.WatchUploadRequest())]
    assert [r.progress.rows for r in responses] == [0, 1, 2]
    assert count("WatchUpload", "OK") == before_count + 1
    assert total_seconds("WatchUpload", "OK") - before_sum >= 2 * PAUSE


async def test_a_stream_the_client_walks_away_from_counts_as_cancelled(stub) -> None:
    before = count("WatchUpload", "CANCELLED")
    call = stub.WatchUpload(ingest_pb2.WatchUploadRequest())
    await call.read()
    call.cancel()
    for _ in range(50):
        if count("WatchUpload", "CANCELLED") == before + 1:
            break
        await asyncio.sleep(0.05)
    assert count("WatchUpload", "CANCELLED") == before + 1


async def test_unary_calls_are_labelled_with_the_status_the_client_got(stub) -> None:
    before_found, before_bug = count("GetUpload", "NOT_FOUND"), count("GetUpload", "UNKNOWN")
    before_sum = total_seconds("GetUpload", "NOT_FOUND")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetUpload(ingest_pb2.GetUploadRequest(upload_id="nope"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as bug:
        await stub.GetUpload(ingest_pb2.GetUploadRequest(upload_id="boom"))
    assert bug.value.code() == grpc.StatusCode.UNKNOWN
    assert count("GetUpload", "NOT_FOUND") == before_found + 1
    assert count("GetUpload", "UNKNOWN") == before_bug + 1
    assert total_seconds("GetUpload", "NOT_FOUND") - before_sum >= PAUSE


async def test_an_unimplemented_method_is_counted_too(stub) -> None:
    before = count("ListUploads", "UNIMPLEMENTED")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.ListUploads(ingest_pb2.ListUploadsRequest())
    assert missing.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert count("ListUploads", "UNIMPLEMENTED") == before + 1


def scrape(port: int) -> dict[str, list]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


async def test_the_endpoint_serves_the_registry_as_prometheus_text_until_closed(stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.GetUpload(ingest_pb2.GetUploadRequest(upload_id="nope"))
    endpoint = MetricsEndpoint("127.0.0.1:0")
    try:
        families = await asyncio.to_thread(scrape, endpoint.port)
    finally:
        await endpoint.close()
    counts = {
        s.labels["code"]: s.value
        for s in families["boletos_grpc_server_handling_seconds"]
        if s.name.endswith("_count") and s.labels["method"] == "GetUpload"
    }
    assert counts["NOT_FOUND"] == count("GetUpload", "NOT_FOUND") >= 1
    with pytest.raises(urllib.error.URLError):
        await asyncio.to_thread(scrape, endpoint.port)


def test_the_endpoint_refuses_an_address_without_a_port() -> None:
    with pytest.raises(ValueError, match="host:port"):
        MetricsEndpoint("localhost")


def lag(stream: str, consumer: str) -> float | None:
    return REGISTRY.get_sample_value(
        "boletos_jetstream_consumer_lag_messages", {"stream": stream, "consumer": consumer}
    )


async def wait_for_lag(stream: str, consumer: str, expected: float) -> None:
    for _ in range(100):
        if lag(stream, consumer) == expected:
            return
        await asyncio.sleep(0.05)
    assert lag(stream, consumer) == expected


async def test_consumer_lag_counts_undelivered_and_unacknowledged_messages(nats_server) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="LAGTEST", subjects=["lagtest.>"]))
    for i in range(5):
        await js.publish("lagtest.work", str(i).encode())
    sub = await js.pull_subscribe(
        "lagtest.work",
        durable="worker",
        stream="LAGTEST",
        config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=60),
    )
    tracker = ConsumerLag(js, [("LAGTEST", "not-created-yet"), ("LAGTEST", "worker")], 0.05)
    tracking = asyncio.create_task(tracker.run())
    try:
        await wait_for_lag("LAGTEST", "worker", 5)
        fetched = await sub.fetch(2, timeout=5)
        await wait_for_lag("LAGTEST", "worker", 5)  # 3 undelivered + 2 unacknowledged
        for msg in fetched:
            await msg.ack_sync()
        await wait_for_lag("LAGTEST", "worker", 3)
        assert lag("LAGTEST", "not-created-yet") is None
    finally:
        tracker.stop()
        await asyncio.wait_for(tracking, 10)
        await nc.close()


@pytest.mark.parametrize(
    "settings",
    [IngestSettings, BoletoSettings, MailerSettings],
    ids=["ingest", "boleto", "mailer"],
)
def test_no_service_serves_metrics_unless_given_an_address(
    settings: type[IngestSettings] | type[BoletoSettings] | type[MailerSettings],
) -> None:
    assert settings.from_env(access.minimal_env()).metrics_addr == ""
    assert (
        settings.from_env({**access.minimal_env(), "METRICS_ADDR": "0.0.0.0:9464"}).metrics_addr
        == "0.0.0.0:9464"
    )
