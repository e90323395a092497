"""``boletos watch [UPLOAD_ID]``: follow an upload's debts until every boleto and e-mail settles,
for an upload started elsewhere or a `upload --wait` stopped with Ctrl-C."""

from __future__ import annotations

import argparse

from rich.console import Console

from boletos.v1 import ingest_pb2_grpc
from boletos_cli import render
from boletos_cli.channels import INGEST, Endpoints, service_channel
from boletos_cli.commands.status import add_upload_id, upload_id_or_newest
from boletos_cli.failures import EXIT_OK
from boletos_cli.follow import follow


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "watch",
        help="follow an upload until every boleto and e-mail is settled",
        description="Follow an upload's debts through the pipeline until each has its e-mail "
        "sent or failed (or its boleto failed), then print the totals. Ctrl-C stops "
        "watching; the upload goes on.",
    )
    add_upload_id(parser)
    parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console) -> int:
    upload_id = await upload_id_or_newest(args.upload_id, endpoints.ingest, err)
    async with service_channel(INGEST.name, endpoints.ingest) as channel:
        progress = await follow(ingest_pb2_grpc.IngestServiceStub(channel), upload_id, err)
    if args.as_json:
        render.print_json(render.progress_dict(progress) if progress else None)
    elif progress is not None:
        out.print(render.progress_table(progress))
    return EXIT_OK
