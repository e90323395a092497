"""The file part of an upload: chunks into the session until the end message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from boletos.platform import errors
from boletos.platform.logs import get_logger
from boletos.v1 import ingest_pb2
from ingest_service.api import upload_errors
from ingest_service.domain.upload import Upload
from ingest_service.service.upload_session import UploadSession

log = get_logger("ingest")


async def take_file(
    requests: AsyncIterator[ingest_pb2.UploadRequest],
    session: UploadSession,
    context: grpc.aio.ServicerContext,
    idle_seconds: float,
    deadline_seconds: float,
) -> Upload:
    """The upload as the stream left it: completed, or interrupted when the stream ended
    without its end message. A failure ends the call with the status upload_errors gives it."""
    try:
        return await _deliver(requests, session, idle_seconds, deadline_seconds)
    except upload_errors.FAILURES as failure:
        ended = await _settle(session, failure)
        answer = upload_errors.answer(failure, ended.upload_id, ended.rows)
        await errors.abort(context, answer.code, answer.message, *answer.details)
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


async def _deliver(
    requests: AsyncIterator[ingest_pb2.UploadRequest],
    session: UploadSession,
    idle_seconds: float,
    deadline_seconds: float,
) -> Upload:
    end = await _receive(requests, session, idle_seconds, deadline_seconds)
    if end is None:
        kept = await session.abandon()
        log.warning(
            "upload.interrupted",
            upload_id=kept.upload_id,
            rows=kept.rows,
            reason="stream ended without an end message",
        )
        return kept
    if end.total_bytes != session.bytes_received:
        raise upload_errors.BytesLost(end.total_bytes, session.bytes_received)
    finished = await session.finish()
    log.info(
        "upload.finished",
        upload_id=finished.upload_id,
        rows=finished.rows,
        accepted=finished.accepted,
        duplicates=finished.duplicates,
        conflicts=finished.conflicts,
        rejected=finished.rejected,
    )
    return finished


async def _receive(
    requests: AsyncIterator[ingest_pb2.UploadRequest],
    session: UploadSession,
    idle_seconds: float,
    deadline_seconds: float,
) -> ingest_pb2.UploadEnd | None:
    """Feeds chunks to the session; returns the end message, or None if none came.
    Raises StreamIdle when the client goes quiet for the idle timeout, StreamTooLong when the
    upload outlasts its deadline: a stream held open costs the server a slot and a
    transaction."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_seconds
    while True:
        left = deadline - loop.time()
        wait = min(idle_seconds, left)
        # Not wait_for: on Python 3.11 it reads in a task of its own and, when the client
        # cancels, waits for that read to give up, which grpc's does only when the next
        # message or the timeout comes; an upload stayed RECEIVING until then.
        try:
            async with asyncio.timeout(max(wait, 0)):
                request = await anext(requests, None)
        except TimeoutError:
            if wait < idle_seconds:
                raise upload_errors.StreamTooLong(
                    f"the upload took longer than {deadline_seconds:g}s"
                ) from None
            raise upload_errors.StreamIdle(f"nothing arrived for {idle_seconds:g}s") from None
        if request is None:
            return None
        kind = request.WhichOneof("payload")
        if kind == "chunk":
            await session.feed(request.chunk)
        elif kind == "end":
            return request.end
        else:
            raise upload_errors.HeaderRepeated()


async def _settle(session: UploadSession, failure: Exception) -> Upload:
    """Ends the upload a failure stopped: rejected, or interrupted with its whole rows kept."""
    rejection = upload_errors.rejection(failure)
    logged = upload_errors.row_for(failure).logged
    if rejection:
        rejected = await session.reject(rejection)
        if logged:
            log.warning("upload.rejected", upload_id=rejected.upload_id, reason=str(failure))
        return rejected
    kept = await session.abandon()
    if logged:
        log.warning(
            "upload.interrupted", upload_id=kept.upload_id, rows=kept.rows, reason=str(failure)
        )
    return kept
