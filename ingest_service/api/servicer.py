"""boletos.v1.IngestService on grpc.aio."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor

import grpc

from boletos.platform import errors, paging
from boletos.platform.access import interceptor as audit
from boletos.platform.access.principal import caller_id, only_own_uploads
from boletos.platform.access.principal import current as current_principal
from boletos.platform.logs import get_logger
from boletos.platform.text import neutralized
from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from ingest_service.api import convert
from ingest_service.domain.beneficiary import BeneficiaryRefused, resolve_beneficiary
from ingest_service.domain.columns import Rules
from ingest_service.domain.errors import HeaderError
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


class StreamStalled(Exception):
    """The client stopped sending (idle too long) or took longer than an upload may."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(
        self,
        store: IngestStore,
        on_commit: Callable[[], None],
        prepare_pool: Executor,
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
        try:
            async with asyncio.timeout(self._idle_seconds):
                first = await anext(requests, None)
        except TimeoutError:
            await errors.abort(
                context,
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"no header within {self._idle_seconds:g}s",
                errors.error_info("UPLOAD_IDLE"),
            )
        if first is None or first.WhichOneof("payload") != "header":
            await errors.invalid_argument(
                context,
                "header",
                "the first message of an upload must be its header (file name, request id)",
                "HEADER_FIRST",
            )
        header = first.header
        try:
            beneficiary = resolve_beneficiary(header.beneficiary, self._beneficiaries)
        except BeneficiaryRefused as exc:
            await errors.invalid_argument(context, "header.beneficiary", str(exc), exc.reason)
        who = current_principal()
        if who is not None and not who.may_upload_for(beneficiary):
            await errors.abort(
                context,
                grpc.StatusCode.PERMISSION_DENIED,
                f"this key may upload for {', '.join(sorted(who.beneficiaries))} only, not "
                f"{beneficiary!r}",
                errors.error_info("BENEFICIARY_NOT_ALLOWED", beneficiary=beneficiary),
            )
        if header.client_request_id:
            done = await asyncio.to_thread(
                self._store.completed_upload_for_request, header.client_request_id, owner
            )
            if done is not None and done.beneficiary != beneficiary:
                await errors.invalid_argument(
                    context,
                    "header.client_request_id",
                    f"client_request_id {header.client_request_id!r} was used by upload "
                    f"{done.upload_id} for beneficiary {done.beneficiary!r}, not "
                    f"{beneficiary!r}",
                    "REQUEST_ID_REUSED",
                )
            if done is not None:
                await self._check_replay(done, request_iterator, context)
                log.info("upload.replayed", upload_id=done.upload_id)
                audit.note(upload_id=done.upload_id)
                return ingest_pb2.UploadResponse(summary=await self._summary(done))

        upload = await asyncio.to_thread(
            self._store.create_upload,
            shown_file_name(header.file_name),
            header.client_request_id[:128],
            owner,
            beneficiary,
        )
        audit.note(upload_id=upload.upload_id)
        log.info("upload.started", upload_id=upload.upload_id, file_name=upload.file_name)
        session = UploadSession(
            self._store,
            upload,
            self._on_commit,
            self._prepare_pool,
            self._block_bytes,
            self._max_line_bytes,
            Rules.on(self._today()),
            self._max_row_errors,
        )
        try:
            end = await self._receive(requests, session, context)
            if end is None:
                finished = await session.abandon()
                log.warning(
                    "upload.interrupted",
                    upload_id=finished.upload_id,
                    rows=finished.rows,
                    reason="stream ended without an end message",
                )
                return ingest_pb2.UploadResponse(summary=await self._summary(finished))
            if end.total_bytes != session.bytes_received:
                kept = await session.abandon()
                await errors.abort(
                    context,
                    grpc.StatusCode.DATA_LOSS,
                    f"upload {kept.upload_id}: the client sent {end.total_bytes} bytes but "
                    f"{session.bytes_received} arrived; whole rows were kept, send the file again",
                    errors.error_info(
                        "BYTES_LOST",
                        upload_id=kept.upload_id,
                        sent=str(end.total_bytes),
                        received=str(session.bytes_received),
                    ),
                )
            finished = await session.finish()
        except StreamStalled as stalled:
            kept = await session.abandon()
            log.warning(
                "upload.interrupted", upload_id=kept.upload_id, rows=kept.rows, reason=str(stalled)
            )
            await errors.abort(
                context,
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"upload {kept.upload_id}: {stalled}; the {kept.rows} rows received are kept, "
                "send the file again to complete it",
                errors.error_info(stalled.reason, upload_id=kept.upload_id),
            )
        except HeaderError as exc:
            rejected = await session.reject(f"bad header: {exc}")
            log.warning("upload.rejected", upload_id=upload.upload_id, reason=str(exc))
            await errors.abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"upload {rejected.upload_id} refused, bad header: {exc}",
                errors.error_info("BAD_HEADER", upload_id=rejected.upload_id),
                errors.bad_request("csv header", str(exc)),
            )
        except asyncio.CancelledError:
            # The client went away mid-file: keep every whole row received.
            kept = await asyncio.shield(session.abandon())
            log.warning(
                "upload.interrupted",
                upload_id=kept.upload_id,
                rows=kept.rows,
                reason="client cancelled or connection lost",
            )
            raise
        log.info(
            "upload.finished",
            upload_id=finished.upload_id,
            rows=finished.rows,
            accepted=finished.accepted,
            duplicates=finished.duplicates,
            conflicts=finished.conflicts,
            rejected=finished.rejected,
        )
        return ingest_pb2.UploadResponse(summary=await self._summary(finished))

    async def _check_replay(
        self,
        done: UploadRecord,
        request_iterator: AsyncIterator[ingest_pb2.UploadRequest],
        context: grpc.aio.ServicerContext,
    ) -> None:
        """A request id sent again answers with its upload only for the same bytes: the
        file is read (not processed) to compare. A different file under an old id is an
        error, never silently the earlier upload."""
        digest = hashlib.sha256()
        async for request in request_iterator:
            if request.WhichOneof("payload") == "chunk":
                digest.update(request.chunk)
        if done.content_sha256 and digest.hexdigest() != done.content_sha256:
            await errors.failed_precondition(
                context,
                "REQUEST_ID_REUSED",
                f"upload/{done.upload_id}",
                f"client_request_id {done.client_request_id!r} was used by upload "
                f"{done.upload_id} for a different file; use a new id for a new file",
                upload_id=done.upload_id,
            )

    async def _receive(
        self,
        request_iterator: AsyncIterator[ingest_pb2.UploadRequest],
        session: UploadSession,
        context: grpc.aio.ServicerContext,
    ) -> ingest_pb2.UploadEnd | None:
        """Feeds chunks to the session; returns the end message, or None if none came.
        Raises StreamStalled when the client goes quiet for the idle timeout, or the upload
        outlasts its deadline: a stream held open costs the server a slot and a transaction."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._deadline_seconds
        while True:
            left = deadline - loop.time()
            wait = min(self._idle_seconds, left)
            # Not wait_for: on Python 3.11 it reads in a task of its own and, when the client
            # cancels, waits for that read to give up, which grpc's does only when the next
            # message or the timeout comes; an upload stayed RECEIVING until then.
            try:
                async with asyncio.timeout(max(wait, 0)):
                    request = await anext(request_iterator, None)
            except TimeoutError:
                if wait < self._idle_seconds:
                    raise StreamStalled(
                        "UPLOAD_TOO_LONG",
                        f"the upload took longer than {self._deadline_seconds:g}s",
                    ) from None
                raise StreamStalled(
                    "UPLOAD_IDLE", f"nothing arrived for {self._idle_seconds:g}s"
                ) from None
            if request is None:
                return None
            kind = request.WhichOneof("payload")
            if kind == "chunk":
                await session.feed(request.chunk)
            elif kind == "end":
                return request.end
            else:
                await session.abandon()
                await errors.invalid_argument(
                    context,
                    "header",
                    "after the header an upload carries only chunks, then one end message",
                    "HEADER_REPEATED",
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
