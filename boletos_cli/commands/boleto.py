"""``boletos boleto`` and ``boletos pdf``: what the boleto service issued for one debt."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console
from rich.table import Table
from rich.text import Text

from boletos.v1 import boleto_pb2, boleto_pb2_grpc
from boletos_cli.channels import BOLETO, Endpoints, service_channel
from boletos_cli.failures import EXIT_OK, CliError
from boletos_cli.render import print_json

# A unary lookup answers from the database; anything slower than this is a stuck service.
CALL_TIMEOUT_SECONDS = 30.0
# Rendering a PDF the service has not cached yet takes longer than a lookup.
PDF_TIMEOUT_SECONDS = 120.0
STDOUT = "-"


def add_parsers(commands: argparse._SubParsersAction) -> None:
    boleto = commands.add_parser(
        "boleto",
        help="show the boleto issued for a debt",
        description="Show the boleto issued for a debt: amounts, due dates, barcode and "
        "linha digitável. Exits 2 when the debt has no boleto or the service fails.",
    )
    boleto.add_argument("debt_id", metavar="DEBT_ID")
    boleto.add_argument(
        "--json", dest="as_json", action="store_true", help="print one JSON object on stdout"
    )
    boleto.set_defaults(handler=run_boleto)

    pdf = commands.add_parser(
        "pdf",
        help="download the PDF of a debt's boleto",
        description="Download the PDF of a debt's boleto. The file appears only once "
        "every byte has arrived.",
    )
    pdf.add_argument("debt_id", metavar="DEBT_ID")
    pdf.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help=f"where to write the PDF; {STDOUT} for stdout",
    )
    pdf.set_defaults(handler=run_pdf)


def amount_text(cents: int) -> str:
    """'7811.00' for 781100: exact, from integer centavos."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole}.{fraction:02d}"


def reais_text(cents: int) -> str:
    """'R$ 7.811,00' for 781100, the way the amount is printed on a boleto."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}R$ {whole:,}".replace(",", ".") + f",{fraction:02d}"


def _timestamp(ts: Timestamp, present: bool) -> str | None:
    if not present:
        return None
    return ts.ToDatetime().isoformat(timespec="milliseconds") + "Z"


def boleto_dict(boleto: boleto_pb2.Boleto) -> dict[str, Any]:
    # Written out by hand, like the upload summary: the proto3 JSON mapping would turn the
    # int64 amounts into strings.
    return {
        "debt_id": boleto.debt_id,
        "upload_id": boleto.upload_id,
        "line": boleto.line,
        "payer_name": boleto.payer_name,
        "bank_code": boleto.bank_code,
        "nosso_numero": boleto.nosso_numero,
        "barcode": boleto.barcode,
        "digitable_line": boleto.digitable_line,
        "amount": amount_text(boleto.amount_cents),
        "amount_cents": boleto.amount_cents,
        "principal_cents": boleto.principal_cents,
        "fine_cents": boleto.fine_cents,
        "interest_cents": boleto.interest_cents,
        "due_date": boleto.due_date,
        "original_due_date": boleto.original_due_date,
        "issued_at": _timestamp(boleto.issued_at, boleto.HasField("issued_at")),
        "pix_payload": boleto.pix_payload,
    }


def boleto_table(boleto: boleto_pb2.Boleto) -> Table:
    table = Table(title="Boleto", show_header=False, title_justify="left")
    table.add_column(style="bold")
    # Numbers people copy into a banking app: never cut or wrapped.
    table.add_column(no_wrap=True)
    due = boleto.due_date
    if boleto.original_due_date and boleto.original_due_date != boleto.due_date:
        due += f" (originally {boleto.original_due_date})"
    # Text, not markup: ids and names are user data and may contain brackets.
    table.add_row("debt id", Text(boleto.debt_id))
    table.add_row("upload id", Text(boleto.upload_id))
    if boleto.line:
        table.add_row("line", str(boleto.line))
    if boleto.payer_name:
        table.add_row("payer", Text(boleto.payer_name))
    table.add_row("bank", Text(boleto.bank_code))
    table.add_row("nosso número", Text(boleto.nosso_numero))
    table.add_row("due date", Text(due))
    table.add_row("amount", reais_text(boleto.amount_cents))
    table.add_row("  principal", reais_text(boleto.principal_cents))
    table.add_row("  fine", reais_text(boleto.fine_cents))
    table.add_row("  interest", reais_text(boleto.interest_cents))
    table.add_row("linha digitável", Text(boleto.digitable_line))
    table.add_row("barcode", Text(boleto.barcode))
    if boleto.pix_payload:
        # Long, and copied whole into a banking app: wrapped rather than cut.
        table.add_row("pix copia e cola", Text(boleto.pix_payload, overflow="fold"))
    issued = _timestamp(boleto.issued_at, boleto.HasField("issued_at"))
    if issued:
        table.add_row("issued at", issued)
    return table


async def run_boleto(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    async with service_channel(BOLETO.name, endpoints.boleto) as channel:
        stub = boleto_pb2_grpc.BoletoServiceStub(channel)
        response = await stub.GetBoleto(
            boleto_pb2.GetBoletoRequest(debt_id=args.debt_id), timeout=CALL_TIMEOUT_SECONDS
        )
    if args.as_json:
        print_json(boleto_dict(response.boleto))
        return EXIT_OK
    out.print(boleto_table(response.boleto))
    return EXIT_OK


async def run_pdf(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    if args.output == STDOUT:
        if sys.stdout.isatty():
            raise CliError("refusing to write a PDF to a terminal; redirect stdout or give -o FILE")
        # Held until the stream ends so a failed call writes nothing rather than half a PDF.
        async with aclosing(_pdf_chunks(endpoints.boleto, args.debt_id)) as chunks:
            pdf = b"".join([chunk async for chunk in chunks])
        sys.stdout.flush()
        sys.stdout.buffer.write(pdf)
        sys.stdout.buffer.flush()
        err.print(f"{len(pdf):,} bytes written to stdout", markup=False, highlight=False)
        return EXIT_OK
    target = Path(args.output)
    size = await _download(endpoints.boleto, args.debt_id, target)
    out.print(f"{target} ({size:,} bytes)", markup=False, highlight=False, soft_wrap=True)
    return EXIT_OK


async def _download(address: str, debt_id: str, target: Path) -> int:
    # Written beside the target and renamed at the end, so a failed or cut-off stream never
    # leaves a file that looks like a complete PDF.
    partial = target.with_name(target.name + ".partial")
    size = 0
    try:
        # aclosing: a failed write must close the call now, not when the loop shuts down.
        async with aclosing(_pdf_chunks(address, debt_id)) as chunks:
            with partial.open("wb") as sink:
                async for chunk in chunks:
                    sink.write(chunk)
                    size += len(chunk)
        os.replace(partial, target)
    except OSError as exc:
        raise CliError(f"{exc.filename or target}: {exc.strerror}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return size


async def _pdf_chunks(address: str, debt_id: str) -> AsyncGenerator[bytes, None]:
    received = 0
    async with service_channel(BOLETO.name, address) as channel:
        stub = boleto_pb2_grpc.BoletoServiceStub(channel)
        call = stub.GetBoletoPdf(
            boleto_pb2.GetBoletoPdfRequest(debt_id=debt_id), timeout=PDF_TIMEOUT_SECONDS
        )
        async for message in call:
            received += len(message.chunk)
            yield message.chunk
    if not received:
        raise CliError(f"boleto service at {address} sent an empty PDF for debt {debt_id!r}")
