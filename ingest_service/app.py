"""Composition root: the ingest service's parts, wired on the shared service runtime."""

from __future__ import annotations

import asyncio

from boletos.platform import runtime
from boletos.platform.logs import get_logger
from boletos.platform.runtime import ServiceRuntime
from boletos.platform.worker_processes import WorkerProcesses
from boletos.v1 import ingest_pb2, ingest_pb2_grpc, keys_pb2, keys_pb2_grpc
from ingest_service.api.keys_servicer import KeyServicer
from ingest_service.api.servicer import IngestServicer
from ingest_service.config import Settings
from ingest_service.messaging.payments_consumer import CONSUMER as PAYMENTS_CONSUMER
from ingest_service.messaging.payments_consumer import payments_consumer
from ingest_service.messaging.progress_consumer import CONSUMERS, progress_consumers
from ingest_service.notifications.wiring import start_notifications
from ingest_service.service.events import upload_completed
from ingest_service.service.prepare import warm_up
from ingest_service.service.receiving import ReceivingKeeper
from ingest_service.store.engine import HISTORY, create_engine
from ingest_service.store.repository import IngestStore

log = get_logger("ingest")

NAME = "ingest_service"
SERVICE_NAME = ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name
KEYS_SERVICE_NAME = keys_pb2.DESCRIPTOR.services_by_name["KeyService"].full_name


async def bootstrap(rt: ServiceRuntime, settings: Settings) -> None:
    engine = rt.engine(create_engine(settings.database_url))
    bulk_engine = rt.engine(create_engine(settings.database_url, bulk=True))
    rt.schema(engine, HISTORY)
    store = IngestStore(engine, upload_completed, bulk_engine)
    js = await rt.jetstream()
    wake_relay = rt.outbox(store.outbox, js)
    assert rt.keys is not None
    keys = rt.keys

    # Validation is pure CPU: worker processes run it beside this process's I/O.
    prepare_pool = WorkerProcesses("ingest-prepare", settings.prepare_workers)
    rt.on_close(prepare_pool.close)
    await prepare_pool.start(warm_up)

    # Through the drain too: the uploads finishing then are still being received.
    stale = settings.receiver_stale_seconds
    rt.run_background(ReceivingKeeper(store, every=stale / 6, stale=stale), "receiving-keeper")
    for consumer in progress_consumers(store, js):
        rt.run_worker(consumer, consumer.spec.durable)
    payments = payments_consumer(store, js)
    rt.run_worker(payments, payments.spec.durable)
    rt.track_lag(js, (*CONSUMERS, PAYMENTS_CONSUMER))
    await start_notifications(rt, store, rt.nats, js, settings.notify)
    rt.grpc(
        (
            SERVICE_NAME,
            ingest_pb2_grpc.add_IngestServiceServicer_to_server,
            IngestServicer(
                store,
                on_commit=wake_relay,
                prepare_pool=prepare_pool,
                block_bytes=settings.block_bytes,
                max_line_bytes=settings.max_line_bytes,
                idle_seconds=settings.idle_seconds,
                deadline_seconds=settings.upload_deadline_seconds,
                max_uploads_per_caller=settings.max_uploads_per_caller,
                beneficiaries=settings.beneficiaries,
                max_row_errors=settings.max_row_errors,
            ),
        ),
        (KEYS_SERVICE_NAME, keys_pb2_grpc.add_KeyServiceServicer_to_server, KeyServicer(keys)),
    )


async def run(settings: Settings, stop: asyncio.Event) -> None:
    await runtime.run_service(settings, stop, NAME, bootstrap)


def main() -> int:
    return runtime.main(NAME, Settings.from_env, bootstrap, HISTORY)
