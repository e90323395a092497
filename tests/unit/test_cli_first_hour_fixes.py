"""The CLI's first hour: commands that find the newest upload by themselves, a report that
prints nothing when its call fails, a Pix code shown whole at any width, and a TLS failure
that says it is one, without gRPC's own log lines.

The services here are fakes on a real TLS grpc.aio server: these tests are about the CLI.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import grpc
import pytest
from rich.console import Console

from boletos.v1 import (
    boleto_pb2,
    ingest_pb2,
    ingest_pb2_grpc,
    mailer_pb2,
    mailer_pb2_grpc,
)
from boletos_cli.channels import describe_failure
from boletos_cli.commands.boleto import print_boleto
from boletos_cli.main import main
from tests.support.processes import python_env
from tests.support.threaded_server import serving_on_a_thread

NEWEST = "6876820d-b337-4a6f-82c7-24e7bef36ffc"
# A file name as a user may send it: brackets and an escape the terminal must not act on.
FILE_NAME = "débitos [nov]\x1b[31m.csv"
EMPTY = "0d5f3c2e-1111-4a6f-82c7-24e7bef36ffc"  # known, with no rows at all

PIX = (
    "00020101021226900014br.gov.bcb.pix2568pix.example.com/qr/v2/cobv/"
    "9d36b84fc70b478fb95c12729b90ca255204000053039865406100.005802BR5925"
    "FUNDO DE RECEBIVEIS ALFA6009SAO PAULO62070503***6304ABCD"
)
BOLETO = boleto_pb2.Boleto(
    debt_id="8291a4c4-3b1e-4c3f-9e6b-5a7f6d9c2e10",
    upload_id=NEWEST,
    bank_code="001",
    nosso_numero="12345670000000042",
    barcode="00192110800007811000000001234567000000004217",
    digitable_line="00190.00009 01234.567004 00000.042176 2 11080000781100",
    amount_cents=781100,
    due_date="2025-06-10",
    pix_payload=PIX,
)


@dataclass
class Fakes:
    uploads: list[ingest_pb2.UploadSummary] = field(default_factory=list)
    asked_for: list[str] = field(default_factory=list)
    list_requests: list[ingest_pb2.ListUploadsRequest] = field(default_factory=list)


class FakeIngest(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, fakes: Fakes) -> None:
        self.fakes = fakes

    async def _known(self, upload_id: str, context: grpc.aio.ServicerContext) -> None:
        self.fakes.asked_for.append(upload_id)
        if upload_id not in (NEWEST, EMPTY):
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no upload {upload_id}")

    async def ListUploads(
        self, request: ingest_pb2.ListUploadsRequest, context: grpc.aio.ServicerContext
    ) -> ingest_pb2.ListUploadsResponse:
        self.fakes.list_requests.append(request)
        return ingest_pb2.ListUploadsResponse(uploads=self.fakes.uploads[: request.page_size])

    async def GetUpload(
        self, request: ingest_pb2.GetUploadRequest, context: grpc.aio.ServicerContext
    ) -> ingest_pb2.GetUploadResponse:
        await self._known(request.upload_id, context)
        return ingest_pb2.GetUploadResponse(
            summary=ingest_pb2.UploadSummary(
                upload_id=request.upload_id,
                file_name=FILE_NAME,
                state=ingest_pb2.UPLOAD_STATE_COMPLETED,
                rows=1,
                accepted=1,
            )
        )

    async def WatchUpload(
        self, request: ingest_pb2.WatchUploadRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.WatchUploadResponse]:
        await self._known(request.upload_id, context)
        yield ingest_pb2.WatchUploadResponse(
            progress=ingest_pb2.UploadProgress(
                upload_id=request.upload_id,
                state=ingest_pb2.UPLOAD_STATE_COMPLETED,
                rows=1,
                accepted=1,
                boletos_issued=1,
                emails_sent=1,
                settled=True,
            )
        )

    async def GetUploadReport(
        self, request: ingest_pb2.GetUploadReportRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.GetUploadReportResponse]:
        await self._known(request.upload_id, context)
        if request.upload_id == NEWEST:
            yield ingest_pb2.GetUploadReportResponse(
                lines=[ingest_pb2.ReportLine(line=2, debt_id=BOLETO.debt_id)]
            )

    async def ListRowErrors(
        self, request: ingest_pb2.ListRowErrorsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.ListRowErrorsResponse]:
        await self._known(request.upload_id, context)
        if request.upload_id == NEWEST:
            yield ingest_pb2.ListRowErrorsResponse(
                row_errors=[ingest_pb2.RowError(line=3, column="email", message="bad")]
            )


class FakeMailer(mailer_pb2_grpc.MailerServiceServicer):
    def __init__(self, fakes: Fakes) -> None:
        self.fakes = fakes

    async def ListDeliveries(
        self, request: mailer_pb2.ListDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> mailer_pb2.ListDeliveriesResponse:
        self.fakes.asked_for.append(request.upload_id)
        return mailer_pb2.ListDeliveriesResponse()


@pytest.fixture
def fakes() -> Fakes:
    return Fakes(uploads=[ingest_pb2.UploadSummary(upload_id=NEWEST, file_name=FILE_NAME)])


@pytest.fixture
def address(fakes: Fakes) -> Iterator[str]:
    def register(server: grpc.aio.Server) -> None:
        ingest_pb2_grpc.add_IngestServiceServicer_to_server(FakeIngest(fakes), server)
        mailer_pb2_grpc.add_MailerServiceServicer_to_server(FakeMailer(fakes), server)

    with serving_on_a_thread(register) as served:
        yield served


def run_cli(capsys: pytest.CaptureFixture[str], address: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--ingest", address, "--mailer", address, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


COMMANDS = ["watch", "status", "errors", "report", "deliveries"]


@pytest.mark.parametrize("command", COMMANDS)
def test_without_an_upload_id_the_newest_upload_is_taken_and_named(
    capsys: pytest.CaptureFixture[str], address: str, fakes: Fakes, command: str
) -> None:
    code, out, err = run_cli(capsys, address, command)

    assert code == 0, err
    # Named once, its file name shown safely: brackets as they are, the escape visible.
    assert f"the newest upload: {NEWEST} (débitos [nov]\\x1b[31m.csv)" in err
    assert "\x1b" not in err
    assert [r.page_size for r in fakes.list_requests] == [1]
    assert set(fakes.asked_for) == {NEWEST}


@pytest.mark.parametrize("command", COMMANDS)
def test_an_upload_id_given_is_used_without_listing_uploads(
    capsys: pytest.CaptureFixture[str], address: str, fakes: Fakes, command: str
) -> None:
    code, _, err = run_cli(capsys, address, command, EMPTY)

    assert code == 0, err
    assert "newest upload" not in err
    assert fakes.list_requests == []
    assert set(fakes.asked_for) == {EMPTY}


@pytest.mark.parametrize("command", COMMANDS)
def test_without_any_upload_the_error_says_so(
    capsys: pytest.CaptureFixture[str], address: str, fakes: Fakes, command: str
) -> None:
    fakes.uploads.clear()

    code, out, err = run_cli(capsys, address, command)

    assert code == 2
    assert out == ""
    assert "no uploads yet" in err and "UPLOAD_ID" in err
    assert fakes.asked_for == []


@pytest.mark.parametrize("command", ["report", "errors"])
def test_a_csv_whose_call_fails_prints_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str], address: str, command: str
) -> None:
    code, out, err = run_cli(capsys, address, command, "no-such-upload")

    assert code == 2
    assert out == ""
    assert "NOT_FOUND" in err


def test_a_report_still_has_its_header_and_lines(
    capsys: pytest.CaptureFixture[str], address: str
) -> None:
    code, out, err = run_cli(capsys, address, "report", NEWEST)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("line,debtId,outcome,")
    assert lines[1].startswith(f"2,{BOLETO.debt_id},")

    # No rows at all: the header alone, as before.
    code, out, err = run_cli(capsys, address, "report", EMPTY)
    assert code == 0, err
    assert out.splitlines() == [lines[0]]

    code, out, err = run_cli(capsys, address, "errors", EMPTY)
    assert code == 0, err
    assert out == "line,column,code,message\n"


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_boleto_shows_its_copyable_numbers_whole_at_any_width(width: int) -> None:
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)

    print_boleto(console, BOLETO)

    text = console.export_text()
    for whole in (PIX, BOLETO.digitable_line, BOLETO.barcode, BOLETO.debt_id):
        assert whole in text, f"{whole} was cut or folded at {width} columns:\n{text}"
    # Each labelled, the labels not squeezed away.
    for label in ("pix copia e cola", "linha digitável", "barcode", "debt id", "nosso número"):
        assert label in text
    # Only the Pix code, copied as one line, may run past the edge (the terminal wraps it).
    assert all(len(line) <= width for line in text.splitlines() if PIX not in line), text


def _failure(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


def test_a_tls_handshake_failure_is_called_a_certificate_problem() -> None:
    handshake = _failure(
        grpc.StatusCode.UNAVAILABLE,
        "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:50051: "
        "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: "
        "CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate",
    )
    line = describe_failure("ingest", "localhost:50051", handshake)
    assert "certificate problem" in line and "BOLETOS_CA_FILE" in line
    assert "source .stack/cli.env" in line and "is it running" not in line

    refused = _failure(
        grpc.StatusCode.UNAVAILABLE,
        "failed to connect to all addresses; last error: UNAVAILABLE: "
        "ipv4:127.0.0.1:50051: Connection refused",
    )
    line = describe_failure("ingest", "localhost:50051", refused)
    assert "is it running" in line and "certificate" not in line


def test_without_the_right_ca_the_cli_says_certificate_and_grpc_stays_quiet(
    address: str,
) -> None:
    # A process of its own: gRPC reads its verbosity once, when first imported.
    env = python_env()
    for name in ("BOLETOS_CA_FILE", "GRPC_VERBOSITY", "GRPC_TRACE"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "boletos_cli", "--ingest", address, "status", NEWEST],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "ssl_transport_security" not in done.stderr
    assert "certificate problem" in lines[0] and "BOLETOS_CA_FILE" in lines[0]
