"""``boletos boleto`` and ``boletos pdf`` against a small BoletoService on a real grpc.aio server.

The servicer here is a fake with fixed answers: these tests are about the CLI's side of the
contract, independent of how far the real service has come.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from boletos.v1 import boleto_pb2, boleto_pb2_grpc
from boletos_cli.main import main
from tests.support.processes import free_port
from tests.support.threaded_server import serving_on_a_thread

DEBT_ID = "3f1c9a52-8d4e-4c1b-9f7a-2b6e5d0c7a11"
# Serves a first chunk, then fails: the stream of a renderer crashing half-way.
BROKEN_DEBT_ID = "debt-whose-pdf-breaks"
UNKNOWN_DEBT_ID = "no-such-debt"
# Bytes that are not UTF-8, so anything decoding or re-encoding the PDF shows up.
PDF_CHUNKS = (b"%PDF-1.4\n", bytes(range(256)), b"\n%%EOF\n")


def _issued_at() -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2025, 6, 1, 12, 30, tzinfo=UTC))
    return stamp


# A static BR Code as the Banco Central's manual shows it.
PIX_PAYLOAD = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)

# A Banco do Brasil boleto re-dated from 2025-05-01 with a fine and interest; the barcode and
# linha are the domain's numbers for 7811.00 due 2025-06-10.
BOLETO = boleto_pb2.Boleto(
    debt_id=DEBT_ID,
    upload_id="9b2d7c1e-0a4f-4e8b-8c3d-5f6a7b8c9d0e",
    bank_code="001",
    nosso_numero="12345670000000042",
    barcode="00192110800007811000000001234567000000004217",
    digitable_line="00190.00009 01234.567004 00000.042176 2 11080000781100",
    amount_cents=781100,
    principal_cents=750000,
    fine_cents=15000,
    interest_cents=16100,
    due_date="2025-06-10",
    original_due_date="2025-05-01",
    payer_name="Ana [Lima]",
    issued_at=_issued_at(),
    line=7,
    pix_payload=PIX_PAYLOAD,
)


class FakeBoletoService(boleto_pb2_grpc.BoletoServiceServicer):
    async def GetBoleto(
        self, request: boleto_pb2.GetBoletoRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.GetBoletoResponse:
        if request.debt_id != DEBT_ID:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no boleto for debt {request.debt_id}")
        return boleto_pb2.GetBoletoResponse(boleto=BOLETO)

    async def GetBoletoPdf(
        self, request: boleto_pb2.GetBoletoPdfRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[boleto_pb2.GetBoletoPdfResponse]:
        if request.debt_id == BROKEN_DEBT_ID:
            yield boleto_pb2.GetBoletoPdfResponse(chunk=PDF_CHUNKS[0])
            await context.abort(grpc.StatusCode.INTERNAL, "renderer failed")
        if request.debt_id != DEBT_ID:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no boleto for debt {request.debt_id}")
        for chunk in PDF_CHUNKS:
            yield boleto_pb2.GetBoletoPdfResponse(chunk=chunk)


@pytest.fixture
def boleto_address() -> Iterator[str]:
    def register(server: grpc.aio.Server) -> None:
        boleto_pb2_grpc.add_BoletoServiceServicer_to_server(FakeBoletoService(), server)

    with serving_on_a_thread(register) as address:
        yield address


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_boleto_json_prints_one_object_with_the_numbers(
    capsys: pytest.CaptureFixture[str], boleto_address: str
) -> None:
    code, out, err = run_cli(capsys, "--boleto", boleto_address, "boleto", DEBT_ID, "--json")

    assert code == 0, err
    assert out.count("\n") == 1, "stdout must hold exactly one JSON line"
    document = json.loads(out)
    assert document == {
        "debt_id": DEBT_ID,
        "upload_id": BOLETO.upload_id,
        "line": 7,
        "payer_name": "Ana [Lima]",
        "bank_code": "001",
        "nosso_numero": "12345670000000042",
        "barcode": BOLETO.barcode,
        "digitable_line": BOLETO.digitable_line,
        "amount": "7811.00",
        "amount_cents": 781100,
        "principal_cents": 750000,
        "fine_cents": 15000,
        "interest_cents": 16100,
        "due_date": "2025-06-10",
        "original_due_date": "2025-05-01",
        "issued_at": "2025-06-01T12:30:00.000Z",
        "pix_payload": PIX_PAYLOAD,
        "bank_status": "",
        "remessa_id": "",
        "paid_amount": None,
        "paid_cents": 0,
        "paid_on": "",
        "fee_cents": 0,
        "paid_amount_differs": False,
        "rejection_reason": "",
    }


def test_boleto_prints_a_readable_table(
    capsys: pytest.CaptureFixture[str], boleto_address: str
) -> None:
    code, out, err = run_cli(capsys, "--boleto", boleto_address, "boleto", DEBT_ID)

    assert code == 0, err
    for expected in (
        DEBT_ID,
        BOLETO.barcode,
        BOLETO.digitable_line,
        "R$ 7.811,00",
        "R$ 7.500,00",
        "R$ 150,00",
        "R$ 161,00",
        "2025-06-10 (originally 2025-05-01)",
        "Ana [Lima]",  # user data shown as is, not read as markup
        "12345670000000042",
    ):
        assert expected in out


def test_boleto_address_comes_from_the_environment(
    capsys: pytest.CaptureFixture[str], boleto_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLETOS_BOLETO_ADDR", boleto_address)

    code, out, err = run_cli(capsys, "boleto", DEBT_ID, "--json")

    assert code == 0, err
    assert json.loads(out)["debt_id"] == DEBT_ID


def test_unknown_debt_exits_2_with_one_clear_line(
    capsys: pytest.CaptureFixture[str], boleto_address: str
) -> None:
    code, out, err = run_cli(capsys, "--boleto", boleto_address, "boleto", UNKNOWN_DEBT_ID)

    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "NOT_FOUND" in lines[0]
    assert UNKNOWN_DEBT_ID in lines[0]
    assert boleto_address in lines[0]


def test_unreachable_service_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    address = f"127.0.0.1:{free_port()}"

    code, out, err = run_cli(capsys, "--boleto", address, "boleto", DEBT_ID)

    assert code == 2
    assert out == ""
    assert "UNAVAILABLE" in err and address in err


def test_pdf_writes_exactly_the_streamed_bytes(
    capsys: pytest.CaptureFixture[str], boleto_address: str, tmp_path: Path
) -> None:
    target = tmp_path / "boleto.pdf"

    code, out, err = run_cli(capsys, "--boleto", boleto_address, "pdf", DEBT_ID, "-o", str(target))

    assert code == 0, err
    expected = b"".join(PDF_CHUNKS)
    assert target.read_bytes() == expected
    assert str(target) in out
    assert f"{len(expected):,} bytes" in out
    assert list(tmp_path.iterdir()) == [target]


def test_pdf_to_stdout(capsysbinary: pytest.CaptureFixture[bytes], boleto_address: str) -> None:
    code = main(["--boleto", boleto_address, "pdf", DEBT_ID, "-o", "-"])

    captured = capsysbinary.readouterr()
    assert code == 0, captured.err
    assert captured.out == b"".join(PDF_CHUNKS)


def test_pdf_of_an_unknown_debt_leaves_no_file(
    capsys: pytest.CaptureFixture[str], boleto_address: str, tmp_path: Path
) -> None:
    target = tmp_path / "boleto.pdf"

    code, out, err = run_cli(
        capsys, "--boleto", boleto_address, "pdf", UNKNOWN_DEBT_ID, "-o", str(target)
    )

    assert code == 2
    assert out == ""
    assert "NOT_FOUND" in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_pdf_stream_failing_half_way_keeps_the_old_file(
    capsys: pytest.CaptureFixture[str], boleto_address: str, tmp_path: Path
) -> None:
    target = tmp_path / "boleto.pdf"
    target.write_bytes(b"an earlier download")

    code, _, err = run_cli(
        capsys, "--boleto", boleto_address, "pdf", BROKEN_DEBT_ID, "-o", str(target)
    )

    assert code == 2
    assert "INTERNAL" in err and "renderer failed" in err
    assert target.read_bytes() == b"an earlier download"
    assert list(tmp_path.iterdir()) == [target]


def test_pdf_stream_failing_half_way_writes_nothing_to_stdout(
    capsysbinary: pytest.CaptureFixture[bytes], boleto_address: str
) -> None:
    code = main(["--boleto", boleto_address, "pdf", BROKEN_DEBT_ID, "-o", "-"])

    captured = capsysbinary.readouterr()
    assert code == 2
    assert captured.out == b""
    assert b"INTERNAL" in captured.err
