"""The billing loop at each of the seven banks, through the real services: a file with
addresses, boletos whose barcodes scan, a remessa in the bank's layout, the bank's retorno
(the local bank's: the bad CEP rejected with the bank's motivo, the rest registered and paid),
and the statuses it leaves."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from boleto_service.domain.cnab240 import RemessaHeader, parse_retorno
from boletos.v1 import boleto_pb2
from boletos_cli.bank import answer
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, upload
from tests.support.scan import rasterize, scan
from tests.support.waiting import wait_until
from tests.unit.boleto.banks import (
    test_bradesco,
    test_caixa,
    test_santander,
    test_sicoob,
    test_sicredi,
)
from tests.unit.boleto.test_cnab240_remessa import BB_HEADER, ITAU_HEADER

HEADERS = [
    BB_HEADER,
    ITAU_HEADER,
    test_bradesco.HEADER,
    test_caixa.HEADER,
    test_santander.HEADER,
    test_sicoob.HEADER,
    test_sicredi.HEADER,
]
FIELDS = (
    "name", "cnpj", "bank_code", "agencia", "conta", "conta_dv", "convenio", "carteira",
    "codigo_beneficiario", "posto",
)  # fmt: skip
# Sicredi numbers AA/BNNNNN: its counter starts in 2026's range; the others from 1.
FIRST_NUMBER = {"748": "26200001"}


def _beneficiaries_file(path: Path, header: RemessaHeader) -> None:
    config = header.beneficiary
    fields = {f: getattr(config, f) for f in FIELDS}
    fields |= {"agencia_dv": header.agencia_dv, "variacao_carteira": header.variacao_carteira}
    fields["first_nosso_numero"] = FIRST_NUMBER.get(config.bank_code, "1")
    lines = ["[beneficiaries.banco]"] + [f'{k} = "{v}"' for k, v in fields.items() if v]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def _chunks(stream) -> bytes:
    return b"".join([m.chunk async for m in stream])


@pytest.mark.parametrize("header", HEADERS, ids=lambda h: h.beneficiary.bank_code)
async def test_the_loop_at_each_bank(tmp_path: Path, nats_server, header: RemessaHeader) -> None:
    bank = header.beneficiary.bank_code
    _beneficiaries_file(tmp_path / "beneficiaries.toml", header)
    env = {"BENEFICIARIES_FILE": str(tmp_path / "beneficiaries.toml")}
    remessas = tmp_path / "remessas"
    rows = [
        r.changed(government_id="52998224725").with_address(n)
        for n, r in enumerate(valid_rows(4, seed=int(bank)))
    ]
    # No post office uses this CEP: the bank rejects the entry.
    rows[3] = rows[3].changed(zip_code="00000-001")
    async with (
        running_ingest(f"sqlite:///{tmp_path / 'i.db'}", nats_server.url, **env) as ingest,
        running_boleto(
            f"sqlite:///{tmp_path / 'b.db'}",
            nats_server.url,
            REMESSA_DIR=str(remessas),
            REMESSA_QUIET_SECONDS="3600",
            REMESSA_PER="upload",
            **env,
        ) as boleto,
    ):
        summary = await upload(ingest.stub, csv_bytes(rows), beneficiary="banco")
        assert summary.accepted == 4

        async def issued() -> list[boleto_pb2.Boleto]:
            try:
                got = await boleto.stub.ListBoletos(
                    boleto_pb2.ListBoletosRequest(upload_id=summary.upload_id)
                )
            except grpc.aio.AioRpcError:
                return []
            return list(got.boletos)

        async def all_issued() -> bool:
            return len(await issued()) == 4

        await wait_until(all_issued)
        first = (await issued())[0]
        assert first.barcode[:3] == bank
        pdf = await _chunks(
            boleto.stub.GetBoletoPdf(boleto_pb2.GetBoletoPdfRequest(debt_id=first.debt_id))
        )
        assert scan(rasterize(pdf, tmp_path, dpi=300)) == [first.barcode]

        [remessa] = (await boleto.stub.CreateRemessas(boleto_pb2.CreateRemessasRequest())).remessas
        assert (remessa.bank_code, remessa.titles) == (bank, 4)
        data = await _chunks(
            boleto.stub.GetRemessa(boleto_pb2.GetRemessaRequest(remessa_id=remessa.remessa_id))
        )
        # The bank's answer, read back by the service's own reader before it is sent.
        retorno = answer(data.decode("ascii"), paid_share=1.0)
        assert parse_retorno(retorno.text).errors == ()
        assert (retorno.registered, retorno.rejected, retorno.paid) == (3, 1, 3)

        async def requests():
            yield boleto_pb2.ProcessRetornoRequest(
                header=boleto_pb2.RetornoHeader(file_name=f"{bank}.ret")
            )
            yield boleto_pb2.ProcessRetornoRequest(chunk=retorno.text.encode("ascii"))

        done = (await boleto.stub.ProcessRetorno(requests())).summary
        assert (done.registered, done.rejected, done.paid) == (3, 1, 3)
        statuses = sorted(b.bank_status for b in await issued())
        assert statuses == sorted(
            [boleto_pb2.BANK_STATUS_PAID] * 3 + [boleto_pb2.BANK_STATUS_REJECTED]
        )
        rejected = next(
            b for b in await issued() if b.bank_status == boleto_pb2.BANK_STATUS_REJECTED
        )
        assert rejected.rejection_reason  # the bank's motivo, in its own words
