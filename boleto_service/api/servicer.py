"""boletos.v1.BoletoService on grpc.aio."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterable

import grpc

from boleto_service.service.issuing import BoletoRecord
from boleto_service.store.repository import BoletoStore
from boletos.v1 import boleto_pb2, boleto_pb2_grpc

PDF_CHUNK_BYTES = 64 * 1024
# A few kilobytes each: 500 PDFs stay far below the largest message the server takes.
MAX_BATCH_PDFS = 500
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def to_message(r: BoletoRecord) -> boleto_pb2.Boleto:
    return boleto_pb2.Boleto(
        debt_id=r.debt_id,
        upload_id=r.upload_id,
        bank_code=r.bank_code,
        nosso_numero=r.nosso_numero,
        barcode=r.barcode,
        digitable_line=r.digitable_line,
        amount_cents=r.amount_cents,
        principal_cents=r.principal_cents,
        fine_cents=r.fine_cents,
        interest_cents=r.interest_cents,
        due_date=r.due_date.isoformat(),
        original_due_date=r.original_due_date.isoformat(),
        payer_name=r.payer_name,
        line=r.line,
    )


class BoletoServicer(boleto_pb2_grpc.BoletoServiceServicer):
    def __init__(self, store: BoletoStore, render_pdf: Callable[[BoletoRecord], bytes]) -> None:
        self._store = store
        self._render_pdf = render_pdf

    async def GetBoleto(
        self, request: boleto_pb2.GetBoletoRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.GetBoletoResponse:
        record = await self._find(request.debt_id, context)
        return boleto_pb2.GetBoletoResponse(boleto=to_message(record))

    async def ListBoletos(
        self, request: boleto_pb2.ListBoletosRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.ListBoletosResponse:
        size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = 0
        if request.page_token:
            if not request.page_token.isdigit():
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "page_token is not valid")
            after = int(request.page_token)
        page = await asyncio.to_thread(
            self._store.list_for_upload, request.upload_id, after, size + 1
        )
        more = len(page) > size
        page = page[:size]
        return boleto_pb2.ListBoletosResponse(
            boletos=[to_message(r) for r in page],
            next_page_token=str(page[-1].line) if more else "",
        )

    async def GetBoletoPdf(
        self, request: boleto_pb2.GetBoletoPdfRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[boleto_pb2.GetBoletoPdfResponse]:
        debt_id = await self._debt_id(request.debt_id, context)
        # Rendered on demand, lookup and rendering in one trip off the event loop: the same
        # record always gives the same bytes, and storing a million PDFs would cost
        # gigabytes for nothing.
        pdf = await asyncio.to_thread(self._pdf_for, debt_id)
        if pdf is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, _missing(debt_id))
        assert pdf is not None
        for start in range(0, len(pdf), PDF_CHUNK_BYTES):
            yield boleto_pb2.GetBoletoPdfResponse(chunk=pdf[start : start + PDF_CHUNK_BYTES])

    async def BatchGetBoletoPdfs(
        self, request: boleto_pb2.BatchGetBoletoPdfsRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.BatchGetBoletoPdfsResponse:
        if len(request.debt_ids) > MAX_BATCH_PDFS:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{len(request.debt_ids)} debt ids; at most {MAX_BATCH_PDFS} per call",
            )
        pdfs = await asyncio.to_thread(self._pdfs_for, _canonical(request.debt_ids))
        return boleto_pb2.BatchGetBoletoPdfsResponse(
            pdfs=[boleto_pb2.BoletoPdf(debt_id=d, pdf=pdf) for d, pdf in pdfs]
        )

    def _pdfs_for(self, debt_ids: list[str]) -> list[tuple[str, bytes]]:
        records = self._store.get_many(debt_ids)
        return [(d, self._render_pdf(records[d])) for d in debt_ids if d in records]

    def _pdf_for(self, debt_id: str) -> bytes | None:
        record = self._store.get(debt_id)
        return None if record is None else self._render_pdf(record)

    async def _find(self, debt_id: str, context: grpc.aio.ServicerContext) -> BoletoRecord:
        canonical = await self._debt_id(debt_id, context)
        record = await asyncio.to_thread(self._store.get, canonical)
        if record is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, _missing(canonical))
        assert record is not None
        return record

    async def _debt_id(self, debt_id: str, context: grpc.aio.ServicerContext) -> str:
        try:
            return str(uuid.UUID(debt_id))
        except ValueError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{debt_id!r} is not a debt id")
            raise


def _canonical(debt_ids: Iterable[str]) -> list[str]:
    """Each debt id once, canonical; one that is not a debt id names no boleto."""
    found: dict[str, None] = {}
    for debt_id in debt_ids:
        try:
            found[str(uuid.UUID(debt_id))] = None
        except ValueError:
            continue
    return list(found)


def _missing(debt_id: str) -> str:
    return f"no boleto for debt {debt_id} (not imported yet, or no boleto could be issued)"
