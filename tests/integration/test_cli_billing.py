"""The billing commands (`remessa`, `retorno`) and the billing fields of `boleto`, `watch`,
`report` and `deliveries`, against small services on a real grpc.aio server.

The servicers here are fakes with fixed answers that implement only the calls under test:
these tests are about the CLI's side of the contracts, independent of how far the real
services have come.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from boletos.platform import errors
from boletos.v1 import (
    boleto_pb2,
    boleto_pb2_grpc,
    ingest_pb2,
    ingest_pb2_grpc,
    mailer_pb2,
    mailer_pb2_grpc,
)
from boletos_cli.main import main
from tests.support.threaded_server import serving_on_a_thread

UPLOAD_ID = "9b2d7c1e-0a4f-4e8b-8c3d-5f6a7b8c9d0e"
PAID_DEBT = "3f1c9a52-8d4e-4c1b-9f7a-2b6e5d0c7a11"
REJECTED_DEBT = "7a0e4c1b-2d3f-4e5a-8b9c-0d1e2f3a4b5c"
# Bytes that are not UTF-8 (CNAB files are Latin-1), so any decoding shows up.
REMESSA_BYTES = b"".join(
    (b"00100000         2" + b"CONCEI\xc7\xc3O".ljust(222) + b"\r\n") for _ in range(300)
)
TAMPERED = "001-1234-56789-000666"
BROKEN = "001-1234-56789-000500"
# What a file the service refuses as a whole starts with.
NOT_CNAB = b"this is not a CNAB 240 file\n"
# What a retorno of a bank the service has no boleto of starts with.
OTHER_BANK = b"34100000"
# What a file the fake answers with an error about the call, not the file, starts with.
BAD_CALL = b"bad call"
# A retorno line the fake cannot match to a boleto.
UNKNOWN_LINE = b"UNKNOWN-NOSSO-NUMERO"


def _stamp(year: int, month: int, day: int, hour: int, minute: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(year, month, day, hour, minute, tzinfo=UTC))
    return stamp


def remessa(nsa: int, titles: int = 37, amount_cents: int = 123_456_789) -> boleto_pb2.Remessa:
    return boleto_pb2.Remessa(
        remessa_id=f"001-1234-56789-{nsa:06d}",
        bank_code="001",
        agencia="1234",
        conta="56789",
        nsa=nsa,
        titles=titles,
        amount_cents=amount_cents,
        file_name=f"CB{nsa:06d}.REM",
        size_bytes=len(REMESSA_BYTES),
        sha256=hashlib.sha256(REMESSA_BYTES).hexdigest(),
        created_at=_stamp(2026, 11, 30, 4, nsa % 60),
        upload_id=UPLOAD_ID,
    )


PAID_BOLETO = boleto_pb2.Boleto(
    debt_id=PAID_DEBT,
    upload_id=UPLOAD_ID,
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
    payer_name="Ana Lima",
    issued_at=_stamp(2025, 6, 1, 12, 30),
    line=7,
    bank_status=boleto_pb2.BANK_STATUS_PAID,
    remessa_id="001-1234-56789-000042",
    paid_cents=780000,
    paid_on="2025-06-09",
    fee_cents=250,
    paid_amount_differs=True,
)
REJECTED_BOLETO = boleto_pb2.Boleto(
    debt_id=REJECTED_DEBT,
    upload_id=UPLOAD_ID,
    bank_code="341",
    amount_cents=10000,
    principal_cents=10000,
    bank_status=boleto_pb2.BANK_STATUS_REJECTED,
    remessa_id="341-0001-12345-000001",
    rejection_reason="09 [Nosso número duplicado]",
)


@dataclass
class Calls:
    """What the fakes were asked, for the tests to check; and what they should answer."""

    remessas: list[boleto_pb2.Remessa] = field(default_factory=list)
    created: list[boleto_pb2.Remessa] = field(default_factory=list)
    page_sizes: list[int] = field(default_factory=list)
    retornos: list[list[boleto_pb2.ProcessRetornoRequest]] = field(default_factory=list)
    seen_retornos: set[str] = field(default_factory=set)
    delivery_kinds: list[int] = field(default_factory=list)


# The fake serves at most this many remessas a page, whatever is asked, so paging shows.
FAKE_PAGE = 2


class FakeBoletoService(boleto_pb2_grpc.BoletoServiceServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def GetBoleto(
        self, request: boleto_pb2.GetBoletoRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.GetBoletoResponse:
        known = {PAID_DEBT: PAID_BOLETO, REJECTED_DEBT: REJECTED_BOLETO}
        if request.debt_id not in known:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such boleto")
        return boleto_pb2.GetBoletoResponse(boleto=known[request.debt_id])

    async def ListRemessas(
        self, request: boleto_pb2.ListRemessasRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.ListRemessasResponse:
        self.calls.page_sizes.append(request.page_size)
        start = int(request.page_token or 0)
        end = start + min(request.page_size or 50, FAKE_PAGE)
        more = end < len(self.calls.remessas)
        return boleto_pb2.ListRemessasResponse(
            remessas=self.calls.remessas[start:end], next_page_token=str(end) if more else ""
        )

    async def GetRemessa(
        self, request: boleto_pb2.GetRemessaRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[boleto_pb2.GetRemessaResponse]:
        described = {r.remessa_id: r for r in self.calls.remessas}.get(request.remessa_id)
        if described is None:
            await errors.not_found(
                context,
                "remessa",
                request.remessa_id,
                f"no remessa {request.remessa_id}",
                "REMESSA_NOT_FOUND",
            )
        content = REMESSA_BYTES
        if request.remessa_id == TAMPERED:
            # One byte changed on the way: the description still says the original.
            content = REMESSA_BYTES[:100] + b"X" + REMESSA_BYTES[101:]
        yield boleto_pb2.GetRemessaResponse(remessa=described)
        for start in range(0, len(content), 7000):
            yield boleto_pb2.GetRemessaResponse(chunk=content[start : start + 7000])
            if request.remessa_id == BROKEN:
                await context.abort(grpc.StatusCode.INTERNAL, "disk read failed")

    async def CreateRemessas(
        self, request: boleto_pb2.CreateRemessasRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.CreateRemessasResponse:
        return boleto_pb2.CreateRemessasResponse(remessas=self.calls.created)

    async def ProcessRetorno(
        self,
        requests: AsyncIterator[boleto_pb2.ProcessRetornoRequest],
        context: grpc.aio.ServicerContext,
    ) -> boleto_pb2.ProcessRetornoResponse:
        received = [r async for r in requests]
        self.calls.retornos.append(received)
        content = b"".join(r.chunk for r in received)
        if content.startswith(NOT_CNAB):
            await errors.abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                "retorno refused, nothing in it applied or recorded: line 1: not a CNAB 240 "
                "record (28 characters, not 240)",
                errors.error_info("RETORNO_NOT_CNAB240", line="1"),
            )
        if content.startswith(OTHER_BANK):
            await errors.failed_precondition(
                context,
                "RETORNO_BANK_NOT_SERVED",
                "bank 341",
                "retorno refused, nothing in it applied or recorded: bank 341 wrote the file; "
                "this service has no boleto of that bank",
                bank_code="341",
            )
        if content.startswith(BAD_CALL):
            await errors.invalid_argument(context, "header.file_name", "bad", "INVALID_FIELD")
        retorno_id = hashlib.sha256(content).hexdigest()
        again = retorno_id in self.calls.seen_retornos
        self.calls.seen_retornos.add(retorno_id)
        lines = content.splitlines()
        problems = [
            boleto_pb2.RetornoProblem(
                line=n, reason=f"nosso número {line.decode('latin-1')[:20]} names no boleto"
            )
            for n, line in enumerate(lines, start=1)
            if UNKNOWN_LINE in line
        ]
        summary = boleto_pb2.RetornoSummary(
            retorno_id=retorno_id,
            file_name=received[0].header.file_name,
            already_processed=again,
            bank_code="001",
            occurrences=len(lines),
            registered=0 if again else 5,
            rejected=0 if again else 1,
            paid=0 if again else 3,
            paid_cents=0 if again else 2_345_678,
            written_off=0 if again else 1,
            other=0 if again else 2,
            amount_mismatches=0 if again else 1,
            repeated_occurrences=len(lines) if again else 0,
            problems=problems,
        )
        return boleto_pb2.ProcessRetornoResponse(summary=summary)


class FakeIngestService(ingest_pb2_grpc.IngestServiceServicer):
    async def WatchUpload(
        self, request: ingest_pb2.WatchUploadRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.WatchUploadResponse]:
        yield ingest_pb2.WatchUploadResponse(
            progress=ingest_pb2.UploadProgress(
                upload_id=request.upload_id,
                state=ingest_pb2.UPLOAD_STATE_COMPLETED,
                rows=10,
                accepted=10,
                boletos_issued=10,
                emails_sent=10,
                settled=True,
                boletos_paid=3,
                paid_cents=1_234_567,
            )
        )

    async def GetUploadReport(
        self, request: ingest_pb2.GetUploadReportRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.GetUploadReportResponse]:
        yield ingest_pb2.GetUploadReportResponse(
            lines=[
                ingest_pb2.ReportLine(
                    line=2,
                    debt_id=PAID_DEBT,
                    outcome=ingest_pb2.ROW_OUTCOME_ACCEPTED,
                    boleto_status=ingest_pb2.BOLETO_STATUS_ISSUED,
                    nosso_numero="12345670000000042",
                    email_status=ingest_pb2.EMAIL_STATUS_SENT,
                    paid_cents=780005,
                    paid_on="2025-06-09",
                ),
                ingest_pb2.ReportLine(
                    line=3,
                    debt_id=REJECTED_DEBT,
                    outcome=ingest_pb2.ROW_OUTCOME_ACCEPTED,
                    boleto_status=ingest_pb2.BOLETO_STATUS_ISSUED,
                    nosso_numero="12345670000000043",
                    email_status=ingest_pb2.EMAIL_STATUS_SENT,
                ),
            ]
        )


class FakeMailerService(mailer_pb2_grpc.MailerServiceServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def ListDeliveries(
        self, request: mailer_pb2.ListDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> mailer_pb2.ListDeliveriesResponse:
        self.calls.delivery_kinds.append(request.kind)
        kind = request.kind or mailer_pb2.DELIVERY_KIND_BOLETO
        return mailer_pb2.ListDeliveriesResponse(
            deliveries=[
                mailer_pb2.Delivery(
                    debt_id=PAID_DEBT,
                    upload_id=request.upload_id,
                    status=mailer_pb2.DELIVERY_STATUS_SENT,
                    recipient="a***@example.com",
                    attempts=1,
                    line=2,
                    kind=kind,
                )
            ]
        )


@dataclass
class FakeServer:
    """The three fakes on one server; `calls` records what they were asked."""

    calls: Calls
    address: str


@pytest.fixture
def server() -> Iterator[FakeServer]:
    calls = Calls(remessas=[remessa(n) for n in (5, 4, 3, 2, 1)])
    calls.remessas += [remessa(666), remessa(500)]
    calls.remessas[-2].remessa_id = TAMPERED
    calls.remessas[-1].remessa_id = BROKEN

    def register(server: grpc.aio.Server) -> None:
        boleto_pb2_grpc.add_BoletoServiceServicer_to_server(FakeBoletoService(calls), server)
        ingest_pb2_grpc.add_IngestServiceServicer_to_server(FakeIngestService(), server)
        mailer_pb2_grpc.add_MailerServiceServicer_to_server(FakeMailerService(calls), server)

    with serving_on_a_thread(register) as address:
        yield FakeServer(calls, address)


def cli(capsys: pytest.CaptureFixture[str], server: FakeServer, *argv: str) -> tuple[int, str, str]:
    addresses = ["--boleto", server.address, "--ingest", server.address]
    code = main([*addresses, "--mailer", server.address, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- remessa list ---------------------------------------------------------------------------


def test_remessa_list_json_pages_until_the_limit(
    capsys: pytest.CaptureFixture[str], server: FakeServer
) -> None:
    code, out, err = cli(capsys, server, "remessa", "list", "--limit", "5", "--json")

    assert code == 0, err
    assert out.count("\n") == 1
    document = json.loads(out)
    assert [r["nsa"] for r in document["remessas"]] == [5, 4, 3, 2, 1]
    # Five asked, two a page: three calls, each for no more than is still missing.
    assert server.calls.page_sizes == [5, 3, 1]
    assert document["next_page_token"] == "5"
    assert document["remessas"][0] == {
        "remessa_id": "001-1234-56789-000005",
        "bank_code": "001",
        "agencia": "1234",
        "conta": "56789",
        "nsa": 5,
        "titles": 37,
        "amount": "1234567.89",
        "amount_cents": 123_456_789,
        "file_name": "CB000005.REM",
        "size_bytes": len(REMESSA_BYTES),
        "sha256": hashlib.sha256(REMESSA_BYTES).hexdigest(),
        "created_at": "2026-11-30T04:05:00.000Z",
        "upload_id": UPLOAD_ID,
        "beneficiary": "",
    }
    assert document["left_out"] == {}


def test_remessa_list_stops_at_the_last_page(
    capsys: pytest.CaptureFixture[str], server: FakeServer
) -> None:
    code, out, err = cli(capsys, server, "remessa", "list", "--limit", "100", "--json")

    assert code == 0, err
    document = json.loads(out)
    assert len(document["remessas"]) == len(server.calls.remessas)
    assert document["next_page_token"] == ""


def test_remessa_list_table_fits_80_columns(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")

    code, out, err = cli(capsys, server, "remessa", "list")

    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 80, out
    for expected in ("001-1234-56789-000005", "amount R$", "1.234.567,89", "2026-11-30", "NSA"):
        assert expected in out
    assert "CB000005.REM" not in out


def test_remessa_list_shows_file_names_on_a_wide_terminal(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "140")

    code, out, err = cli(capsys, server, "remessa", "list")

    assert code == 0, err
    assert "CB000005.REM" in out and "2026-11-30 04:05" in out


def test_remessa_list_with_none_says_so(
    capsys: pytest.CaptureFixture[str], server: FakeServer
) -> None:
    server.calls.remessas.clear()

    code, out, err = cli(capsys, server, "remessa", "list")

    assert (code, out) == (0, "")
    assert "no remessas yet" in err


def test_remessa_list_refuses_a_limit_below_one(
    capsys: pytest.CaptureFixture[str], server: FakeServer
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli(capsys, server, "remessa", "list", "--limit", "0")
    assert exited.value.code == 2


# --- remessa get ----------------------------------------------------------------------------


def test_remessa_get_writes_the_exact_bytes_and_confirms_size_and_sha256(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    target = tmp_path / "CB000005.REM"

    code, out, err = cli(
        capsys, server, "remessa", "get", "001-1234-56789-000005", "-o", str(target)
    )

    assert code == 0, err
    assert target.read_bytes() == REMESSA_BYTES
    # Every payer's CPF and address is in it: the owner's to read, like the service's copy.
    assert target.stat().st_mode & 0o777 == 0o600
    line = one_line(out)
    assert str(target) in line
    assert f"{len(REMESSA_BYTES):,} bytes" in line
    assert hashlib.sha256(REMESSA_BYTES).hexdigest() in line
    assert list(tmp_path.iterdir()) == [target]


def test_remessa_get_to_stdout(
    capsysbinary: pytest.CaptureFixture[bytes], server: FakeServer
) -> None:
    code = main(["--boleto", server.address, "remessa", "get", "001-1234-56789-000003", "-o", "-"])

    captured = capsysbinary.readouterr()
    assert code == 0, captured.err
    assert captured.out == REMESSA_BYTES
    assert hashlib.sha256(REMESSA_BYTES).hexdigest().encode() in captured.err


def test_remessa_whose_bytes_do_not_match_its_sha256_is_not_written(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    target = tmp_path / "remessa.rem"
    target.write_bytes(b"an earlier download")

    code, out, err = cli(capsys, server, "remessa", "get", TAMPERED, "-o", str(target))

    assert code == 2
    assert out == ""
    line = one_line(err)
    assert "NOT written" in line and "SHA-256" in line
    assert hashlib.sha256(REMESSA_BYTES).hexdigest() in line
    assert target.read_bytes() == b"an earlier download"
    assert list(tmp_path.iterdir()) == [target]


def test_remessa_whose_bytes_do_not_match_writes_nothing_to_stdout(
    capsysbinary: pytest.CaptureFixture[bytes], server: FakeServer
) -> None:
    code = main(["--boleto", server.address, "remessa", "get", TAMPERED, "-o", "-"])

    captured = capsysbinary.readouterr()
    assert code == 2
    assert captured.out == b""
    assert b"NOT written" in captured.err


def test_remessa_stream_failing_half_way_keeps_the_old_file(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    target = tmp_path / "remessa.rem"
    target.write_bytes(b"an earlier download")

    code, _, err = cli(capsys, server, "remessa", "get", BROKEN, "-o", str(target))

    assert code == 2
    assert "INTERNAL" in err and "disk read failed" in err
    assert target.read_bytes() == b"an earlier download"
    assert list(tmp_path.iterdir()) == [target]


def test_unknown_remessa_exits_2_with_the_reason_code(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    code, out, err = cli(capsys, server, "remessa", "get", "nope", "-o", str(tmp_path / "r"))

    assert code == 2
    assert out == ""
    line = one_line(err)
    assert "NOT_FOUND" in line and "[REMESSA_NOT_FOUND]" in line and server.address in line
    assert list(tmp_path.iterdir()) == []


# --- remessa create -------------------------------------------------------------------------


def test_remessa_create_lists_what_was_written(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    server.calls.created = [remessa(7, titles=1000, amount_cents=100), remessa(8, titles=1)]

    code, out, err = cli(capsys, server, "remessa", "create")

    assert code == 0, err
    assert "001-1234-56789-000007" in out and "001-1234-56789-000008" in out
    assert "2 remessa(s) written: 1,001 boletos, R$ 1.234.568,89" in out


def test_remessa_create_json(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    server.calls.created = [remessa(7)]

    code, out, err = cli(capsys, server, "remessa", "create", "--json")

    assert code == 0, err
    document = json.loads(out)
    assert [r["remessa_id"] for r in document["remessas"]] == ["001-1234-56789-000007"]


def test_remessa_create_with_nothing_waiting(
    capsys: pytest.CaptureFixture[str], server: FakeServer
) -> None:
    code, out, err = cli(capsys, server, "remessa", "create")
    assert code == 0, err
    assert "no boleto waiting" in out

    code, out, err = cli(capsys, server, "remessa", "create", "--json")
    assert code == 0, err
    assert json.loads(out) == {"remessas": []}


# --- retorno --------------------------------------------------------------------------------


def retorno_bytes(lines: int, unknown_at: tuple[int, ...] = ()) -> bytes:
    rows = []
    for n in range(1, lines + 1):
        text = UNKNOWN_LINE if n in unknown_at else b"T" * 20
        rows.append(text.ljust(240, b" ") + b"\r\n")
    return b"".join(rows)


def test_retorno_streams_a_header_then_chunks_of_64_kib(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "CB300001.RET"
    content = retorno_bytes(1000)  # 242,000 bytes: four chunks
    path.write_bytes(content)

    code, out, err = cli(capsys, server, "retorno", str(path))

    assert code == 0, err
    [received] = server.calls.retornos
    assert received[0].WhichOneof("payload") == "header"
    assert received[0].header.file_name == "CB300001.RET"
    chunks = [r.chunk for r in received[1:]]
    assert all(r.WhichOneof("payload") == "chunk" for r in received[1:])
    assert [len(c) for c in chunks] == [65536, 65536, 65536, len(content) - 3 * 65536]
    assert b"".join(chunks) == content
    for expected in (
        "CB300001.RET",
        hashlib.sha256(content).hexdigest(),
        "registered",
        "3  (R$ 23.456,78)",
        "written off",
        "paid an amount other than charged",
    ):
        assert expected in out
    assert "already processed" not in out


def test_retorno_with_unmatched_lines_lists_each_and_exits_3(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "retorno.ret"
    path.write_bytes(retorno_bytes(40, unknown_at=(7, 31)))

    code, out, err = cli(capsys, server, "retorno", str(path))

    assert code == 3
    rows = [line.strip().split(None, 1) for line in out.splitlines()]
    assert ["7", "nosso número UNKNOWN-NOSSO-NUMERO names no boleto"] in rows
    assert ["31", "nosso número UNKNOWN-NOSSO-NUMERO names no boleto"] in rows
    assert "2 line(s) of the retorno could not be used" in err


def test_retorno_json_carries_counts_and_problems_and_the_same_exit_code(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "retorno.ret"
    content = retorno_bytes(10, unknown_at=(4,))
    path.write_bytes(content)

    code, out, err = cli(capsys, server, "retorno", str(path), "--json")

    assert code == 3, err
    assert out.count("\n") == 1
    assert json.loads(out) == {
        "retorno_id": hashlib.sha256(content).hexdigest(),
        "file_name": "retorno.ret",
        "already_processed": False,
        "bank_code": "001",
        "occurrences": 10,
        "registered": 5,
        "rejected": 1,
        "paid": 3,
        "paid_amount": "23456.78",
        "paid_cents": 2_345_678,
        "written_off": 1,
        "other": 2,
        "amount_mismatches": 1,
        "repeated_occurrences": 0,
        "problems": [{"line": 4, "reason": "nosso número UNKNOWN-NOSSO-NUMERO names no boleto"}],
    }


def test_retorno_sent_twice_says_it_was_already_processed(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "retorno.ret"
    path.write_bytes(retorno_bytes(10))

    first, _, _ = cli(capsys, server, "retorno", str(path))
    code, out, err = cli(capsys, server, "retorno", str(path))

    assert (first, code) == (0, 0), err
    assert "already processed: nothing changed" in out
    assert "recorded by an earlier file" in out


def test_retorno_reads_stdin(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = retorno_bytes(300)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(content)))

    code, out, err = cli(capsys, server, "retorno", "-", "--json")

    assert code == 0, err
    [received] = server.calls.retornos
    assert received[0].header.file_name == "stdin"
    assert b"".join(r.chunk for r in received[1:]) == content
    assert json.loads(out)["retorno_id"] == hashlib.sha256(content).hexdigest()


def test_retorno_from_stdin_takes_the_banks_file_name(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(retorno_bytes(3))))

    code, _, err = cli(capsys, server, "retorno", "-", "--name", "IEDCBR0101.RET")

    assert code == 0, err
    assert server.calls.retornos[0][0].header.file_name == "IEDCBR0101.RET"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (
            NOT_CNAB,
            "boletos: notes.txt: retorno refused, nothing in it applied or recorded: line 1: "
            "not a CNAB 240 record (28 characters, not 240) [RETORNO_NOT_CNAB240]",
        ),
        (
            OTHER_BANK + b"0" * 232 + b"\r\n",
            "boletos: notes.txt: retorno refused, nothing in it applied or recorded: bank 341 "
            "wrote the file; this service has no boleto of that bank [RETORNO_BANK_NOT_SERVED]",
        ),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_retorno_refused_as_a_whole_exits_1_with_the_reason(
    capsys: pytest.CaptureFixture[str],
    server: FakeServer,
    tmp_path: Path,
    content: bytes,
    said: str,
    as_json: bool,
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)

    code, out, err = cli(capsys, server, "retorno", str(path), *(["--json"] if as_json else []))

    assert code == 1
    assert out == ""
    assert " ".join(err.split()) == said


def test_retorno_failing_for_another_reason_exits_2(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "retorno.ret"
    path.write_bytes(BAD_CALL)

    code, out, err = cli(capsys, server, "retorno", str(path))

    assert (code, out) == (2, "")
    line = one_line(err)
    assert "INVALID_ARGUMENT" in line and "[INVALID_FIELD]" in line


@pytest.mark.parametrize("name", ["empty.ret", "missing.ret"])
def test_retorno_of_an_empty_or_missing_file_calls_nobody(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    if name == "empty.ret":
        path.write_bytes(b"")

    code, out, err = cli(capsys, server, "retorno", str(path))

    assert code == 2
    assert out == ""
    assert name in one_line(err)
    assert server.calls.retornos == []


# --- boleto, watch, report, deliveries -----------------------------------------------------


def test_boleto_json_shows_where_it_is_at_the_bank(
    capsys: pytest.CaptureFixture[str], server: FakeServer
) -> None:
    code, out, err = cli(capsys, server, "boleto", PAID_DEBT, "--json")

    assert code == 0, err
    document = json.loads(out)
    assert {k: document[k] for k in list(document)[-8:]} == {
        "bank_status": "paid",
        "remessa_id": "001-1234-56789-000042",
        "paid_amount": "7800.00",
        "paid_cents": 780000,
        "paid_on": "2025-06-09",
        "fee_cents": 250,
        "paid_amount_differs": True,
        "rejection_reason": "",
    }


def test_boleto_table_shows_the_payment_and_flags_a_different_amount(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")

    code, out, err = cli(capsys, server, "boleto", PAID_DEBT)

    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 80, out
    for expected in (
        "bank status",
        "paid",
        "001-1234-56789-000042",
        "R$ 7.800,00 on 2025-06-09",
        "R$ 2,50",
        "amount paid differs from the R$ 7.811,00 charged",
    ):
        assert expected in out


def test_boleto_table_shows_why_the_bank_rejected_it(
    capsys: pytest.CaptureFixture[str], server: FakeServer
) -> None:
    code, out, err = cli(capsys, server, "boleto", REJECTED_DEBT)

    assert code == 0, err
    assert "rejected" in out
    assert "09 [Nosso número duplicado]" in out  # the bank's words, not read as markup
    assert "on 20" not in out  # nothing paid

    code, out, err = cli(capsys, server, "boleto", REJECTED_DEBT, "--json")
    document = json.loads(out)
    assert (document["bank_status"], document["paid_amount"]) == ("rejected", None)
    assert document["rejection_reason"] == "09 [Nosso número duplicado]"


def test_watch_shows_payments(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    code, out, err = cli(capsys, server, "watch", UPLOAD_ID, "--json")
    assert code == 0, err
    progress = json.loads(out)
    assert (progress["boletos_paid"], progress["paid_cents"]) == (3, 1_234_567)

    code, out, err = cli(capsys, server, "watch", UPLOAD_ID)
    assert code == 0, err
    assert "boletos paid" in out and "R$ 12.345,67" in out


def test_report_has_the_paid_columns(
    capsys: pytest.CaptureFixture[str], server: FakeServer
) -> None:
    code, out, err = cli(capsys, server, "report", UPLOAD_ID)

    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][-2:] == ["paidAmount", "paidOn"]
    assert rows[1][-2:] == ["7800.05", "2025-06-09"]
    assert rows[2][-2:] == ["", ""]


@pytest.mark.parametrize(
    ("option", "kind", "name"),
    [
        ((), mailer_pb2.DELIVERY_KIND_BOLETO, "boleto"),
        (("--kind", "boleto"), mailer_pb2.DELIVERY_KIND_BOLETO, "boleto"),
        (("--kind", "reminder"), mailer_pb2.DELIVERY_KIND_REMINDER, "reminder"),
        (("--kind", "overdue"), mailer_pb2.DELIVERY_KIND_OVERDUE_NOTICE, "overdue"),
        (("--kind", "receipt"), mailer_pb2.DELIVERY_KIND_RECEIPT, "receipt"),
    ],
)
def test_deliveries_asks_for_one_kind(
    capsys: pytest.CaptureFixture[str],
    server: FakeServer,
    option: tuple[str, ...],
    kind: int,
    name: str,
) -> None:
    code, out, err = cli(capsys, server, "deliveries", UPLOAD_ID, *option, "--json")

    assert code == 0, err
    assert server.calls.delivery_kinds == [kind]
    document = json.loads(out)
    assert document["kind"] == name
    assert [d["kind"] for d in document["deliveries"]] == [name]


def test_deliveries_table_names_the_kind(
    capsys: pytest.CaptureFixture[str], server: FakeServer
) -> None:
    code, out, err = cli(capsys, server, "deliveries", UPLOAD_ID, "--kind", "reminder")

    assert code == 0, err
    assert f"reminder deliveries of upload {UPLOAD_ID}" in out
    assert "1 reminder deliveries" in out


def test_deliveries_refuses_an_unknown_kind(
    capsys: pytest.CaptureFixture[str], server: FakeServer
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli(capsys, server, "deliveries", UPLOAD_ID, "--kind", "spam")
    assert exited.value.code == 2
    assert server.calls.delivery_kinds == []


def test_a_service_without_the_call_is_said_to_be_older(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path
) -> None:
    # The fake has no GetBoletoPdf, as a service of before remessas has no ListRemessas.
    code, out, err = cli(capsys, server, "pdf", PAID_DEBT, "-o", str(tmp_path / "b.pdf"))

    assert code == 2
    assert out == ""
    line = one_line(err)
    assert "UNIMPLEMENTED" in line and "older than this command" in line
