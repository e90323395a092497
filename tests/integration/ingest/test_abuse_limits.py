"""Streams that hold the server without finishing: a client that goes quiet, and one that
keeps trickling past the upload deadline. Each ends on its own, INTERRUPTED, with its whole
rows kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from boletos.platform.errors import details_of
from boletos.v1 import ingest_pb2
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import requests, running_ingest


async def _stalled_upload(
    data: bytes, then_wait: float, trickle: float = 0.0
) -> AsyncIterator[ingest_pb2.UploadRequest]:
    for request in requests(data, end=False):
        yield request
    loop = asyncio.get_running_loop()
    until = loop.time() + then_wait
    while loop.time() < until:
        await asyncio.sleep(trickle or then_wait)
        if trickle:
            yield ingest_pb2.UploadRequest(chunk=b"")


def _lost_to_a_late_write(error: grpc.aio.AioRpcError) -> bool:
    """grpc's asyncio client replaces the server's status with its own INTERNAL when one of
    its writes fails because the server has just ended the call (grpc/grpc#36066, fix
    proposed in grpc/grpc#43486): the trickling client here can be writing at that moment.
    The server's side of the outcome is checked through the upload itself then."""
    return error.code() == grpc.StatusCode.INTERNAL and "execute_batch" in (
        error.debug_error_string() or ""
    )


@pytest.mark.parametrize(
    ("env", "trickle", "reason"),
    [
        ({"INGEST_IDLE_TIMEOUT_SECONDS": "1"}, 0.0, "UPLOAD_IDLE"),
        (
            {"INGEST_IDLE_TIMEOUT_SECONDS": "5", "INGEST_UPLOAD_DEADLINE_SECONDS": "2"},
            0.3,
            "UPLOAD_TOO_LONG",
        ),
    ],
    ids=["idle", "past the deadline"],
)
async def test_a_stream_that_will_not_finish_is_ended_and_keeps_its_rows(
    database_url, nats_server, env, trickle, reason
):
    data = csv_bytes(valid_rows(7, seed=41))
    async with running_ingest(database_url, nats_server.url, **env) as svc:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await svc.stub.Upload(_stalled_upload(data, then_wait=30, trickle=trickle))
        took = loop.time() - started
        assert took < 10, took
        if _lost_to_a_late_write(ended.value):
            listed = await svc.stub.ListUploads(ingest_pb2.ListUploadsRequest())
            upload_id = listed.uploads[0].upload_id
        else:
            assert ended.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            (info,) = details_of(ended.value)
            assert info.reason == reason  # type: ignore[attr-defined]
            upload_id = info.metadata["upload_id"]  # type: ignore[attr-defined]
        got = await svc.stub.GetUpload(ingest_pb2.GetUploadRequest(upload_id=upload_id))
        assert got.summary.state == ingest_pb2.UPLOAD_STATE_INTERRUPTED
        assert got.summary.accepted == 7
