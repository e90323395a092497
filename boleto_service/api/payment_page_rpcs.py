"""GetPaymentPage and GetPaymentPagePdf of boletos.v1.BoletoService: a debtor's page, by the
signed token of their link, without a credential.

BoletoServiceServicer sets `self._pages` (a boleto_service.service.payment_pages.PaymentPages)
and `self._render_pdf`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import grpc

from boleto_service.domain.boleto import Boleto
from boleto_service.domain.payment_page import PaymentPage
from boleto_service.service.payment_pages import (
    LinkEnded,
    LinksOff,
    OpenedLink,
    PaymentPages,
    UnknownLink,
)
from boletos.platform import errors
from boletos.platform.logs import get_logger
from boletos.v1 import boleto_pb2

PDF_CHUNK_BYTES = 64 * 1024
log = get_logger("boleto")


def page_message(page: PaymentPage, opened: OpenedLink) -> boleto_pb2.PaymentPage:
    return boleto_pb2.PaymentPage(
        beneficiary_name=page.beneficiary_name,
        beneficiary_cnpj=page.beneficiary_cnpj,
        payer_document_masked=page.payer_document_masked,
        status=int(page.status),  # type: ignore[arg-type]
        amount_cents=page.amount_cents,
        amount_due_cents=page.amount_due_cents,
        fine_cents=page.fine_cents,
        interest_cents=page.interest_cents,
        discount_cents=page.discount_cents,
        due_date=page.due_date.isoformat(),
        today=page.today.isoformat(),
        digitable_line=page.digitable_line,
        pix_payload=page.pix_payload,
        paid_on=page.paid_on.isoformat() if page.paid_on else "",
        paid_cents=page.paid_cents,
        link_last_day=opened.link.last_day.isoformat(),
    )


class PaymentPageRpcs:
    _pages: PaymentPages
    _render_pdf: Callable[[Boleto], bytes]

    async def GetPaymentPage(
        self, request: boleto_pb2.GetPaymentPageRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.GetPaymentPageResponse:
        opened = await self._opened(request.token, context)
        page = await asyncio.to_thread(self._pages.page, opened)
        log.info("payment_page.viewed", debt_id=opened.boleto.debt_id)
        return boleto_pb2.GetPaymentPageResponse(page=page_message(page, opened))

    async def GetPaymentPagePdf(
        self, request: boleto_pb2.GetPaymentPagePdfRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[boleto_pb2.GetPaymentPagePdfResponse]:
        opened = await self._opened(request.token, context)
        pdf = await asyncio.to_thread(self._render_pdf, opened.boleto)
        log.info("payment_page.pdf", debt_id=opened.boleto.debt_id)
        for start in range(0, len(pdf), PDF_CHUNK_BYTES):
            yield boleto_pb2.GetPaymentPagePdfResponse(chunk=pdf[start : start + PDF_CHUNK_BYTES])

    async def _opened(self, token: str, context: grpc.aio.ServicerContext) -> OpenedLink:
        try:
            return await asyncio.to_thread(self._pages.open, token)
        except LinksOff:
            await errors.abort(
                context,
                grpc.StatusCode.FAILED_PRECONDITION,
                "this deployment makes no payment links",
                errors.error_info("PAYMENT_LINKS_OFF"),
            )
        except UnknownLink:
            # The same answer for a forged token, a mistyped one and one whose boleto is
            # gone: nothing to learn from trying.
            await errors.abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                "no such payment link",
                errors.error_info("LINK_NOT_FOUND"),
            )
        except LinkEnded as ended:
            await errors.abort(
                context,
                grpc.StatusCode.FAILED_PRECONDITION,
                f"the payment link ended on {ended.last_day.isoformat()}; "
                f"ask {ended.beneficiary_name or 'the beneficiary'} for the boleto",
                errors.error_info(
                    "LINK_EXPIRED",
                    beneficiary=ended.beneficiary_name,
                    last_day=ended.last_day.isoformat(),
                ),
            )
