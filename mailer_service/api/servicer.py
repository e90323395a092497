"""boletos.v1.MailerService on grpc.aio."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, cast

import grpc

from boletos.platform import errors, paging
from boletos.platform.logs import mask_email
from boletos.v1 import mailer_pb2, mailer_pb2_grpc
from mailer_service.domain.delivery import DeliveryKind, DeliveryRecord
from mailer_service.store.deliveries import DeliveryStore

DELIVERIES_PAGE = paging.Paging(default=100, most=1000)


def to_message(r: DeliveryRecord) -> mailer_pb2.Delivery:
    message = mailer_pb2.Delivery(
        debt_id=r.debt_id,
        upload_id=r.upload_id,
        status=cast(Any, int(r.status)),  # the numbers mirror boletos.v1.DeliveryStatus
        recipient=mask_email(r.email),
        message_id=r.message_id,
        attempts=r.attempts,
        last_error=r.last_error,
        smtp_code=r.smtp_code,
        line=r.line,
        kind=cast(Any, int(r.kind)),  # the numbers mirror boletos.v1.DeliveryKind
    )
    message.updated_at.FromDatetime(r.updated_at)
    return message


class MailerServicer(mailer_pb2_grpc.MailerServiceServicer):
    def __init__(self, store: DeliveryStore, on_requeue: Callable[[], None]) -> None:
        self._store = store
        self._on_requeue = on_requeue

    async def GetDelivery(
        self, request: mailer_pb2.GetDeliveryRequest, context: grpc.aio.ServicerContext
    ) -> mailer_pb2.GetDeliveryResponse:
        debt_id = await _uuid(request.debt_id, "debt_id", context)
        kind = await _kind(request.kind, context)
        record = await asyncio.to_thread(self._store.get, debt_id, kind)
        if record is None:
            why = (
                "its boleto has not reached the mailer"
                if kind == DeliveryKind.BOLETO
                else "none was due, or it was dropped because the boleto was settled first"
            )
            await errors.not_found(
                context,
                "debt",
                debt_id,
                f"no {kind.label} delivery for debt {debt_id} ({why})",
                "DELIVERY_NOT_FOUND",
            )
        return mailer_pb2.GetDeliveryResponse(delivery=to_message(record))

    async def ListDeliveries(
        self, request: mailer_pb2.ListDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> mailer_pb2.ListDeliveriesResponse:
        wanted = await paging.read(request, context, DELIVERIES_PAGE)
        upload_id = await self._known_upload(request.upload_id, context)
        kind = await _kind(request.kind, context)
        rows = await asyncio.to_thread(
            self._store.list_for_upload,
            upload_id,
            request.status,
            wanted.cursor or 0,
            wanted.fetch,
            kind,
        )
        page, next_token = wanted.cut(rows, lambda r: r.line)
        return mailer_pb2.ListDeliveriesResponse(
            deliveries=[to_message(r) for r in page], next_page_token=next_token
        )

    async def RetryFailed(
        self, request: mailer_pb2.RetryFailedRequest, context: grpc.aio.ServicerContext
    ) -> mailer_pb2.RetryFailedResponse:
        upload_id = await self._known_upload(request.upload_id, context)
        requeued = await asyncio.to_thread(
            self._store.retry_failed, upload_id, request.include_uncertain
        )
        if requeued:
            self._on_requeue()
        return mailer_pb2.RetryFailedResponse(requeued=requeued)

    async def _known_upload(self, raw: str, context: grpc.aio.ServicerContext) -> str:
        upload_id = await _uuid(raw, "upload_id", context)
        if not await asyncio.to_thread(self._store.knows_upload, upload_id):
            await errors.not_found(
                context,
                "upload",
                upload_id,
                f"no boleto of upload {upload_id} reached the mailer "
                "(unknown upload, or its boletos are still on the way)",
                "UPLOAD_NOT_FOUND",
            )
        return upload_id


async def _kind(raw: int, context: grpc.aio.ServicerContext) -> DeliveryKind:
    """UNSPECIFIED is the boleto e-mail, so a client that predates kinds sees what it saw."""
    if raw == 0:
        return DeliveryKind.BOLETO
    try:
        return DeliveryKind(raw)
    except ValueError:
        await errors.invalid_argument(context, "kind", f"unknown delivery kind {raw}")


async def _uuid(raw: str, field: str, context: grpc.aio.ServicerContext) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        await errors.invalid_argument(context, field, "not a UUID", "INVALID_ID")
