"""``boletos report [UPLOAD_ID]``: one CSV line per data row of an upload's file, saying what
became of the row, its boleto and its e-mail."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from rich.console import Console

from boletos.report_columns import REPORT_CSV_HEADER, csv_row
from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from boletos_cli.channels import INGEST, Endpoints, service_channel
from boletos_cli.commands.status import add_upload_id, upload_id_or_newest
from boletos_cli.csv_output import HeaderedWriter, write_csv
from boletos_cli.failures import EXIT_OK

STDOUT = Path("-")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report",
        help="write an upload's report as CSV: one line per row of its file",
        description="Write an upload's report as CSV, one line per data row of its file, in "
        "line order: " + ",".join(REPORT_CSV_HEADER) + ". outcome is accepted, duplicate, conflict "
        "or rejected; boletoStatus pending, issued or failed; emailStatus pending, sent or "
        "failed (empty when none is due); error says why a row was not accepted or why its "
        "boleto or e-mail failed; paidAmount (e.g. 7811.00) and paidOn (YYYY-MM-DD) are "
        "empty until the bank reports the boleto paid.",
    )
    add_upload_id(parser)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=STDOUT,
        metavar="FILE",
        help="write to FILE instead of stdout ('-' is stdout)",
    )
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console) -> int:
    path = None if args.output == STDOUT else args.output
    upload_id = await upload_id_or_newest(args.upload_id, endpoints.ingest, err)
    count = await write_csv(path, lambda sink: write_report(endpoints.ingest, upload_id, sink))
    if path is not None:
        err.print(f"{count} report lines written to {path}", markup=False)
    return EXIT_OK


async def write_report(address: str, upload_id: str, sink: TextIO) -> int:
    writer = HeaderedWriter(sink, REPORT_CSV_HEADER)
    count = 0
    async with service_channel(INGEST.name, address) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        request = ingest_pb2.GetUploadReportRequest(upload_id=upload_id)
        async for batch in stub.GetUploadReport(request):
            writer.writerows(csv_row(line) for line in batch.lines)
            count += len(batch.lines)
    writer.finish()
    return count
