"""An ingest service to point the CLI at: the real one when it is built, else a small fake.

The fake speaks the same contract over a real grpc.aio server; it exists so the CLI can be
tested before (or without) the service, and is used only when ``ingest_service.__main__``
cannot be found.
"""

from __future__ import annotations

import asyncio
import csv
import datetime
import importlib.util
import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from boletos.platform.grpc_server import GrpcServer
from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from tests.support.processes import free_port, python_env

REPO_ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["name", "governmentId", "email", "debtAmount", "debtDueDate", "debtId"]
START_TIMEOUT = 30.0


def ingest_service_built() -> bool:
    try:
        return importlib.util.find_spec("ingest_service.__main__") is not None
    except ModuleNotFoundError:
        return False


def wait_serving(
    address: str,
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                break
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    if proc is not None and proc.poll() is not None:
        raise AssertionError(f"the server exited with code {proc.returncode}\n{tail}")
    raise AssertionError(f"nothing SERVING on {address} within {timeout}s\n{tail}")


def stop_process(proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM; past the grace period SIGKILL the process group, workers included."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


# --- the fake -------------------------------------------------------------------------------


@dataclass
class FakeUpload:
    summary: ingest_pb2.UploadSummary
    errors: list[ingest_pb2.RowError] = field(default_factory=list)
    chunks: int = 0


class FakeIngest(ingest_pb2_grpc.IngestServiceServicer):
    """Validates just enough (column count, e-mail, date) to produce each kind of outcome."""

    def __init__(self) -> None:
        self.uploads: dict[str, FakeUpload] = {}

    async def Upload(  # noqa: N802 - gRPC method name
        self,
        request_iterator: AsyncIterator[ingest_pb2.UploadRequest],
        context: grpc.aio.ServicerContext,
    ) -> ingest_pb2.UploadResponse:
        header: ingest_pb2.UploadHeader | None = None
        body = bytearray()
        chunks = 0
        async for request in request_iterator:
            if header is None:
                if not request.HasField("header"):
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "header first")
                header = request.header
                continue
            body += request.chunk
            chunks += 1
        if header is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "empty stream")
        for known in self.uploads.values():
            if (
                header.client_request_id
                and known.summary.client_request_id == header.client_request_id
            ):
                return ingest_pb2.UploadResponse(summary=known.summary)
        lines = body.decode("utf-8").splitlines()
        if not lines or [c.strip() for c in lines[0].split(",")] != COLUMNS:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "missing column(s): " + ",".join(COLUMNS)
            )
        upload = FakeUpload(
            summary=ingest_pb2.UploadSummary(
                upload_id=str(uuid.uuid4()),
                file_name=header.file_name,
                client_request_id=header.client_request_id,
                state=ingest_pb2.UPLOAD_STATE_COMPLETED,
                bytes_received=len(body),
            ),
            chunks=chunks,
        )
        upload.summary.created_at.GetCurrentTime()
        upload.summary.finished_at.GetCurrentTime()
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            upload.summary.rows += 1
            error = _validate(number, line)
            if error is None:
                upload.summary.accepted += 1
            else:
                upload.summary.rejected += 1
                upload.errors.append(error)
        upload.summary.first_errors.extend(upload.errors[:100])
        self.uploads[upload.summary.upload_id] = upload
        return ingest_pb2.UploadResponse(summary=upload.summary)

    async def GetUpload(  # noqa: N802
        self, request: ingest_pb2.GetUploadRequest, context: grpc.aio.ServicerContext
    ) -> ingest_pb2.GetUploadResponse:
        upload = await self._find(request.upload_id, context)
        return ingest_pb2.GetUploadResponse(summary=upload.summary)

    async def ListUploads(  # noqa: N802
        self, request: ingest_pb2.ListUploadsRequest, context: grpc.aio.ServicerContext
    ) -> ingest_pb2.ListUploadsResponse:
        newest_first = [u.summary for u in reversed(self.uploads.values())]
        return ingest_pb2.ListUploadsResponse(uploads=newest_first[: request.page_size or 50])

    async def ListRowErrors(  # noqa: N802
        self, request: ingest_pb2.ListRowErrorsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.ListRowErrorsResponse]:
        upload = await self._find(request.upload_id, context)
        for start in range(0, len(upload.errors), 2):
            yield ingest_pb2.ListRowErrorsResponse(row_errors=upload.errors[start : start + 2])

    async def WatchUpload(  # noqa: N802
        self, request: ingest_pb2.WatchUploadRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.WatchUploadResponse]:
        upload = await self._find(request.upload_id, context)
        summary = upload.summary
        progress = ingest_pb2.UploadProgress(
            upload_id=summary.upload_id,
            state=summary.state,
            rows=summary.rows,
            accepted=summary.accepted,
        )
        # Two snapshots on the way, then settled, so followers see movement.
        for issued in (0, summary.accepted // 2, summary.accepted):
            progress.boletos_issued = issued
            progress.emails_sent = issued
            progress.settled = issued == summary.accepted
            yield ingest_pb2.WatchUploadResponse(progress=progress)
            if progress.settled:
                return
            await asyncio.sleep(0.05)

    async def _find(self, upload_id: str, context: grpc.aio.ServicerContext) -> FakeUpload:
        upload = self.uploads.get(upload_id)
        if upload is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no upload {upload_id}")
        assert upload is not None
        return upload


def _validate(number: int, line: str) -> ingest_pb2.RowError | None:
    values = next(csv.reader(io.StringIO(line)))
    if len(values) != len(COLUMNS):
        return ingest_pb2.RowError(
            line=number,
            code=ingest_pb2.ROW_ERROR_CODE_MALFORMED_ROW,
            message=f"expected {len(COLUMNS)} values, got {len(values)}",
        )
    row = dict(zip(COLUMNS, values, strict=True))
    if "@" not in row["email"]:
        return ingest_pb2.RowError(
            line=number,
            column="email",
            code=ingest_pb2.ROW_ERROR_CODE_EMAIL_INVALID,
            message="not an e-mail address",
        )
    try:
        datetime.date.fromisoformat(row["debtDueDate"])
    except ValueError:
        return ingest_pb2.RowError(
            line=number,
            column="debtDueDate",
            code=ingest_pb2.ROW_ERROR_CODE_DUE_DATE_INVALID,
            message="not a real date",
        )
    return None


class FakeIngestServer:
    """A grpc.aio server on its own thread and loop, so tests can call the CLI synchronously."""

    def __init__(self) -> None:
        self.servicer = FakeIngest()
        self.address = f"127.0.0.1:{free_port()}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: GrpcServer | None = None

    def start(self) -> FakeIngestServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        self._server = GrpcServer(self.address, ["boletos.v1.IngestService"])
        self._server.add(ingest_pb2_grpc.add_IngestServiceServicer_to_server, self.servicer)
        await self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.stop(0), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


# --- fixtures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestEndpoint:
    address: str
    real: bool
    fake: FakeIngest | None = None


@pytest.fixture
def ingest(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IngestEndpoint]:
    if not ingest_service_built():
        server = FakeIngestServer().start()
        try:
            yield IngestEndpoint(server.address, real=False, fake=server.servicer)
        finally:
            server.stop()
        return

    nats = request.getfixturevalue("nats_server")
    address = f"127.0.0.1:{free_port()}"
    log = tmp_path / "ingest.log"
    env = python_env(
        GRPC_LISTEN_ADDR=address,
        DATABASE_URL=f"sqlite:///{tmp_path / 'ingest.db'}",
        NATS_URL=nats.url,
        LOG_FORMAT="console",
    )
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ingest_service"],
            env=env,
            cwd=REPO_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            # Its own process group, so a forced stop also reaches the workers it spawns.
            start_new_session=True,
        )
    try:
        wait_serving(address, START_TIMEOUT, proc, log)
        yield IngestEndpoint(address, real=True)
    finally:
        stop_process(proc)
