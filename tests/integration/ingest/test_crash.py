"""The ingest process killed outright mid-stream: what it had received a second earlier is
durable, the upload does not stay RECEIVING for ever, and sending the file again completes
it with nothing announced twice. A validation worker killed outright is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from tests.integration.conftest import wait_serving
from tests.support import access
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import imported_debts, running_ingest, stream_message_count, upload
from tests.support.processes import free_port, python_env, spawned_workers

BLOCK = 4096


@contextmanager
def ingest_process(tmp_path: Path, nats_url: str, database_url: str) -> Iterator[tuple]:
    address = f"127.0.0.1:{free_port()}"
    log = (tmp_path / f"ingest-{address.rsplit(':')[1]}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest_service"],
        env=python_env(
            GRPC_LISTEN_ADDR=address,
            DATABASE_URL=database_url,
            NATS_URL=nats_url,
            LOG_FORMAT="console",
            INGEST_BLOCK_BYTES=str(BLOCK),
            INGEST_RECEIVER_STALE_SECONDS="2",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_serving(address, 30, proc, Path(log.name))
        yield proc, address
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        log.close()


async def test_kill_9_mid_stream_keeps_what_was_received_and_a_resend_completes_it(
    tmp_path: Path, nats_server, database_url
) -> None:
    rows = valid_rows(300, seed=8)
    data = csv_bytes(rows)
    first_part = data[: 3 * BLOCK + 100]  # rows, then half a row
    sent_everything = asyncio.Event()

    async def stalled_stream() -> AsyncIterator[ingest_pb2.UploadRequest]:
        yield ingest_pb2.UploadRequest(header=ingest_pb2.UploadHeader(file_name="debts.csv"))
        yield ingest_pb2.UploadRequest(chunk=first_part)
        sent_everything.set()
        await asyncio.sleep(3600)  # the client waits; the server is killed meanwhile

    with ingest_process(tmp_path, nats_server.url, database_url) as (proc, address):
        async with access.channel(address) as channel:
            stub = ingest_pb2_grpc.IngestServiceStub(channel)
            call = stub.Upload(stalled_stream())
            await sent_everything.wait()
            # Longer than the commit interval: the blocks received are committed by now.
            await asyncio.sleep(2.5)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            call.cancel()

    with ingest_process(tmp_path, nats_server.url, database_url) as (_proc, address):
        async with access.channel(address) as channel:
            stub = ingest_pb2_grpc.IngestServiceStub(channel)
            listed = (await stub.ListUploads(ingest_pb2.ListUploadsRequest())).uploads
            assert len(listed) == 1
            upload_id = listed[0].upload_id
            deadline = time.monotonic() + 30
            while True:
                got = await stub.GetUpload(ingest_pb2.GetUploadRequest(upload_id=upload_id))
                if got.summary.state == ingest_pb2.UPLOAD_STATE_INTERRUPTED:
                    break
                assert got.summary.state == ingest_pb2.UPLOAD_STATE_RECEIVING
                assert time.monotonic() < deadline, "the dead process's upload stays receiving"
                await asyncio.sleep(0.5)
            kept = got.summary.accepted
            # Every whole row received, not one fewer; only the half row is gone.
            assert kept == first_part.count(b"\n") - 1 > 0
            announced = await imported_debts(nats_server.url, expected=kept)
            assert len(announced) == kept

            again = await upload(stub, data)
            assert (again.accepted, again.duplicates) == (300 - kept, kept)
            # While the process runs: its outbox relay publishes what the upload stored.
            debts = await imported_debts(nats_server.url, expected=300)
    assert sorted(d.debt_id for d in debts) == sorted(r.debt_id for r in rows)
    assert await stream_message_count(nats_server.url) >= 1


async def test_a_killed_validation_worker_is_replaced_and_the_next_upload_whole(
    database_url, nats_server
):
    rows = valid_rows(1500, seed=54)
    async with running_ingest(database_url, nats_server.url) as svc:
        [worker] = spawned_workers()
        os.kill(worker, signal.SIGKILL)

        summary = await upload(svc.stub, csv_bytes(rows))
        assert (summary.state, summary.accepted) == (ingest_pb2.UPLOAD_STATE_COMPLETED, 1500)
        debts = await imported_debts(nats_server.url, expected=1500)
        assert sorted(d.debt_id for d in debts) == sorted(r.debt_id for r in rows)
        assert len(spawned_workers()) == 1
