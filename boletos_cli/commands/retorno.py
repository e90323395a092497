"""``boletos retorno FILE``: send a bank's CNAB 240 retorno file to the boleto service and say
what it changed: boletos registered, rejected, paid, written off, and every line it could
not use; or why it refused the file whole."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

import grpc
from google.rpc.error_details_pb2 import ErrorInfo
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from boletos.platform.errors import details_of
from boletos.v1 import boleto_pb2, boleto_pb2_grpc
from boletos_cli.channels import BOLETO, Endpoints, service_channel
from boletos_cli.failures import EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, CliError
from boletos_cli.money import amount_text, reais_text
from boletos_cli.render import listing, print_json, untrusted

CHUNK_BYTES = 64 * 1024
STDIN = "-"
STDIN_NAME = "stdin"


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "retorno",
        help="process a bank's CNAB 240 retorno file (registrations, payments)",
        description="Stream a bank's CNAB 240 retorno file to the boleto service, which "
        "records every occurrence in it (registration confirmed or rejected, paid, "
        "written off), and print what changed and every line it could not use. The same "
        "file sent again changes nothing. A file that is not a whole retorno of the "
        "service's bank (a remessa, junk, cut short, trailer counts wrong) is refused whole: "
        "nothing in it is applied, and once corrected it can be sent again. Exits 0 when the "
        f"file was processed, {EXIT_PROBLEMS} when it was processed but some lines could not "
        f"be used (they are listed), {EXIT_REFUSED} when the service refused it whole (the "
        "reason is printed), 2 when it could not be processed for any other reason.",
    )
    parser.add_argument("file", metavar="FILE", help=f"the retorno file; {STDIN} reads stdin")
    parser.add_argument(
        "--name",
        dest="file_name",
        default="",
        metavar="NAME",
        help=f"the file's name as the bank delivered it (default FILE's name, "
        f"{STDIN_NAME!r} for stdin)",
    )
    parser.add_argument(
        "--json", dest="as_json", action="store_true", help="print one JSON object on stdout"
    )
    parser.set_defaults(handler=run)


def summary_dict(summary: boleto_pb2.RetornoSummary) -> dict[str, Any]:
    # Written out by hand: the proto3 JSON mapping would turn the 64-bit counts into strings.
    return {
        "retorno_id": summary.retorno_id,
        "file_name": summary.file_name,
        "already_processed": summary.already_processed,
        "bank_code": summary.bank_code,
        "occurrences": summary.occurrences,
        "registered": summary.registered,
        "rejected": summary.rejected,
        "paid": summary.paid,
        "paid_amount": amount_text(summary.paid_cents),
        "paid_cents": summary.paid_cents,
        "written_off": summary.written_off,
        "other": summary.other,
        "amount_mismatches": summary.amount_mismatches,
        "repeated_occurrences": summary.repeated_occurrences,
        "problems": [{"line": p.line, "reason": p.reason} for p in summary.problems],
    }


def exit_code(summary: boleto_pb2.RetornoSummary) -> int:
    """Non-zero when lines went unused, so a script that processes retornos notices them."""
    return EXIT_PROBLEMS if summary.problems else EXIT_OK


def summary_table(summary: boleto_pb2.RetornoSummary) -> Table:
    title = "Retorno"
    if summary.already_processed:
        title += " (already processed: nothing changed)"
    # No borders and short labels: the 64-digit retorno id fits 80 columns whole.
    table = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_row("file", untrusted(summary.file_name, overflow="fold"))
    table.add_row("retorno id", Text(summary.retorno_id))
    table.add_row("bank", Text(summary.bank_code))
    table.add_row("occurrences", f"{summary.occurrences:,}")
    table.add_row("registered", f"{summary.registered:,}")
    table.add_row("rejected", _flag(summary.rejected, "red"))
    paid = f"{summary.paid:,}"
    if summary.paid:
        paid += f"  ({reais_text(summary.paid_cents)})"
    table.add_row("paid", Text(paid, style="green" if summary.paid else ""))
    table.add_row("written off", f"{summary.written_off:,}")
    table.add_row("other", f"{summary.other:,}")
    mismatches = _flag(summary.amount_mismatches, "yellow")
    if summary.amount_mismatches:
        mismatches.append("  paid an amount other than charged")
    table.add_row("mismatches", mismatches)
    repeated = Text(f"{summary.repeated_occurrences:,}")
    if summary.repeated_occurrences:
        repeated.append("  recorded by an earlier file, not applied again")
    table.add_row("repeated", repeated)
    table.add_row("problems", _flag(len(summary.problems), "red"))
    return table


def _flag(count: int, style: str) -> Text:
    return Text(f"{count:,}", style=style if count else "")


def problems_table(problems: list[boleto_pb2.RetornoProblem]) -> Table:
    table = listing("Lines not used")
    table.add_column("line", justify="right", no_wrap=True)
    table.add_column("reason", ratio=1)
    for problem in problems:
        # Text, not markup: a reason may quote the bank's line, brackets and all.
        where = str(problem.line) if problem.line else "file"
        table.add_row(where, Text(problem.reason))
    return table


def print_summary(out: Console, err: Console, summary: boleto_pb2.RetornoSummary) -> None:
    out.print(summary_table(summary))
    if summary.problems:
        # Every one of them: an unmatched payment is money nobody has accounted for.
        out.print(problems_table(list(summary.problems)))
        err.print(
            f"{len(summary.problems):,} line(s) of the retorno could not be used; "
            f"exit code {EXIT_PROBLEMS}",
            style="yellow",
            markup=False,
            highlight=False,
        )


class Refused(Exception):
    """The service refused the file whole: nothing in it was applied or recorded."""

    def __init__(self, file_name: str, message: str, reason: str) -> None:
        super().__init__(f"{file_name}: {message} [{reason}]")
        self.reason = reason


def refusal(file_name: str, exc: grpc.aio.AioRpcError) -> Refused | None:
    """The error as a refusal of the file itself, or None when it is about anything else
    (the service unreachable, the call malformed), which is no verdict on the file."""
    if exc.code() not in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
        return None
    reasons = [d.reason for d in details_of(exc) if isinstance(d, ErrorInfo)]
    if not reasons or not reasons[0].startswith("RETORNO_"):
        return None
    return Refused(file_name, " ".join((exc.details() or "").split()), reasons[0])


async def run(args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console) -> int:
    try:
        if args.file == STDIN:
            name = args.file_name or STDIN_NAME
            summary = await send(endpoints.boleto, sys.stdin.buffer, name, err)
        else:
            path = Path(args.file)
            source, size = _open(path)
            with source:
                name = args.file_name or path.name
                summary = await send(endpoints.boleto, source, name, err, size)
    except Refused as refused:
        err.print(f"boletos: {refused}", style="red", markup=False, highlight=False, soft_wrap=True)
        return EXIT_REFUSED
    if args.as_json:
        print_json(summary_dict(summary))
    else:
        print_summary(out, err, summary)
    return exit_code(summary)


def _open(path: Path) -> tuple[BinaryIO, int]:
    try:
        if not path.is_file():
            raise CliError(f"{path}: not a file")
        source = path.open("rb")
        return source, os.fstat(source.fileno()).st_size
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror}") from exc


async def send(
    address: str, source: BinaryIO, file_name: str, err: Console, size: int | None = None
) -> boleto_pb2.RetornoSummary:
    # Read off the event loop: stdin may be a pipe that takes its time.
    first = await asyncio.to_thread(source.read, CHUNK_BYTES)
    if not first:
        raise CliError(f"{file_name}: empty; a retorno has at least a header and a trailer")
    # Transient: the summary says what happened; a finished bar would only push it up.
    with Progress(
        TextColumn("[bold]retorno[/]"),
        BarColumn(bar_width=24),
        DownloadColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=size)

        async def requests() -> AsyncIterator[boleto_pb2.ProcessRetornoRequest]:
            yield boleto_pb2.ProcessRetornoRequest(
                header=boleto_pb2.RetornoHeader(file_name=file_name)
            )
            chunk = first
            while chunk:
                yield boleto_pb2.ProcessRetornoRequest(chunk=chunk)
                bar.update(task, advance=len(chunk))
                chunk = await asyncio.to_thread(source.read, CHUNK_BYTES)

        async with service_channel(BOLETO.name, address) as channel:
            stub = boleto_pb2_grpc.BoletoServiceStub(channel)
            try:
                response = await stub.ProcessRetorno(requests())
            except grpc.aio.AioRpcError as exc:
                refused = refusal(file_name, exc)
                if refused is None:
                    raise
                raise refused from exc
    return response.summary
