"""boletos.v1.BoletoService on grpc.aio."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterable

import grpc

from boleto_service.api.instruction_rpcs import InstructionRpcs
from boleto_service.api.payment_page_rpcs import PaymentPageRpcs
from boleto_service.api.remessa_rpcs import RemessaRpcs
from boleto_service.api.retorno_rpcs import RetornoRpcs
from boleto_service.domain.boleto import BankStatus, Boleto
from boleto_service.service.instructions import Instruct
from boleto_service.service.payment_pages import PaymentPages
from boleto_service.service.remessas import RemessaDesk
from boleto_service.service.retornos import ProcessRetornos
from boleto_service.store.repository import BoletoStore
from boletos.platform import errors, paging
from boletos.v1 import boleto_pb2, boleto_pb2_grpc

PDF_CHUNK_BYTES = 64 * 1024
# A few kilobytes each: 500 PDFs stay far below the largest message the server takes.
MAX_BATCH_PDFS = 500
BOLETOS_PAGE = paging.Paging(default=100, most=1000)


def to_message(b: Boleto) -> boleto_pb2.Boleto:
    charges = b.charges
    bank = b.bank
    message = boleto_pb2.Boleto(
        debt_id=b.debt_id,
        upload_id=b.upload_id,
        bank_code=b.numbers.bank_code,
        nosso_numero=b.numbers.nosso_numero,
        barcode=b.numbers.barcode,
        digitable_line=b.numbers.linha_digitavel_formatted,
        amount_cents=b.amount_cents,
        principal_cents=charges.principal_cents,
        fine_cents=charges.fine_cents,
        interest_cents=charges.interest_cents,
        due_date=b.due_date.isoformat(),
        original_due_date=charges.original_due_date.isoformat(),
        payer_name=b.payer.name,
        line=b.line,
        pix_payload=b.numbers.pix_payload,
        bank_status=f"BANK_STATUS_{bank.status.name}",
        remessa_id=b.remessa_id,
        paid_cents=bank.paid_cents or 0,
        paid_on=bank.paid_on.isoformat() if bank.paid_on else "",
        fee_cents=bank.fee_cents or 0,
        paid_amount_differs=b.paid_amount_differs,
        rejection_reason=bank.reason if bank.status == BankStatus.REJECTED else "",
    )
    if b.issued_at is not None:
        message.issued_at.FromDatetime(b.issued_at)
    return message


class BoletoServicer(
    RemessaRpcs,
    RetornoRpcs,
    InstructionRpcs,
    PaymentPageRpcs,
    boleto_pb2_grpc.BoletoServiceServicer,
):
    def __init__(
        self,
        store: BoletoStore,
        render_pdf: Callable[[Boleto], bytes],
        remessas: RemessaDesk,
        retornos: ProcessRetornos,
        instruct: Instruct,
        pages: PaymentPages,
    ) -> None:
        self._pages = pages
        self._remessas = remessas
        self._retornos = retornos
        self._instruct = instruct
        self._store = store
        self._render_pdf = render_pdf

    async def GetBoleto(
        self, request: boleto_pb2.GetBoletoRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.GetBoletoResponse:
        boleto = await self._find(request.debt_id, context)
        return boleto_pb2.GetBoletoResponse(boleto=to_message(boleto))

    async def ListBoletos(
        self, request: boleto_pb2.ListBoletosRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.ListBoletosResponse:
        upload_id = await _upload_id(request.upload_id, context)
        wanted = await paging.read(request, context, BOLETOS_PAGE)
        after = wanted.cursor or 0
        rows = await asyncio.to_thread(self._store.list_for_upload, upload_id, after, wanted.fetch)
        if (
            not rows
            and not after
            and not await asyncio.to_thread(self._store.knows_upload, upload_id)
        ):
            await errors.not_found(
                context,
                "upload",
                upload_id,
                f"no debt of upload {upload_id} reached the boleto service "
                "(unknown upload, or its debts are still on the way)",
                "UPLOAD_NOT_FOUND",
            )
        page, next_token = wanted.cut(rows, lambda b: b.line)
        return boleto_pb2.ListBoletosResponse(
            boletos=[to_message(b) for b in page], next_page_token=next_token
        )

    async def GetBoletoPdf(
        self, request: boleto_pb2.GetBoletoPdfRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[boleto_pb2.GetBoletoPdfResponse]:
        boleto = await self._find(request.debt_id, context)
        # Rendered on demand: the same boleto always gives the same bytes, and storing a
        # million PDFs would cost gigabytes for nothing.
        pdf = await asyncio.to_thread(self._render_pdf, boleto)
        for start in range(0, len(pdf), PDF_CHUNK_BYTES):
            yield boleto_pb2.GetBoletoPdfResponse(chunk=pdf[start : start + PDF_CHUNK_BYTES])

    async def BatchGetBoletoPdfs(
        self, request: boleto_pb2.BatchGetBoletoPdfsRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.BatchGetBoletoPdfsResponse:
        if len(request.debt_ids) > MAX_BATCH_PDFS:
            await errors.invalid_argument(
                context,
                "debt_ids",
                f"{len(request.debt_ids)} debt ids; at most {MAX_BATCH_PDFS} per call",
            )
        pdfs = await asyncio.to_thread(self._pdfs_for, _canonical(request.debt_ids))
        return boleto_pb2.BatchGetBoletoPdfsResponse(
            pdfs=[boleto_pb2.BoletoPdf(debt_id=d, pdf=pdf) for d, pdf in pdfs]
        )

    def _pdfs_for(self, debt_ids: list[str]) -> list[tuple[str, bytes]]:
        boletos = self._store.get_many(debt_ids)
        return [(d, self._render_pdf(boletos[d])) for d in debt_ids if d in boletos]

    async def _find(self, raw_id: str, context: grpc.aio.ServicerContext) -> Boleto:
        debt_id = await _debt_id(raw_id, context)
        boleto = await asyncio.to_thread(self._store.get, debt_id)
        if boleto is not None:
            return boleto
        refusal = await asyncio.to_thread(self._store.refusal, debt_id)
        if refusal is not None:
            await errors.failed_precondition(
                context,
                "BOLETO_REFUSED",
                f"debt/{debt_id}",
                f"no boleto was issued for debt {debt_id}: {refusal.reason}",
                debt_id=debt_id,
                upload_id=refusal.upload_id,
                refusal=refusal.reason,
            )
        await errors.not_found(
            context,
            "debt",
            debt_id,
            f"no boleto for debt {debt_id} yet (not imported, or still being issued)",
            "BOLETO_NOT_ISSUED",
        )


async def _debt_id(raw: str, context: grpc.aio.ServicerContext) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        await errors.invalid_argument(context, "debt_id", "not a debt id (a UUID)", "INVALID_ID")


async def _upload_id(raw: str, context: grpc.aio.ServicerContext) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        await errors.invalid_argument(
            context, "upload_id", "not an upload id (a UUID)", "INVALID_ID"
        )


def _canonical(debt_ids: Iterable[str]) -> list[str]:
    """Each debt id once, canonical; one that is not a debt id names no boleto."""
    found: dict[str, None] = {}
    for debt_id in debt_ids:
        try:
            found[str(uuid.UUID(debt_id))] = None
        except ValueError:
            continue
    return list(found)
