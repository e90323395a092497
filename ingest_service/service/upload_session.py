"""Runs one upload: chunks in, blocks validated on one thread and stored on another.

Validation of block n+1 (in a worker process, see prepare.py) overlaps the database write
of block n; at most a few blocks are in flight, so memory stays flat however large the
file is. Block work and the closing of the upload run as tasks of their own, shielded from
the cancellation a broken stream brings, so whatever was received is still stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from opentelemetry import context as otel_context
from prometheus_client import Counter

from boletos.platform.worker_processes import WorkerProcesses
from ingest_service.domain.columns import Rules
from ingest_service.domain.errors import HeaderError
from ingest_service.domain.header import parse_header
from ingest_service.domain.lines import Item, LineAssembler
from ingest_service.domain.upload import Upload, UploadState
from ingest_service.service.block_writer import DEFAULT_MAX_ROW_ERRORS, BlockWriter
from ingest_service.service.ports import UploadLedger
from ingest_service.service.prepare import prepare

MAX_WRITES_IN_FLIGHT = 2
# Rows written are committed at least this often (see BlockWriter).
COMMIT_SECONDS = 1.0

ROWS = Counter(
    "boletos_ingest_rows_total", "Rows of finished uploads, by what became of each.", ["outcome"]
)
UPLOADS = Counter("boletos_ingest_uploads_total", "Uploads, by the state they ended in.", ["state"])
# Every series exists from the start, at zero, so rates see the first upload too.
for _outcome in ("accepted", "duplicate", "conflict", "rejected"):
    ROWS.labels(_outcome)
for _state in (UploadState.COMPLETED, UploadState.INTERRUPTED, UploadState.REJECTED):
    UPLOADS.labels(_state.name.lower())


def count_finished(upload: Upload) -> None:
    ROWS.labels("accepted").inc(upload.accepted)
    ROWS.labels("duplicate").inc(upload.duplicates)
    ROWS.labels("conflict").inc(upload.conflicts)
    ROWS.labels("rejected").inc(upload.rejected)
    UPLOADS.labels(upload.state.name.lower()).inc()


class UploadSession:
    def __init__(
        self,
        store: UploadLedger,
        upload: Upload,
        on_commit: Callable[[], None],
        prepare_pool: WorkerProcesses,
        block_bytes: int,
        max_line_bytes: int,
        rules: Rules,
        max_row_errors: int = DEFAULT_MAX_ROW_ERRORS,
    ) -> None:
        self.upload = upload
        self._rules = rules
        self._store = store
        self._assembler = LineAssembler(block_bytes=block_bytes, max_line_bytes=max_line_bytes)
        self._max_line = max_line_bytes
        self._header: bytes | None = None
        self._writer = BlockWriter(store, upload, on_commit, COMMIT_SECONDS, max_row_errors)
        self._prepare_pool = prepare_pool
        # The write thread works in the Upload call's trace context, which executors do not
        # pass on by themselves: the events it stores continue that trace.
        self._write_pool = ThreadPoolExecutor(
            1,
            thread_name_prefix="write",
            initializer=otel_context.attach,
            initargs=(otel_context.get_current(),),
        )
        self._writes: deque[asyncio.Future[None]] = deque()
        self._processing: asyncio.Future[None] | None = None
        self._closing: asyncio.Future[Upload] | None = None
        self._digest = hashlib.sha256()
        self._ticker: asyncio.Task[None] | None = None

    @property
    def bytes_received(self) -> int:
        return self._assembler.bytes_received

    async def feed(self, chunk: bytes) -> None:
        """Raises HeaderError when the header arrives and is unusable."""
        self._digest.update(chunk)
        for item in self._assembler.feed(chunk):
            await self._submit(item)
        if self._header is None and self._assembler.header is not None:
            self._start_rows()

    def finish(self) -> Awaitable[Upload]:
        """Completes the upload after its end message; runs to the end even if cancelled."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._finish())
        return asyncio.shield(self._closing)

    def abandon(self) -> Awaitable[Upload]:
        """The stream broke: keep every whole line received, mark the upload interrupted."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._abandon())
        return asyncio.shield(self._closing)

    async def _finish(self) -> Upload:
        await self._settle()
        items = self._assembler.finish()
        if self._header is None:
            self._start_rows()  # raises HeaderError for an empty file or a bad header
        for item in items:
            await self._submit(item)
        await self._drain()
        return await self._close(UploadState.COMPLETED, digest=self._digest.hexdigest())

    async def _abandon(self) -> Upload:
        try:
            await self._settle()
            if self._header is not None:
                for item in self._assembler.abandon():
                    await self._submit(item)
            await self._drain()
        finally:
            upload = await self._close(UploadState.INTERRUPTED)
        return upload

    async def reject(self, reason: str) -> Upload:
        await self._settle()
        await self._drain()
        return await self._close(UploadState.REJECTED, reason)

    def _start_rows(self) -> None:
        header = self._assembler.header
        if header is None:
            raise HeaderError(
                "the file is empty; expected a header line: "
                "name,governmentId,email,debtAmount,debtDueDate,debtId"
            )
        parse_header(header)  # refuse a bad header here, once, not in every block
        self._header = header

    async def _submit(self, item: Item) -> None:
        self._processing = asyncio.ensure_future(self._process(item))
        await asyncio.shield(self._processing)

    async def _settle(self) -> None:
        """Waits for the block a cancelled feed() left in flight."""
        if self._processing is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._processing

    async def _process(self, item: Item) -> None:
        if self._header is None:
            self._start_rows()
        assert self._header is not None
        validated = await self._prepare_pool.run(
            prepare, self._header, item, self._max_line, self._rules
        )
        loop = asyncio.get_running_loop()
        while len(self._writes) >= MAX_WRITES_IN_FLIGHT:
            await self._writes.popleft()
        received = self._assembler.bytes_received
        self._writes.append(
            loop.run_in_executor(self._write_pool, self._writer.write, validated, received)
        )
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name="upload-commit-ticker")

    async def _tick(self) -> None:
        """Commits on time when blocks stop coming (a slow or stalled client), on the write
        thread, so commits and writes never overlap."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(COMMIT_SECONDS / 2)
            await loop.run_in_executor(self._write_pool, self._writer.commit_if_due)

    async def _drain(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        while self._writes:
            await self._writes.popleft()
        await asyncio.get_running_loop().run_in_executor(self._write_pool, self._writer.commit)

    async def _close(self, state: UploadState, reason: str = "", digest: str = "") -> Upload:
        self._write_pool.shutdown(wait=False)
        await asyncio.to_thread(
            self._store.finish_upload, self.upload.upload_no, state, reason, digest
        )
        upload = await asyncio.to_thread(self._store.get_upload, self.upload.upload_id)
        assert upload is not None
        count_finished(upload)
        return upload
