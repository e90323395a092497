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
from boletos_cli.money import amount_text, reais_text
from boletos_cli.private_files import open_private
from boletos_cli.render import print_json, untrusted

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
        "linha digitável, and where it is at the bank (registered, rejected and why, paid: "
        "how much, on which day, the fee, and a flag when the amount paid is not the amount "
        "charged). Exits 2 when the debt has no boleto or the service fails.",
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
        "bank_status": bank_status_name(boleto.bank_status),
        "remessa_id": boleto.remessa_id,
        "paid_amount": amount_text(boleto.paid_cents) if _paid(boleto) else None,
        "paid_cents": boleto.paid_cents,
        "paid_on": boleto.paid_on,
        "fee_cents": boleto.fee_cents,
        "paid_amount_differs": boleto.paid_amount_differs,
        "rejection_reason": boleto.rejection_reason,
    }


def bank_status_name(value: int) -> str:
    """'paid' for BANK_STATUS_PAID; empty from a server that does not track it yet."""
    if not value:
        return ""
    try:
        return boleto_pb2.BankStatus.Name(value).removeprefix("BANK_STATUS_").lower()
    except ValueError:
        # A newer server may send statuses this client does not know yet.
        return str(value)


def _paid(boleto: boleto_pb2.Boleto) -> bool:
    return boleto.bank_status == boleto_pb2.BANK_STATUS_PAID or boleto.paid_cents != 0


_STATUS_STYLE = {
    boleto_pb2.BANK_STATUS_PAID: "green",
    boleto_pb2.BANK_STATUS_REJECTED: "red",
    boleto_pb2.BANK_STATUS_WRITTEN_OFF: "yellow",
}


# The widest label of the table ("linha digitável") and what its borders and padding take.
LABEL_WIDTH = 15
TABLE_FRAME = 7


def copyable_values(boleto: boleto_pb2.Boleto) -> list[tuple[str, str]]:
    """The numbers people copy into a banking app, which must never be cut or folded."""
    values = [("linha digitável", boleto.digitable_line), ("barcode", boleto.barcode)]
    if boleto.pix_payload:
        values.append(("pix copia e cola", boleto.pix_payload))
    return [(label, value) for label, value in values if value]


def fits_in_table(value: str, width: int) -> bool:
    return LABEL_WIDTH + len(value) + TABLE_FRAME <= width


def print_boleto(console: Console, boleto: boleto_pb2.Boleto) -> None:
    """The table, then each copyable value too long for a cell at this width whole on a line
    of its own: the terminal may wrap it, but copying it gives every character (the Pix code
    always goes there: 100 characters and more fit no table row)."""
    inside = {
        label
        for label, value in copyable_values(boleto)
        if label != "pix copia e cola" and fits_in_table(value, console.width)
    }
    console.print(boleto_table(boleto, inside))
    for label, value in copyable_values(boleto):
        if label in inside:
            continue
        console.print(Text(f"{label}:", style="bold"), highlight=False)
        console.print(untrusted(value), soft_wrap=True, highlight=False)


def boleto_table(
    boleto: boleto_pb2.Boleto,
    copyable: set[str] | frozenset[str] = frozenset({"linha digitável", "barcode"}),
) -> Table:
    """The boleto as label and value; of the copyable values (`copyable_values`), only those
    named in `copyable` (print_boleto prints the others below, whole)."""
    table = Table(title="Boleto", show_header=False, title_justify="left")
    # Never squeezed to nothing by a long value beside it.
    table.add_column(style="bold", no_wrap=True, min_width=LABEL_WIDTH)
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
        table.add_row("payer", untrusted(boleto.payer_name))
    table.add_row("bank", Text(boleto.bank_code))
    table.add_row("nosso número", Text(boleto.nosso_numero))
    table.add_row("due date", Text(due))
    table.add_row("amount", reais_text(boleto.amount_cents))
    table.add_row("  principal", reais_text(boleto.principal_cents))
    table.add_row("  fine", reais_text(boleto.fine_cents))
    table.add_row("  interest", reais_text(boleto.interest_cents))
    for label, value in copyable_values(boleto):
        if label in copyable:
            table.add_row(label, Text(value))
    issued = _timestamp(boleto.issued_at, boleto.HasField("issued_at"))
    if issued:
        table.add_row("issued at", issued)
    _add_bank_rows(table, boleto)
    return table


def _add_bank_rows(table: Table, boleto: boleto_pb2.Boleto) -> None:
    status = bank_status_name(boleto.bank_status)
    if status:
        shown = status.replace("_", " ")
        table.add_row("bank status", Text(shown, style=_STATUS_STYLE.get(boleto.bank_status, "")))
    if boleto.remessa_id:
        table.add_row("remessa", Text(boleto.remessa_id))
    if boleto.rejection_reason:
        # The bank's words: wrapped rather than cut, never read as markup.
        table.add_row("rejection", Text(boleto.rejection_reason, style="red", overflow="fold"))
    if _paid(boleto):
        paid = reais_text(boleto.paid_cents)
        if boleto.paid_on:
            paid += f" on {boleto.paid_on}"
        table.add_row("paid", paid)
        if boleto.fee_cents:
            table.add_row("  bank fee", reais_text(boleto.fee_cents))
    if boleto.paid_amount_differs:
        # Someone has to look: a payment short of (or above) the charge is not settled.
        table.add_row(
            "check",
            Text(
                f"amount paid differs from the {reais_text(boleto.amount_cents)} charged",
                style="bold red",
                overflow="fold",
            ),
        )


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
    print_boleto(out, response.boleto)
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
            with open_private(partial, "wb") as sink:
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
