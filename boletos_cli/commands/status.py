"""``boletos status`` and ``boletos uploads``: what the ingest service knows about uploads;
and, for every command that takes an optional UPLOAD_ID, the newest upload when none is given."""

from __future__ import annotations

import argparse

import grpc
from rich.console import Console
from rich.text import Text

from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from boletos_cli import render
from boletos_cli.channels import Endpoints, service_channel
from boletos_cli.failures import EXIT_OK, CliError

# Unary calls answer from the database; anything slower than this is a stuck service.
CALL_TIMEOUT_SECONDS = 30.0


def add_upload_id(parser: argparse.ArgumentParser) -> None:
    """The optional UPLOAD_ID of watch, status, errors, report and deliveries."""
    parser.add_argument(
        "upload_id",
        metavar="UPLOAD_ID",
        nargs="?",
        default="",
        help="the upload (default: the newest one this API key can see, named on stderr)",
    )


async def upload_id_or_newest(upload_id: str, address: str, err: Console) -> str:
    """`upload_id` when given; otherwise the newest upload the credential can see, named on
    stderr so the user knows which one the answer is about."""
    if upload_id:
        return upload_id
    async with service_channel("ingest", address) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        response = await stub.ListUploads(
            ingest_pb2.ListUploadsRequest(page_size=1), timeout=CALL_TIMEOUT_SECONDS
        )
    if not response.uploads:
        raise CliError(
            "no uploads yet (none this API key can see): give an UPLOAD_ID, or send a file "
            "with `boletos upload FILE`"
        )
    newest = response.uploads[0]
    err.print(
        Text.assemble(
            "the newest upload: ",
            render.untrusted(newest.upload_id),
            " (",
            render.untrusted(newest.file_name),
            ")",
        ),
        highlight=False,
        soft_wrap=True,
    )
    return newest.upload_id


def add_parsers(commands: argparse._SubParsersAction) -> None:
    status = commands.add_parser(
        "status",
        help="show one upload and where its debts are in the pipeline",
        description="Show one upload's summary and a snapshot of its pipeline progress.",
    )
    add_upload_id(status)
    status.add_argument("--json", dest="as_json", action="store_true", help="print JSON")
    status.set_defaults(handler=run_status)

    uploads = commands.add_parser(
        "uploads",
        help="list recent uploads, newest first",
        description="List recent uploads, newest first.",
    )
    uploads.add_argument(
        "--limit", type=int, default=20, metavar="N", help="most uploads to list (default 20)"
    )
    uploads.add_argument(
        "--beneficiary", default="", metavar="KEY", help="only the uploads for this beneficiary"
    )
    uploads.add_argument("--json", dest="as_json", action="store_true", help="print JSON")
    uploads.set_defaults(handler=run_uploads)


async def run_status(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    upload_id = await upload_id_or_newest(args.upload_id, endpoints.ingest, err)
    async with service_channel("ingest", endpoints.ingest) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        response = await stub.GetUpload(
            ingest_pb2.GetUploadRequest(upload_id=upload_id), timeout=CALL_TIMEOUT_SECONDS
        )
        progress = await first_snapshot(stub, upload_id)
    if args.as_json:
        document = render.summary_dict(response.summary)
        document["progress"] = render.progress_dict(progress) if progress else None
        render.print_json(document)
        return EXIT_OK
    render.print_summary(out, response.summary)
    if progress is not None:
        out.print(render.progress_table(progress))
    return EXIT_OK


async def first_snapshot(
    stub: ingest_pb2_grpc.IngestServiceStub, upload_id: str
) -> ingest_pb2.UploadProgress | None:
    call = stub.WatchUpload(
        ingest_pb2.WatchUploadRequest(upload_id=upload_id), timeout=CALL_TIMEOUT_SECONDS
    )
    try:
        message = await call.read()
    finally:
        # One snapshot is all a status needs; the service would otherwise keep streaming.
        call.cancel()
    if message is grpc.aio.EOF:
        return None
    return message.progress


async def run_uploads(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    async with service_channel("ingest", endpoints.ingest) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        response = await stub.ListUploads(
            ingest_pb2.ListUploadsRequest(
                page_size=max(args.limit, 1), beneficiary=args.beneficiary
            ),
            timeout=CALL_TIMEOUT_SECONDS,
        )
    uploads = list(response.uploads)
    if args.as_json:
        render.print_json(
            {
                "uploads": [render.summary_dict(s) for s in uploads],
                "next_page_token": response.next_page_token,
            }
        )
        return EXIT_OK
    if not uploads:
        err.print("no uploads yet")
        return EXIT_OK
    out.print(render.uploads_table(uploads, out.width))
    return EXIT_OK
