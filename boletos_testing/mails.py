"""Sample e-mails to compose: rows shaped like the real file (or with accented pt-BR names,
whose headers need RFC 2047 encoding), a PDF the size of a rendered boleto, the sender's
settings and a fixed date, so every run builds the same bytes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from boletos_testing.datagen import iter_rows
from mailer_service.domain import BoletoMail, MailSettings

PDF_BYTES = 2_600  # about what the boleto service renders for one page
DATE = datetime(2025, 11, 26, 12, 0, tzinfo=UTC)
SETTINGS = MailSettings(
    from_address="Cobranças Exemplo <cobranca@example.com>",
    reply_to="Atendimento <atendimento@example.com>",
)
ACCENTED = ("São João", "Conceição Araújo", "Antônio Gonçalves", "Lúcia Câmara", "Inês Brandão")
LINHA = "00190.00009 01234.567890 12345.678901 2 12340000123456"


def sample_pdf(size: int = PDF_BYTES, seed: int = 1) -> bytes:
    """Bytes with a PDF signature; base64 costs the same whatever they are."""
    header = b"%PDF-1.4\n"
    return header + random.Random(seed).randbytes(size - len(header))


def sample_mails(count: int, accented: bool = False) -> list[BoletoMail]:
    mails = []
    for index, line in enumerate(iter_rows(count)):
        name, _government_id, email, amount, due, debt_id = line.split(",")
        if accented:
            name = f"{ACCENTED[index % len(ACCENTED)]} {name.split()[-1]}"
        mails.append(
            BoletoMail(
                debt_id=debt_id,
                upload_id="bench",
                payer_name=name,
                email=email,
                amount_cents=int(amount) * 100,
                due_date=date.fromisoformat(due),
                digitable_line=LINHA,
                nosso_numero=f"1234567{index:010d}",
            )
        )
    return mails
