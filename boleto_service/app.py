"""Composition root: wires store, NATS, consumer, relay and the gRPC server, then runs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools

from boleto_service.api.servicer import BoletoServicer
from boleto_service.config import Settings
from boleto_service.domain.issuing import BoletoIssuer
from boleto_service.messaging.debts_consumer import DURABLE, DebtsConsumer
from boleto_service.service.pdf import render_record
from boleto_service.store.engine import create_engine, create_schema
from boleto_service.store.repository import BoletoStore
from boletos.platform import logs, metrics, nats_streams
from boletos.platform.grpc_server import GrpcServer, install_stop_signals
from boletos.platform.outbox import OutboxRelay
from boletos.v1 import boleto_pb2, boleto_pb2_grpc

log = logs.get_logger("boleto")

SERVICE_NAME = boleto_pb2.DESCRIPTOR.services_by_name["BoletoService"].full_name


async def run(settings: Settings, stop: asyncio.Event) -> None:
    engine = create_engine(settings.database_url)
    create_schema(engine)
    store = BoletoStore(engine)

    nc = await nats_streams.connect(settings.nats_url, name="boleto_service")
    js = nc.jetstream()
    await nats_streams.ensure_streams(js)
    relay = OutboxRelay(
        store.outbox, js, retention=dt.timedelta(hours=settings.outbox_retention_hours)
    )
    loop = asyncio.get_running_loop()
    consumer = DebtsConsumer(
        store,
        js,
        BoletoIssuer(settings.beneficiary, settings.overdue),
        on_commit=lambda: loop.call_soon_threadsafe(relay.wake),
        fetch_batch=settings.fetch_batch,
        ack_wait_seconds=settings.ack_wait_seconds,
    )

    server = GrpcServer(settings.grpc_listen_addr, [SERVICE_NAME], [metrics.RpcMetrics()])
    server.add(
        boleto_pb2_grpc.add_BoletoServiceServicer_to_server,
        BoletoServicer(store, functools.partial(render_record, settings.beneficiary)),
    )
    consuming = asyncio.create_task(consumer.run(), name="debts-consumer")
    relaying = asyncio.create_task(relay.run(), name="outbox-relay")
    lagging = asyncio.create_task(
        metrics.track_consumer_lag(js, [("INGEST", DURABLE)]), name="consumer-lag"
    )
    endpoint = metrics.MetricsEndpoint(settings.metrics_addr) if settings.metrics_addr else None
    await server.start()
    log.info("service.started", listen=settings.grpc_listen_addr, port=server.port)
    try:
        await stop.wait()
    finally:
        log.info("service.stopping", grace_seconds=settings.shutdown_grace_seconds)
        # Stop taking work, finish the batch in hand (its ack follows its commit), then
        # publish what it produced before letting go of NATS.
        consumer.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(consuming), settings.shutdown_grace_seconds)
        consuming.cancel()
        await server.stop(settings.shutdown_grace_seconds)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(relay.publish_pending(), 10)
        relaying.cancel()
        lagging.cancel()
        await asyncio.gather(consuming, relaying, lagging, return_exceptions=True)
        await nc.close()
        engine.dispose()
        if endpoint is not None:
            await endpoint.close()
        log.info("service.stopped", issued=consumer.issued, failed=consumer.failed)


async def main() -> None:
    settings = Settings.from_env()
    logs.configure(settings.log_format, settings.log_level)
    log.info("service.config", **settings.masked())
    stop = asyncio.Event()
    install_stop_signals(stop)
    await run(settings, stop)
