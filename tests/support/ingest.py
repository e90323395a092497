"""Runs the real ingest service in-process against real NATS and a real database, and
talks to it over gRPC like any client."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TypedDict, Unpack

import grpc
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from boletos.platform.nats_streams import SUBJECT_DEBTS_IMPORTED
from boletos.v1 import events_pb2, ingest_pb2, ingest_pb2_grpc
from ingest_service.app import run
from ingest_service.config import Settings
from tests.support.running import running_service


@dataclass
class RunningIngest:
    address: str
    stub: ingest_pb2_grpc.IngestServiceStub
    channel: grpc.aio.Channel
    settings: Settings


@contextlib.asynccontextmanager
async def running_ingest(
    database_url: str, nats_url: str, **env: str
) -> AsyncIterator[RunningIngest]:
    async with running_service(run, Settings.from_env, database_url, nats_url, env) as (
        address,
        channel,
        settings,
    ):
        yield RunningIngest(address, ingest_pb2_grpc.IngestServiceStub(channel), channel, settings)


def requests(
    data: bytes,
    chunk_size: int = 65536,
    file_name: str = "debts.csv",
    request_id: str = "",
    end: bool = True,
    beneficiary: str = "",
) -> list[ingest_pb2.UploadRequest]:
    header = ingest_pb2.UploadHeader(
        file_name=file_name, client_request_id=request_id, beneficiary=beneficiary
    )
    out = [ingest_pb2.UploadRequest(header=header)]
    out += [
        ingest_pb2.UploadRequest(chunk=data[i : i + chunk_size])
        for i in range(0, len(data), chunk_size)
    ]
    if end:
        out.append(ingest_pb2.UploadRequest(end=ingest_pb2.UploadEnd(total_bytes=len(data))))
    return out


class RequestOptions(TypedDict, total=False):
    """The keyword arguments of `requests`, for callers that pass them through."""

    chunk_size: int
    file_name: str
    request_id: str
    end: bool
    beneficiary: str


async def upload(
    stub: ingest_pb2_grpc.IngestServiceStub, data: bytes, **kwargs: Unpack[RequestOptions]
) -> ingest_pb2.UploadSummary:
    async def stream() -> AsyncIterator[ingest_pb2.UploadRequest]:
        for request in requests(data, **kwargs):
            yield request

    response = await stub.Upload(stream())
    return response.summary


async def imported_debts(
    nats_url: str, expected: int, within: float = 30
) -> list[events_pb2.ImportedDebt]:
    """Every debt announced on the INGEST stream, read by a fresh consumer; waits until at
    least `expected` arrived, then drains whatever else is there."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            "ingest.debts.imported",
            durable=f"test-{uuid.uuid4().hex[:8]}",
            stream="INGEST",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        debts: list[events_pb2.ImportedDebt] = []
        deadline = asyncio.get_running_loop().time() + within
        while True:
            try:
                msgs = await sub.fetch(100, timeout=0.5)
            except (nats.errors.TimeoutError, TimeoutError):
                if len(debts) >= expected or asyncio.get_running_loop().time() > deadline:
                    return debts
                continue
            for msg in msgs:
                debts.extend(events_pb2.DebtsImported.FromString(msg.data).debts)
                await msg.ack()
    finally:
        await nc.close()


async def stream_message_count(
    nats_url: str, stream: str = "INGEST", subject: str = SUBJECT_DEBTS_IMPORTED
) -> int:
    """Messages on one subject of the stream (DebtsImported by default: the stream also
    carries an UploadCompleted per settled upload)."""
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(stream, subjects_filter=subject)
        return (info.state.subjects or {}).get(subject, 0)
    finally:
        await nc.close()


async def settled(
    stub: ingest_pb2_grpc.IngestServiceStub, upload_id: str, within: float = 90
) -> ingest_pb2.UploadProgress:
    """Follows WatchUpload until every debt of the upload has settled; its last progress."""
    async with asyncio.timeout(within):
        last = None
        async for response in stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=upload_id)):
            last = response.progress
            if last.settled:
                return last
    raise AssertionError(f"never settled: {last}")
