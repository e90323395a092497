"""An early-payment discount from the file, end to end: printed on the boleto, registered
in segment P, and gone from a debt billed after its date."""

from __future__ import annotations

import datetime as dt
import re
import zlib

import grpc

from boletos.v1 import boleto_pb2
from tests.support.boleto import running_boleto
from tests.support.csvdata import ADDRESS_HEADER
from tests.support.ingest import running_ingest, upload
from tests.support.waiting import wait_until

DUE = dt.date.today() + dt.timedelta(days=40)
UNTIL = DUE - dt.timedelta(days=10)
ADDRESS = "Rua São Bento 365,Centro,01011-100,São Paulo,SP"
EARLY = "00000000-0000-4000-8000-000000000001"
LATE = "00000000-0000-4000-8000-000000000002"
PLAIN = "00000000-0000-4000-8000-000000000003"


def _shown(pdf: bytes) -> str:
    start = pdf.index(b"stream\n") + len(b"stream\n")
    stream = zlib.decompress(pdf[start : pdf.index(b"\nendstream", start)])
    return " ".join(m.decode("cp1252") for m in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", stream))


async def test_a_discount_is_printed_and_registered_while_it_holds(tmp_path, nats_server) -> None:
    header = ADDRESS_HEADER + ",discountAmount,discountUntil"
    rows = [
        f"Ana Souza,52998224725,ana@example.com,100.00,{DUE},{EARLY},{ADDRESS},12.50,{UNTIL}",
        # Overdue: billed after its discount date, so no discount is left to offer.
        f"Rui Lima,52998224725,rui@example.com,80.00,2024-03-10,{LATE},{ADDRESS},5,2024-03-01",
        # No discount of its own: the beneficiary's (2% when paid 5 days early) applies.
        f"Eva Reis,52998224725,eva@example.com,300.00,{DUE},{PLAIN},{ADDRESS},,",
    ]
    data = ("\n".join([header, *rows]) + "\n").encode()
    remessas = tmp_path / "remessas"
    env = {
        "REMESSA_DIR": str(remessas),
        "REMESSA_PER": "upload",
        "REMESSA_QUIET_SECONDS": "600",
        "BENEFICIARY_AGENCIA_DV": "3",
        "BENEFICIARY_VARIACAO_CARTEIRA": "019",
        "PIX_KEY": "11222333000181",
        "PIX_MERCHANT_CITY": "Sao Paulo",
        "BENEFICIARY_DISCOUNT_PERCENT": "2",
        "BENEFICIARY_DISCOUNT_DAYS_BEFORE_DUE": "5",
    }
    async with (
        running_ingest(f"sqlite:///{tmp_path / 'i.db'}", nats_server.url) as ingest,
        running_boleto(f"sqlite:///{tmp_path / 'b.db'}", nats_server.url, **env) as boleto,
    ):
        summary = await upload(ingest.stub, data)
        assert (summary.accepted, summary.rejected) == (3, 0)

        async def issued() -> bool:
            try:
                got = await boleto.stub.ListBoletos(
                    boleto_pb2.ListBoletosRequest(upload_id=summary.upload_id)
                )
            except grpc.aio.AioRpcError:
                return False
            return len(got.boletos) == 3

        await wait_until(issued)
        pdfs = {}
        for debt_id in (EARLY, LATE, PLAIN):
            pdfs[debt_id] = _shown(
                b"".join(
                    [
                        m.chunk
                        async for m in boleto.stub.GetBoletoPdf(
                            boleto_pb2.GetBoletoPdfRequest(debt_id=debt_id)
                        )
                    ]
                )
            )
        assert f"Desconto de R$ 12,50 para pagamento até {UNTIL:%d/%m/%Y}." in pdfs[EARLY]
        # A Pix code has no date rule: it carries the amount due today, the discount taken.
        pix = {}
        for debt_id in (EARLY, LATE, PLAIN):
            got = await boleto.stub.GetBoleto(boleto_pb2.GetBoletoRequest(debt_id=debt_id))
            pix[debt_id] = got.boleto.pix_payload
        assert "540587.50" in pix[EARLY]  # R$ 100,00 less R$ 12,50
        assert "5406294.00" in pix[PLAIN]  # R$ 300,00 less the beneficiary's 2%
        assert "Desconto de" not in pdfs[LATE]

        [made] = (await boleto.stub.CreateRemessas(boleto_pb2.CreateRemessasRequest())).remessas
    lines = (remessas / made.file_name).read_text().splitlines()
    by_number = {}
    for line in lines:
        if line[7] == "3" and line[13] == "P":
            by_number[line[195:220].strip()] = line
    early, late, plain = (by_number[n] for n in sorted(by_number, key=int))
    # Segment P 142-165: code 1 (a fixed amount until the date), the date, the amount.
    assert early[141:165] == "1" + UNTIL.strftime("%d%m%Y") + "000000000001250"
    assert late[141:165] == "0" + "0" * 23
    plain_until = DUE - dt.timedelta(days=5)
    assert plain[141:165] == "1" + plain_until.strftime("%d%m%Y") + "000000000000600"
    assert f"Desconto de R$ 6,00 para pagamento até {plain_until:%d/%m/%Y}." in pdfs[PLAIN]
