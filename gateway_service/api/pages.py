"""The debtor's page: `/p/TOKEN`, the link each e-mail carries. Server-rendered pt-BR HTML,
mobile first, with a little script for the copy buttons; no login (the link's signed token is
the authority, checked by the boleto service), rate-limited per client address."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import jinja2
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.staticfiles import StaticFiles

from boletos.platform.access.roles import BOLETO
from boletos.platform.errors import details_of
from boletos.v1 import boleto_pb2
from gateway_service.clients.services import Services
from gateway_service.domain import brazil
from gateway_service.domain.problems import from_rpc
from gateway_service.domain.qr_svg import qr_svg
from gateway_service.domain.rate_limit import RateLimit

HERE = Path(__file__).parent
PAGE = BOLETO + "GetPaymentPage"
PDF = BOLETO + "GetPaymentPagePdf"
# The page's own files only: no inline script or style, no frames, no forms.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# A page with the payer's boleto is nobody's to keep: not a cache, not the back button's.
PRIVATE = {"Cache-Control": "no-store", "Content-Security-Policy": PAGE_POLICY}
STATUS_NAMES = {
    boleto_pb2.PAYMENT_PAGE_STATUS_OPEN: "OPEN",
    boleto_pb2.PAYMENT_PAGE_STATUS_OVERDUE: "OVERDUE",
    boleto_pb2.PAYMENT_PAGE_STATUS_PAID: "PAID",
    boleto_pb2.PAYMENT_PAGE_STATUS_CLOSED: "CLOSED",
}
NOT_FOUND = (
    "Link não encontrado",
    "Confira se o endereço foi copiado inteiro do e-mail. Se continuar assim, fale com quem "
    "enviou a cobrança.",
)


def add_pages(
    app: FastAPI, services: Services, limit: RateLimit, clock: Callable[[], float] = time.monotonic
) -> None:
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "page_templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )

    def problem(status: int, title: str, message: str, **headers: str) -> HTMLResponse:
        html = templates.get_template("problem.html").render(title=title, message=message)
        return HTMLResponse(html, status, headers={**PRIVATE, **headers})

    def limited(request: Request) -> HTMLResponse | None:
        address = request.client.host if request.client else ""
        wait = limit.wait(address, clock())
        if not wait:
            return None
        return problem(
            429,
            "Muitas tentativas",
            "Aguarde um pouco e tente de novo.",
            **{"Retry-After": str(max(1, round(wait)))},
        )

    def refused(exc: grpc.aio.AioRpcError) -> HTMLResponse:
        found = from_rpc(exc.code(), exc.details() or "", details_of(exc))
        if found.reason == "LINK_EXPIRED":
            who = found.metadata.get("beneficiary") or "quem enviou a cobrança"
            return problem(
                410,
                "Este link expirou",
                f"Para receber um boleto atualizado, fale com {who}.",
            )
        if found.status == 503:
            return problem(503, "Serviço indisponível", "Tente de novo em alguns minutos.")
        return problem(404, *NOT_FOUND)

    @app.get("/p/{token}", include_in_schema=False)
    async def payment_page(request: Request, token: str) -> Response:
        refusal = limited(request)
        if refusal is not None:
            return refusal
        try:
            answer = await services.unary(PAGE, boleto_pb2.GetPaymentPageRequest(token=token), "")
        except grpc.aio.AioRpcError as exc:
            return refused(exc)
        assert isinstance(answer, boleto_pb2.GetPaymentPageResponse)
        page = answer.page
        html = templates.get_template("payment.html").render(
            page=page,
            token=token,
            status=STATUS_NAMES.get(page.status, "CLOSED"),
            cnpj=brazil.cnpj(page.beneficiary_cnpj),
            amount=brazil.reais(page.amount_cents),
            amount_due=brazil.reais(page.amount_due_cents),
            fine=brazil.reais(page.fine_cents),
            interest=brazil.reais(page.interest_cents),
            discount=brazil.reais(page.discount_cents) if page.discount_cents else "",
            due_date=brazil.day(page.due_date),
            today=brazil.day(page.today),
            paid_on=brazil.day(page.paid_on),
            paid_amount=brazil.reais(page.paid_cents),
            last_day=brazil.day(page.link_last_day),
            qr=qr_svg(page.pix_payload, label="QR code Pix") if page.pix_payload else "",
        )
        return HTMLResponse(html, headers=PRIVATE)

    @app.get("/p/{token}/boleto.pdf", include_in_schema=False)
    async def payment_pdf(request: Request, token: str) -> Response:
        refusal = limited(request)
        if refusal is not None:
            return refusal
        call = services.server_stream(PDF, boleto_pb2.GetPaymentPagePdfRequest(token=token), "")
        try:
            first = await call.read()
        except grpc.aio.AioRpcError as exc:
            call.cancel()
            return refused(exc)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                item = first
                while item is not grpc.aio.EOF:
                    yield item.chunk
                    item = await call.read()
            finally:
                call.cancel()

        return StreamingResponse(
            chunks(),
            media_type="application/pdf",
            headers={**PRIVATE, "Content-Disposition": 'attachment; filename="boleto.pdf"'},
        )

    app.mount("/p-assets", StaticFiles(directory=HERE / "page_assets"), name="page-assets")
