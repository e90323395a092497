"""boletos.v1.IngestService on grpc.aio."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable, Sequence

import grpc

from boletos.platform import errors, paging
from boletos.platform.access import interceptor as audit
from boletos.platform.access.principal import caller_id, only_own_uploads
from boletos.platform.logs import get_logger
from boletos.platform.text import neutralized
from boletos.platform.worker_processes import WorkerProcesses
from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from ingest_service.api import convert, upload_header, upload_stream
from ingest_service.domain.columns import Rules
from ingest_service.domain.upload import Upload as UploadRecord
from ingest_service.service.block_writer import DEFAULT_MAX_ROW_ERRORS
from ingest_service.service.upload_session import UploadSession
from ingest_service.store.repository import IngestStore

log = get_logger("ingest")

SUMMARY_ERRORS = 100
WATCH_POLL_SECONDS = 0.5
UPLOADS_PAGE = paging.Paging(default=50, most=500, largest_key=paging.INTEGER_KEYS)
SERVICE = "/boletos.v1.IngestService/"
FILE_NAME_MAX_CHARS = 512


# A file name is shown in log lines, in `boletos status` and in notifications.
def shown_file_name(raw: str) -> str:
    """The client's file name as stored: each character that would act instead of showing
    becomes U+FFFD, so a reader still sees that something was there."""
    return neutralized(raw[:FILE_NAME_MAX_CHARS])


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(
        self,
        store: IngestStore,
        on_commit: Callable[[], None],
        prepare_pool: WorkerProcesses,
        block_bytes: int,
        max_line_bytes: int,
        idle_seconds: float,
        deadline_seconds: float,
        max_uploads_per_caller: int,
        today: Callable[[], dt.date] = dt.date.today,
        beneficiaries: Sequence[str] = (),
        max_row_errors: int = DEFAULT_MAX_ROW_ERRORS,
    ) -> None:
        self._store = store
        self._on_commit = on_commit
        self._prepare_pool = prepare_pool
        self._block_bytes = block_bytes
        self._max_line_bytes = max_line_bytes
        self._today = today
        self._idle_seconds = idle_seconds
        self._deadline_seconds = deadline_seconds
        self._max_uploads_per_caller = max_uploads_per_caller
        self._beneficiaries = tuple(beneficiaries)
        self._max_row_errors = max_row_errors
        # Streams each credential has open on this process.
        self._open_uploads: dict[str, int] = {}

    async def Upload(
        self,
        request_iterator: AsyncIterator[ingest_pb2.UploadRequest],
        context: grpc.aio.ServicerContext,
    ) -> ingest_pb2.UploadResponse:
        owner = caller_id()
        if self._open_uploads.get(owner, 0) >= self._max_uploads_per_caller:
            await errors.abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"this credential already has {self._max_uploads_per_caller} uploads in "
                "progress here; wait for one to finish",
                errors.error_info("TOO_MANY_UPLOADS", limit=str(self._max_uploads_per_caller)),
            )
        self._open_uploads[owner] = self._open_uploads.get(owner, 0) + 1
        try:
            return await self._upload(request_iterator, context, owner)
        finally:
            self._open_uploads[owner] -= 1
            if not self._open_uploads[owner]:
                del self._open_uploads[owner]

    async def _upload(
        self,
        request_iterator: AsyncIterator[ingest_pb2.UploadRequest],
        context: grpc.aio.ServicerContext,
        owner: str,
    ) -> ingest_pb2.UploadResponse:
        requests = aiter(request_iterator)
        opening = await upload_header.read_opening(
            requests, context, self._idle_seconds, self._beneficiaries
        )
        earlier = await upload_header.earlier_upload(
            self._store, opening, owner, request_iterator, context
        )
        if earlier is not None:
            log.info("upload.replayed", upload_id=earlier.upload_id)
            audit.note(upload_id=earlier.upload_id)
            return ingest_pb2.UploadResponse(summary=await self._summary(earlier))
        session = await self._open_session(opening, owner)
        ended = await upload_stream.take_file(
            requests, session, context, self._idle_seconds, self._deadline_seconds
        )
        return ingest_pb2.UploadResponse(summary=await self._summary(ended))

    async def _open_session(self, opening: upload_header.Opening, owner: str) -> UploadSession:
        upload = await asyncio.to_thread(
            self._store.create_upload,
            shown_file_name(opening.header.file_name),
            opening.header.client_request_id[:128],
            owner,
            opening.beneficiary,
        )
        audit.note(upload_id=upload.upload_id)
        log.info("upload.started", upload_id=upload.upload_id, file_name=upload.file_name)
        return UploadSession(
            self._store,
            upload,
            self._on_commit,
            self._prepare_pool,
            self._block_bytes,
            self._max_line_bytes,
            Rules.on(self._today()),
            self._max_row_errors,
        )

    async def GetUpload(
        self, request: ingest_pb2.GetUploadRequest, context: grpc.aio.ServicerContext
    ) -> ingest_pb2.GetUploadResponse:
        upload = await self._find(request.upload_id, context, "GetUpload")
        return ingest_pb2.GetUploadResponse(summary=await self._summary(upload))

    async def ListUploads(
        self, request: ingest_pb2.ListUploadsRequest, context: grpc.aio.ServicerContext
    ) -> ingest_pb2.ListUploadsResponse:
        wanted = await paging.read(request, context, UPLOADS_PAGE)
        owner = only_own_uploads(SERVICE + "ListUploads")
        rows = await asyncio.to_thread(
            self._store.list_uploads, wanted.fetch, wanted.cursor, owner, request.beneficiary
        )
        page, next_token = wanted.cut(rows, lambda u: u.upload_no)
        return ingest_pb2.ListUploadsResponse(
            uploads=[convert.summary(u, []) for u in page], next_page_token=next_token
        )

    async def ListRowErrors(
        self, request: ingest_pb2.ListRowErrorsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.ListRowErrorsResponse]:
        upload = await self._find(request.upload_id, context, "ListRowErrors")
        batches = self._store.iter_row_errors(upload.upload_no)
        while True:
            batch = await asyncio.to_thread(next, batches, None)
            if batch is None:
                return
            yield ingest_pb2.ListRowErrorsResponse(row_errors=[convert.row_error(e) for e in batch])

    async def GetUploadReport(
        self, request: ingest_pb2.GetUploadReportRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.GetUploadReportResponse]:
        upload = await self._find(request.upload_id, context, "GetUploadReport")
        batches = self._store.iter_report(upload.upload_no)
        while True:
            batch = await asyncio.to_thread(next, batches, None)
            if batch is None:
                return
            yield ingest_pb2.GetUploadReportResponse(lines=[convert.report_line(r) for r in batch])

    async def WatchUpload(
        self, request: ingest_pb2.WatchUploadRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.WatchUploadResponse]:
        upload = await self._find(request.upload_id, context, "WatchUpload")
        last = None
        while True:
            progress = convert.progress(upload)
            if progress != last:
                yield ingest_pb2.WatchUploadResponse(progress=progress)
                last = progress
            if progress.settled:
                return
            await asyncio.sleep(WATCH_POLL_SECONDS)
            fresh = await asyncio.to_thread(self._store.get_upload, upload.upload_id)
            assert fresh is not None
            upload = fresh

    async def _find(self, raw_id: str, context: grpc.aio.ServicerContext, rpc: str) -> UploadRecord:
        """The upload, or NOT_FOUND: also for an uploader asking about another's upload,
        so that upload ids cannot be probed."""
        try:
            upload_id = str(uuid.UUID(raw_id))
        except ValueError:
            await errors.invalid_argument(
                context, "upload_id", "not an upload id (a UUID)", "INVALID_ID"
            )
        upload = await asyncio.to_thread(self._store.get_upload, upload_id)
        owner = only_own_uploads(SERVICE + rpc)
        if upload is None or (owner is not None and upload.owner != owner):
            await errors.not_found(
                context, "upload", upload_id, f"no upload {upload_id}", "UPLOAD_NOT_FOUND"
            )
        return upload

    async def _summary(self, upload: UploadRecord) -> ingest_pb2.UploadSummary:
        errors = await asyncio.to_thread(self._store.first_errors, upload.upload_no, SUMMARY_ERRORS)
        return convert.summary(upload, errors)
