"""The printed boletos of issued ones, rendered in worker processes of the service's own.

A PDF costs several times what issuing its boleto does. Rendered in the service process, the
e-mails' PDFs took turns with the issuing of the next file's boletos for one interpreter
lock; in workers they do not, and the workers run at a lower priority: issuing, the stage
before the e-mails, gets the processor first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from prometheus_client import Counter

from boleto_service.documents.model import BoletoDocument
from boleto_service.documents.render import render_pdf
from boleto_service.domain.beneficiaries import Beneficiaries
from boleto_service.domain.boleto import Boleto
from boleto_service.domain.pix_today import with_pix_for
from boletos.platform import brasilia
from boletos.platform.worker_processes import WorkerProcesses

RENDERED = Counter("boletos_pdfs_rendered_total", "Boleto PDFs rendered.")
# Added to the workers' niceness: below the service's issuing.
WORKER_NICENESS = 5


def render_boleto(beneficiaries: Beneficiaries, boleto: Boleto, today: dt.date) -> bytes:
    """The PDF with the beneficiary the boleto was issued for, as configured now."""
    beneficiary = beneficiaries.get(boleto.beneficiary)
    boleto = with_pix_for(boleto, beneficiary.pix, today)
    return render_pdf(BoletoDocument.of(boleto, beneficiary.config))


def render_boletos(
    beneficiaries: Beneficiaries, boletos: Sequence[Boleto], today: dt.date
) -> list[bytes]:
    return [render_boleto(beneficiaries, b, today) for b in boletos]


class PdfRenderer:
    """Renders boletos in `workers`, each as its beneficiary is configured now and dated in
    Brazil's official time."""

    def __init__(
        self,
        beneficiaries: Beneficiaries,
        workers: WorkerProcesses,
        today: Callable[[], dt.date] = brasilia.today,
    ) -> None:
        self._beneficiaries = beneficiaries
        self._workers = workers
        self._today = today

    async def __call__(self, boletos: Sequence[Boleto]) -> list[bytes]:
        if not boletos:
            return []
        pdfs = await self._workers.run(
            render_boletos, self._beneficiaries, list(boletos), self._today()
        )
        RENDERED.inc(len(pdfs))
        return pdfs


def warm_up() -> None:
    """Imports what the first PDF would, so the first e-mail does not wait for it."""
    import boleto_service.documents.render  # noqa: F401
