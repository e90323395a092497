"""``boletos errors [UPLOAD_ID]``: every row error of an upload as CSV."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from rich.console import Console

from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from boletos_cli import render
from boletos_cli.channels import Endpoints, service_channel
from boletos_cli.commands.status import add_upload_id, upload_id_or_newest
from boletos_cli.csv_output import HeaderedWriter, write_csv
from boletos_cli.failures import EXIT_OK

CSV_HEADER = ("line", "column", "code", "message")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "errors",
        help="print every row error of an upload as CSV",
        description="Print every row error of an upload as CSV (line,column,code,message).",
    )
    add_upload_id(parser)
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout"
    )
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console) -> int:
    upload_id = await upload_id_or_newest(args.upload_id, endpoints.ingest, err)
    count = await write_csv(
        args.output, lambda sink: write_errors(endpoints.ingest, upload_id, sink)
    )
    if args.output is not None:
        err.print(f"{count} row errors written to {args.output}", markup=False)
    note = await _unlisted_note(endpoints.ingest, upload_id)
    if note:
        err.print(note, markup=False)
    return EXIT_OK


async def _unlisted_note(address: str, upload_id: str) -> str:
    async with service_channel("ingest", address) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        got = await stub.GetUpload(ingest_pb2.GetUploadRequest(upload_id=upload_id))
    return render.unlisted_note(got.summary)


async def write_errors(address: str, upload_id: str, sink: TextIO) -> int:
    writer = HeaderedWriter(sink, CSV_HEADER)
    count = 0
    async with service_channel("ingest", address) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        request = ingest_pb2.ListRowErrorsRequest(upload_id=upload_id)
        async for batch in stub.ListRowErrors(request):
            rows = (render.row_error_dict(error) for error in batch.row_errors)
            writer.writerows([row[name] for name in CSV_HEADER] for row in rows)
            count += len(batch.row_errors)
    writer.finish()
    return count
