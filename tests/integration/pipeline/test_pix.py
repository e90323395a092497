"""Boletos with Pix ("boleto híbrido"), end to end: the code is in GetBoleto, printed on the
PDF as a QR code a scanner reads back whole, and in the e-mail as "Pix copia e cola"; the
barcode still scans beside it."""

from __future__ import annotations

from email.message import EmailMessage

from boleto_service.domain.pix import PixMerchant, pix_payload
from boletos.v1 import boleto_pb2
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink
from tests.support.scan import rasterize, scan, scan_qr

PIX = {
    "PIX_KEY": "11222333000181",
    "PIX_MERCHANT_CITY": "São Paulo",
    "BENEFICIARY_NAME": "Cobranças Exemplo Ltda",
}


def _body(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None, kind
    return str(part.get_content())


async def test_every_boleto_carries_its_pix_code_on_paper_and_in_the_email(tmp_path, nats_server):
    rows = valid_rows(6, seed=21)
    sink = Sink()
    merchant = PixMerchant("11222333000181", "Cobranças Exemplo Ltda", "São Paulo")
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(f"sqlite:///{tmp_path / 'i.db'}", nats_server.url) as ingest,
            running_boleto(f"sqlite:///{tmp_path / 'b.db'}", nats_server.url, **PIX) as boleto,
            running_mailer(
                f"sqlite:///{tmp_path / 'm.db'}", nats_server.url, boleto.address, smtp.port
            ),
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            progress = await settled(ingest.stub, summary.upload_id)
            assert progress.emails_sent == len(rows)

            first = rows[0].debt_id
            got = (await boleto.stub.GetBoleto(boleto_pb2.GetBoletoRequest(debt_id=first))).boleto
            expected = pix_payload(merchant, got.amount_cents, got.nosso_numero)
            assert got.pix_payload == expected
            pdf = b"".join(
                [
                    chunk.chunk
                    async for chunk in boleto.stub.GetBoletoPdf(
                        boleto_pb2.GetBoletoPdfRequest(debt_id=first)
                    )
                ]
            )

    page = rasterize(pdf, tmp_path, dpi=150)
    assert scan_qr(page) == [expected]
    assert scan(page)[0] == got.barcode
    message = next(m for m in sink.messages if m["X-Boleto-Debt-Id"] == first)
    text = _body(message, "plain")
    html = _body(message, "html")
    assert "Pix copia e cola" in text and expected in text
    assert expected in html
    # Each boleto its own code: the amount and the transaction id differ.
    # The code has spaces (the receiver's name and city): it is the line that starts as one.
    codes = {
        next(line.strip() for line in _body(m, "plain").splitlines() if line.startswith("000201"))
        for m in sink.messages
    }
    assert len(codes) == len(rows)
