"""ListRemessas, GetRemessa and CreateRemessas of boletos.v1.BoletoService.

A mixin without a constructor: the servicer that lists it before the generated
BoletoServiceServicer sets `self._remessas` (a boleto_service.service.remessas.RemessaDesk)
before serving. Every call on it blocks, so each runs in a thread.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import NoReturn

import grpc

from boleto_service.domain.remessa_policy import RemessaRecord
from boleto_service.service.remessas import RemessaDesk, RemessaUnavailable
from boletos.platform import errors, paging
from boletos.v1 import boleto_pb2

REMESSA_CHUNK_BYTES = 64 * 1024
REMESSAS_PAGE = paging.Paging(default=50, most=500)
# What remessa_policy.remessa_id makes (bank, agência, conta, NSA) fits its 64-character
# column. Anything else names no remessa, and is refused before it is echoed back: an id of
# kilobytes in the not-found answer overflowed the trailers and reached the client as a bare
# RESOURCE_EXHAUSTED, and control characters would ride along into what the client prints.
_REMESSA_ID = re.compile(r"[0-9A-Za-z-]{1,64}")


def remessa_message(record: RemessaRecord) -> boleto_pb2.Remessa:
    message = boleto_pb2.Remessa(
        remessa_id=record.remessa_id,
        bank_code=record.account.bank_code,
        agencia=record.account.agencia,
        conta=record.account.conta,
        nsa=record.nsa,
        titles=record.titles,
        amount_cents=record.amount_cents,
        file_name=record.file_name,
        size_bytes=record.size_bytes or 0,
        sha256=record.sha256 or "",
        upload_id=record.upload_id or "",
    )
    message.created_at.FromDatetime(record.created_at)
    message.beneficiary = record.account.beneficiary
    return message


class RemessaRpcs:
    """Needs `self._remessas: RemessaDesk`, set by the class that mixes this in."""

    _remessas: RemessaDesk

    async def ListRemessas(
        self, request: boleto_pb2.ListRemessasRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.ListRemessasResponse:
        wanted = await paging.read(request, context, REMESSAS_PAGE)
        rows = await asyncio.to_thread(
            self._remessas.page, wanted.cursor, wanted.fetch, request.beneficiary
        )
        left_out = await asyncio.to_thread(self._remessas.left_out)
        page, next_token = wanted.cut(rows, lambda r: r.remessa_no)
        return boleto_pb2.ListRemessasResponse(
            remessas=[remessa_message(r) for r in page],
            next_page_token=next_token,
            left_out=[
                boleto_pb2.LeftOut(reason=reason, boletos=count)
                for reason, count in sorted(left_out.items())
            ],
        )

    async def GetRemessa(
        self, request: boleto_pb2.GetRemessaRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[boleto_pb2.GetRemessaResponse]:
        remessa_id = request.remessa_id
        if not _REMESSA_ID.fullmatch(remessa_id):
            await errors.invalid_argument(
                context,
                "remessa_id",
                "not a remessa id (bank-agencia-conta-NSA, as ListRemessas gives)",
                "INVALID_ID",
            )
        found = await asyncio.to_thread(self._remessas.find, remessa_id)
        if found is None:
            await errors.not_found(
                context,
                "remessa",
                remessa_id,
                f"no remessa {remessa_id}",
                "REMESSA_NOT_FOUND",
            )
        try:
            record, path = await asyncio.to_thread(self._remessas.ensure_file, found)
        except RemessaUnavailable as exc:
            await _unavailable(context, exc, remessa_id=remessa_id)
        except OSError as exc:
            await _write_failed(context, exc)
        yield boleto_pb2.GetRemessaResponse(remessa=remessa_message(record))
        # Opened once: a replica writing the same file again renames a new one into place,
        # and this stream goes on reading the bytes it started with.
        with await asyncio.to_thread(path.open, "rb") as file:
            while chunk := await asyncio.to_thread(file.read, REMESSA_CHUNK_BYTES):
                yield boleto_pb2.GetRemessaResponse(chunk=chunk)

    async def CreateRemessas(
        self, request: boleto_pb2.CreateRemessasRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.CreateRemessasResponse:
        try:
            made = await asyncio.to_thread(self._remessas.cut_now)
        except RemessaUnavailable as exc:
            await _unavailable(context, exc)
        except OSError as exc:
            await _write_failed(context, exc)
        return boleto_pb2.CreateRemessasResponse(remessas=[remessa_message(r) for r in made])


async def _unavailable(
    context: grpc.aio.ServicerContext, exc: RemessaUnavailable, **metadata: str
) -> NoReturn:
    await errors.failed_precondition(context, exc.reason, exc.subject, str(exc), **metadata)


async def _write_failed(context: grpc.aio.ServicerContext, exc: OSError) -> NoReturn:
    # The remessas are committed; the scheduler writes their files once the disk allows.
    await errors.abort(
        context,
        grpc.StatusCode.UNAVAILABLE,
        f"a remessa file could not be written: {exc.strerror or exc}",
        errors.error_info("REMESSA_WRITE_FAILED"),
    )
