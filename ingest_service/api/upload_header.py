"""The opening of an upload: its header message, whom it is for, and whether it repeats one."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import grpc

from boletos.platform import errors
from boletos.platform.access.principal import current as current_principal
from boletos.v1 import ingest_pb2
from ingest_service.domain.beneficiary import BeneficiaryRefused, resolve_beneficiary
from ingest_service.domain.upload import Upload
from ingest_service.store.repository import IngestStore


@dataclass(frozen=True, slots=True)
class Opening:
    header: ingest_pb2.UploadHeader
    beneficiary: str


async def read_opening(
    requests: AsyncIterator[ingest_pb2.UploadRequest],
    context: grpc.aio.ServicerContext,
    idle_seconds: float,
    beneficiaries: Sequence[str],
) -> Opening:
    """The header, which must come first, and the beneficiary this caller may upload for."""
    header = await _header(requests, context, idle_seconds)
    return Opening(header, await _beneficiary(header, beneficiaries, context))


async def earlier_upload(
    store: IngestStore,
    opening: Opening,
    owner: str,
    requests: AsyncIterator[ingest_pb2.UploadRequest],
    context: grpc.aio.ServicerContext,
) -> Upload | None:
    """The completed upload this one sends again (same request id, same file), or None for a
    new upload."""
    request_id = opening.header.client_request_id
    if not request_id:
        return None
    done = await asyncio.to_thread(store.completed_upload_for_request, request_id, owner)
    if done is None:
        return None
    if done.beneficiary != opening.beneficiary:
        await errors.invalid_argument(
            context,
            "header.client_request_id",
            f"client_request_id {request_id!r} was used by upload {done.upload_id} for "
            f"beneficiary {done.beneficiary!r}, not {opening.beneficiary!r}",
            "REQUEST_ID_REUSED",
        )
    await _check_replay(done, requests, context)
    return done


async def _header(
    requests: AsyncIterator[ingest_pb2.UploadRequest],
    context: grpc.aio.ServicerContext,
    idle_seconds: float,
) -> ingest_pb2.UploadHeader:
    try:
        async with asyncio.timeout(idle_seconds):
            first = await anext(requests, None)
    except TimeoutError:
        await errors.abort(
            context,
            grpc.StatusCode.DEADLINE_EXCEEDED,
            f"no header within {idle_seconds:g}s",
            errors.error_info("UPLOAD_IDLE"),
        )
    if first is None or first.WhichOneof("payload") != "header":
        await errors.invalid_argument(
            context,
            "header",
            "the first message of an upload must be its header (file name, request id)",
            "HEADER_FIRST",
        )
    return first.header


async def _beneficiary(
    header: ingest_pb2.UploadHeader,
    beneficiaries: Sequence[str],
    context: grpc.aio.ServicerContext,
) -> str:
    try:
        beneficiary = resolve_beneficiary(header.beneficiary, beneficiaries)
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
    return beneficiary


async def _check_replay(
    done: Upload,
    requests: AsyncIterator[ingest_pb2.UploadRequest],
    context: grpc.aio.ServicerContext,
) -> None:
    """A request id sent again answers with its upload only for the same bytes: the
    file is read (not processed) to compare. A different file under an old id is an
    error, never silently the earlier upload."""
    digest = hashlib.sha256()
    async for request in requests:
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
