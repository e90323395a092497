"""The plain-text probe port: health checks answer there without TLS or a credential, and
nothing else does."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from tests.support.ingest import running_ingest
from tests.support.processes import free_port


async def test_the_probe_port_answers_health_checks_and_nothing_else(database_url, nats_server):
    probe = f"127.0.0.1:{free_port()}"
    async with running_ingest(database_url, nats_server.url, GRPC_HEALTH_LISTEN_ADDR=probe):
        async with grpc.aio.insecure_channel(probe) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for service in ("", "boletos.v1.IngestService"):
                answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await ingest_pb2_grpc.IngestServiceStub(channel).ListUploads(
                    ingest_pb2.ListUploadsRequest()
                )
            assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
