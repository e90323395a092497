"""Composition root: wires store, NATS, relay, consumers and the gRPC server, then runs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from boletos.platform import logs, metrics, nats_streams
from boletos.platform.grpc_server import GrpcServer, install_stop_signals
from boletos.platform.outbox import OutboxRelay
from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from ingest_service.api.servicer import IngestServicer
from ingest_service.config import Settings
from ingest_service.messaging.progress_consumer import CONSUMERS, ProgressConsumer
from ingest_service.notifications.wiring import start_notifications
from ingest_service.service.prepare import exit_with_parent, warm_up
from ingest_service.store.engine import create_engine, create_schema
from ingest_service.store.repository import IngestStore

log = logs.get_logger("ingest")

SERVICE_NAME = ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name


async def run(settings: Settings, stop: asyncio.Event) -> None:
    engine = create_engine(settings.database_url)
    bulk_engine = create_engine(settings.database_url, bulk=True)
    create_schema(engine)
    store = IngestStore(engine, bulk_engine)

    nc = await nats_streams.connect(settings.nats_url, name="ingest_service")
    js = nc.jetstream()
    await nats_streams.ensure_streams(js)
    retention = dt.timedelta(hours=settings.outbox_retention_hours)
    relay = OutboxRelay(store.outbox, js, retention=retention)
    loop = asyncio.get_running_loop()
    # Validation is pure CPU: worker processes run it beside this process's I/O.
    prepare_pool = ProcessPoolExecutor(
        settings.prepare_workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )
    await asyncio.gather(
        *(loop.run_in_executor(prepare_pool, warm_up) for _ in range(settings.prepare_workers))
    )

    server = GrpcServer(settings.grpc_listen_addr, [SERVICE_NAME], [metrics.RpcMetrics()])
    server.add(
        ingest_pb2_grpc.add_IngestServiceServicer_to_server,
        IngestServicer(
            store,
            on_commit=lambda: loop.call_soon_threadsafe(relay.wake),
            prepare_pool=prepare_pool,
            block_bytes=settings.block_bytes,
            max_line_bytes=settings.max_line_bytes,
        ),
    )
    tasks = [
        asyncio.create_task(relay.run(), name="outbox-relay"),
        asyncio.create_task(ProgressConsumer(store, js).run(), name="progress"),
        asyncio.create_task(metrics.track_consumer_lag(js, CONSUMERS), name="consumer-lag"),
        *await start_notifications(store, nc, js, settings.notify),
    ]
    endpoint = metrics.MetricsEndpoint(settings.metrics_addr) if settings.metrics_addr else None
    await server.start()
    log.info("service.started", listen=settings.grpc_listen_addr, port=server.port)
    try:
        await stop.wait()
    finally:
        log.info("service.stopping", grace_seconds=settings.shutdown_grace_seconds)
        await server.stop(settings.shutdown_grace_seconds)
        # Whatever the last uploads committed goes out before the connection closes.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(relay.publish_pending(), 10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Every publish was acknowledged already; draining would wait on idle pull consumers.
        await nc.close()
        prepare_pool.shutdown()
        engine.dispose()
        bulk_engine.dispose()
        if endpoint is not None:
            await endpoint.close()
        log.info("service.stopped")


async def main() -> None:
    settings = Settings.from_env()
    logs.configure(settings.log_format, settings.log_level)
    log.info("service.config", **settings.masked())
    stop = asyncio.Event()
    install_stop_signals(stop)
    await run(settings, stop)
