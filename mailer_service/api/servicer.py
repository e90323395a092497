"""boletos.v1.MailerService on grpc.aio."""

from __future__ import annotations

import asyncio
import uuid

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from boletos.platform.logs import mask_email
from boletos.v1 import mailer_pb2, mailer_pb2_grpc
from mailer_service.store.repository import DeliveryRecord, MailerStore

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def to_message(r: DeliveryRecord) -> mailer_pb2.Delivery:
    updated = Timestamp()
    updated.FromDatetime(r.updated_at)
    return mailer_pb2.Delivery(
        debt_id=r.debt_id,
        upload_id=r.upload_id,
        status=r.status,
        recipient=mask_email(r.email),
        message_id=r.message_id,
        attempts=r.attempts,
        last_error=r.last_error,
        smtp_code=r.smtp_code,
        updated_at=updated,
    )


class MailerServicer(mailer_pb2_grpc.MailerServiceServicer):
    def __init__(self, store: MailerStore, on_requeue) -> None:  # type: ignore[no-untyped-def]
        self._store = store
        self._on_requeue = on_requeue

    async def GetDelivery(
        self, request: mailer_pb2.GetDeliveryRequest, context: grpc.aio.ServicerContext
    ) -> mailer_pb2.GetDeliveryResponse:
        try:
            debt_id = str(uuid.UUID(request.debt_id))
        except ValueError:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"{request.debt_id!r} is not a debt id"
            )
        record = await asyncio.to_thread(self._store.get, debt_id)
        if record is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no delivery for debt {debt_id}")
        return mailer_pb2.GetDeliveryResponse(delivery=to_message(record))

    async def ListDeliveries(
        self, request: mailer_pb2.ListDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> mailer_pb2.ListDeliveriesResponse:
        size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        page = await asyncio.to_thread(
            self._store.list_for_upload,
            request.upload_id,
            request.status,
            request.page_token,
            size + 1,
        )
        more = len(page) > size
        page = page[:size]
        return mailer_pb2.ListDeliveriesResponse(
            deliveries=[to_message(r) for r in page],
            next_page_token=page[-1].debt_id if more else "",
        )

    async def RetryFailed(
        self, request: mailer_pb2.RetryFailedRequest, context: grpc.aio.ServicerContext
    ) -> mailer_pb2.RetryFailedResponse:
        requeued = await asyncio.to_thread(self._store.retry_failed, request.upload_id)
        if requeued:
            self._on_requeue()
        return mailer_pb2.RetryFailedResponse(requeued=requeued)
