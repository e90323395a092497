"""Two beneficiaries at two banks in one deployment: each upload names its own, its boletos
are that beneficiary's (bank, account, PDF), each has its own remessas, and an upload that
names none or an unknown one is refused before a row is stored."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2

from boletos.platform.errors import details_of
from boletos.v1 import boleto_pb2, ingest_pb2, ingest_pb2_grpc, keys_pb2, keys_pb2_grpc
from tests.support import access
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, upload
from tests.support.scan import rasterize, scan
from tests.support.waiting import wait_until
from tests.unit.boleto.test_beneficiaries import TWO


async def _boletos(stub, upload_id: str) -> list[boleto_pb2.Boleto]:
    try:
        answer = await stub.ListBoletos(boleto_pb2.ListBoletosRequest(upload_id=upload_id))
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.NOT_FOUND:  # its debts are still on the way
            raise
        return []
    return list(answer.boletos)


async def test_each_upload_is_issued_and_registered_for_the_beneficiary_it_names(
    tmp_path, nats_server
) -> None:
    (tmp_path / "beneficiaries.toml").write_text(TWO, encoding="utf-8")
    env = {"BENEFICIARIES_FILE": str(tmp_path / "beneficiaries.toml")}
    remessas = tmp_path / "remessas"
    boleto_env = {
        **env,
        "REMESSA_DIR": str(remessas),
        "REMESSA_PER": "upload",
        "REMESSA_QUIET_SECONDS": "1",
    }
    rows = [
        r.changed(government_id="52998224725").with_address(n)
        for n, r in enumerate(valid_rows(6, seed=41))
    ]
    async with (
        running_ingest(f"sqlite:///{tmp_path / 'i.db'}", nats_server.url, **env) as ingest,
        running_boleto(f"sqlite:///{tmp_path / 'b.db'}", nats_server.url, **boleto_env) as boleto,
    ):
        for named, reason in (("", "BENEFICIARY_REQUIRED"), ("fundo-x", "BENEFICIARY_UNKNOWN")):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await upload(ingest.stub, csv_bytes(rows), beneficiary=named)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            info = details_of(refused.value)[0]
            assert isinstance(info, error_details_pb2.ErrorInfo)
            assert info.reason == reason
        listed = await ingest.stub.ListUploads(ingest_pb2.ListUploadsRequest())
        assert list(listed.uploads) == []

        # An uploader key limited to fundo-a uploads for it only.
        made = await keys_pb2_grpc.KeyServiceStub(ingest.channel).CreateKey(
            keys_pb2.CreateKeyRequest(
                name="fundo-a's system", role=keys_pb2.KEY_ROLE_UPLOADER, beneficiaries=["fundo-a"]
            )
        )
        assert list(made.key.beneficiaries) == ["fundo-a"]
        limited = access.channel(ingest.address, key=made.secret_key)
        try:
            stub = ingest_pb2_grpc.IngestServiceStub(limited)
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await upload(stub, csv_bytes(rows[3:]), beneficiary="cliente-b")
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
            info = details_of(denied.value)[0]
            assert isinstance(info, error_details_pb2.ErrorInfo)
            assert info.reason == "BENEFICIARY_NOT_ALLOWED"
            a = await upload(stub, csv_bytes(rows[:3]), beneficiary="fundo-a")
        finally:
            await limited.close()
        b = await upload(ingest.stub, csv_bytes(rows[3:]), beneficiary="cliente-b")
        assert (a.accepted, b.accepted) == (3, 3)

        async def all_issued() -> bool:
            issued = [await _boletos(boleto.stub, u.upload_id) for u in (a, b)]
            return [len(x) for x in issued] == [3, 3]

        await wait_until(all_issued)
        of_a = await _boletos(boleto.stub, a.upload_id)
        of_b = await _boletos(boleto.stub, b.upload_id)
        assert {x.barcode[:3] for x in of_a} == {"001"}
        assert {x.barcode[:3] for x in of_b} == {"341"}
        # Each beneficiary's nosso números come from its own counter, cliente-b's from 500:
        # Banco do Brasil's start with fundo-a's convênio, Itaú's carry the carteira.
        assert sorted(x.nosso_numero for x in of_a) == [
            f"123456700000000{n:02d}" for n in (1, 2, 3)
        ]
        assert sorted(x.nosso_numero[4:12] for x in of_b) == ["00000500", "00000501", "00000502"]
        assert all(x.nosso_numero.startswith("109/") for x in of_b)

        pdf = b"".join(
            [
                m.chunk
                async for m in boleto.stub.GetBoletoPdf(
                    boleto_pb2.GetBoletoPdfRequest(debt_id=of_b[0].debt_id)
                )
            ]
        )
        assert scan(rasterize(pdf, tmp_path, dpi=300)) == [of_b[0].barcode]

        async def both_cut() -> bool:
            page = await boleto.stub.ListRemessas(boleto_pb2.ListRemessasRequest())
            return sorted((r.beneficiary, r.bank_code, r.titles) for r in page.remessas) == [
                ("cliente-b", "341", 3),
                ("fundo-a", "001", 3),
            ]

        await wait_until(both_cut)
        # Listings filter by beneficiary.
        only_b = await boleto.stub.ListRemessas(
            boleto_pb2.ListRemessasRequest(beneficiary="cliente-b")
        )
        assert [r.beneficiary for r in only_b.remessas] == ["cliente-b"]
        uploads_a = await ingest.stub.ListUploads(
            ingest_pb2.ListUploadsRequest(beneficiary="fundo-a")
        )
        assert [(u.upload_id, u.beneficiary) for u in uploads_a.uploads] == [
            (a.upload_id, "fundo-a")
        ]
        page = await boleto.stub.ListRemessas(boleto_pb2.ListRemessasRequest())
        for remessa in page.remessas:
            lines = (remessas / remessa.file_name).read_text().splitlines()
            # Each file is numbered from 1 for its own account and names its own company.
            assert remessa.nsa == 1
            assert all(line[:3] == remessa.bank_code for line in lines)
            company = "FUNDO A DE RECEBIVEIS" if remessa.beneficiary == "fundo-a" else "CLIENTE B"
            assert company in lines[0]
