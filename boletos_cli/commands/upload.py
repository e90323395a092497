"""``boletos upload``: stream a CSV to the ingest service and report what became of it."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
)
from rich.text import Text

from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from boletos_cli import render
from boletos_cli.channels import Endpoints, service_channel
from boletos_cli.failures import EXIT_OK, EXIT_REFUSED, CliError
from boletos_cli.follow import follow

DEFAULT_CHUNK_BYTES = 64 * 1024
# Well under the servers' message limit, leaving room for framing.
MAX_CHUNK_BYTES = 4 * 1024 * 1024

_REFUSED_STATES = {ingest_pb2.UPLOAD_STATE_REJECTED, ingest_pb2.UPLOAD_STATE_INTERRUPTED}


@dataclass(frozen=True)
class UploadOptions:
    path: Path
    request_id: str = ""
    chunk_size: int = DEFAULT_CHUNK_BYTES
    wait: bool = False
    as_json: bool = False
    beneficiary: str = ""


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "upload",
        help="upload a debtors' CSV file",
        description="Stream a debtors' CSV to the ingest service and print its summary. "
        "Exits 0 even when some rows were rejected, 1 when the file was refused as a "
        "whole, 2 when the upload could not be made.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the CSV file to upload")
    parser.add_argument(
        "--json", dest="as_json", action="store_true", help="print one JSON object on stdout"
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="then follow the debts until every boleto and e-mail is settled",
    )
    parser.add_argument(
        "--beneficiary",
        default="",
        metavar="KEY",
        help="the beneficiary (creditor) the debts are owed to; required when the "
        "deployment collects for several",
    )
    parser.add_argument(
        "--request-id",
        default="",
        metavar="ID",
        help="idempotency key: sending the same file again with it resumes or returns "
        "the earlier upload",
    )
    parser.add_argument(
        "--chunk-size",
        type=_chunk_size,
        default=DEFAULT_CHUNK_BYTES,
        metavar="BYTES",
        help=f"bytes per message (default {DEFAULT_CHUNK_BYTES})",
    )
    parser.set_defaults(handler=run)


def _chunk_size(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of bytes: {raw!r}") from None
    if not 1 <= value <= MAX_CHUNK_BYTES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_CHUNK_BYTES}")
    return value


async def run(args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console) -> int:
    options = UploadOptions(
        path=args.file,
        request_id=args.request_id,
        chunk_size=args.chunk_size,
        wait=args.wait,
        as_json=args.as_json,
        beneficiary=args.beneficiary,
    )
    summary = await upload_and_report(endpoints.ingest, options, out, err)
    return EXIT_REFUSED if summary.state in _REFUSED_STATES else EXIT_OK


async def upload_and_report(
    address: str, options: UploadOptions, out: Console, err: Console
) -> ingest_pb2.UploadSummary:
    """Upload, print the summary (and, with wait, the settled progress)."""
    size = _file_size(options.path)
    async with service_channel("ingest", address) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        summary = await send_file(stub, options, size, err)
        if not options.as_json:
            render.print_summary(out, summary)
        progress = None
        if options.wait and summary.state not in _REFUSED_STATES:
            progress = await follow(stub, summary.upload_id, err)
    if options.as_json:
        document = render.summary_dict(summary)
        if options.wait:
            document["progress"] = render.progress_dict(progress) if progress else None
        render.print_json(document)
    elif progress is not None:
        out.print(render.progress_table(progress))
    return summary


def _file_size(path: Path) -> int:
    try:
        if not path.is_file():
            raise CliError(f"{path}: not a file")
        return path.stat().st_size
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror}") from exc


# The file's name as the bar shows it; with these widths the bar fits 80 columns.
NAME_WIDTH = 12
BAR_WIDTH = 16


class _RowsColumn(ProgressColumn):
    """Rows sent and rows per second, estimated from the newlines streamed so far."""

    def render(self, task: Task) -> Text:
        rows = task.fields.get("rows", 0)
        elapsed = task.finished_time if task.finished else task.elapsed
        rate = rows / elapsed if elapsed else 0.0
        return Text(f"{rows:,} rows {rate:,.0f}/s", style="progress.data.speed")


def upload_columns() -> tuple[ProgressColumn, ...]:
    return (
        TextColumn("[bold]upload[/] {task.description}"),
        BarColumn(bar_width=BAR_WIDTH),
        DownloadColumn(),
        _RowsColumn(),
    )


def shown_name(path: Path) -> str:
    name = path.name
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"


async def send_file(
    stub: ingest_pb2_grpc.IngestServiceStub, options: UploadOptions, size: int, err: Console
) -> ingest_pb2.UploadSummary:
    # Always an id, so that the upload can be found again if grpc loses the service's answer.
    request_id = options.request_id or f"cli-{uuid.uuid4()}"
    with Progress(*upload_columns(), console=err) as bar:
        task = bar.add_task(Text(shown_name(options.path)).markup, total=size, rows=0)

        async def requests() -> AsyncIterator[ingest_pb2.UploadRequest]:
            yield ingest_pb2.UploadRequest(
                header=ingest_pb2.UploadHeader(
                    file_name=options.path.name,
                    client_request_id=request_id,
                    beneficiary=options.beneficiary,
                )
            )
            newlines = sent = 0
            with options.path.open("rb") as source:
                while chunk := source.read(options.chunk_size):
                    yield ingest_pb2.UploadRequest(chunk=chunk)
                    sent += len(chunk)
                    newlines += chunk.count(b"\n")
                    # The header line is not a row.
                    bar.update(task, advance=len(chunk), rows=max(newlines - 1, 0))
            # Only this tells the service the file is whole rather than cut off.
            yield ingest_pb2.UploadRequest(end=ingest_pb2.UploadEnd(total_bytes=sent))

        try:
            response: ingest_pb2.UploadResponse = await stub.Upload(requests())
        except grpc.aio.AioRpcError as error:
            bar.update(task, visible=False)
            if not lost_to_a_late_write(error):
                raise
            await raise_outcome(stub, request_id, error)
            raise
        except BaseException:
            # The error line alone says what happened; a half-drawn bar would only blur it.
            bar.update(task, visible=False)
            raise
        summary = response.summary
        bar.update(task, completed=size, rows=summary.rows)
    return summary


def lost_to_a_late_write(error: grpc.aio.AioRpcError) -> bool:
    """grpc's asyncio client replaces the service's answer with an INTERNAL of its own when
    the service ends the call (refusing the file, say) while a chunk is being written
    (grpc/grpc#36066): the service's own word has to be asked for again."""
    return error.code() == grpc.StatusCode.INTERNAL and "execute_batch" in (
        error.debug_error_string() or ""
    )


async def raise_outcome(
    stub: ingest_pb2_grpc.IngestServiceStub, request_id: str, error: grpc.aio.AioRpcError
) -> None:
    """Raises what the service said of the upload with `request_id`, if it can be found among
    the caller's newest uploads; returns when it cannot."""
    try:
        listed = await stub.ListUploads(ingest_pb2.ListUploadsRequest(page_size=100))
    except grpc.aio.AioRpcError:
        return
    for upload in listed.uploads:
        if upload.client_request_id != request_id:
            continue
        if upload.state == ingest_pb2.UPLOAD_STATE_REJECTED:
            raise CliError(
                f"upload {upload.upload_id} refused: {upload.rejection_reason}"
            ) from error
        if upload.state == ingest_pb2.UPLOAD_STATE_INTERRUPTED:
            raise CliError(
                f"upload {upload.upload_id} interrupted: the service ended it with "
                f"{upload.rows:,} rows kept; send the file again to complete it"
            ) from error
        return
