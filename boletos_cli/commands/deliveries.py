"""``boletos deliveries [UPLOAD_ID] [--status failed] [--kind reminder]``: what happened to an
upload's e-mails;
``boletos retry UPLOAD_ID``: send its failed e-mails again."""

from __future__ import annotations

import argparse
from typing import Any, cast

from rich.console import Console
from rich.table import Table

from boletos.v1 import mailer_pb2, mailer_pb2_grpc
from boletos_cli.channels import MAILER, Endpoints, service_channel
from boletos_cli.commands.status import add_upload_id, upload_id_or_newest
from boletos_cli.failures import EXIT_OK
from boletos_cli.render import WIDE, listing, print_json, untrusted

CALL_TIMEOUT_SECONDS = 30.0
PAGE_SIZE = 1000
STATUSES = {
    name.removeprefix("DELIVERY_STATUS_").lower(): value
    for name, value in mailer_pb2.DeliveryStatus.items()
    if value
}
# What people type for each kind of e-mail; "overdue" rather than the enum's longer name.
KINDS = {
    "boleto": mailer_pb2.DELIVERY_KIND_BOLETO,
    "reminder": mailer_pb2.DELIVERY_KIND_REMINDER,
    "overdue": mailer_pb2.DELIVERY_KIND_OVERDUE_NOTICE,
    "receipt": mailer_pb2.DELIVERY_KIND_RECEIPT,
    "updated": mailer_pb2.DELIVERY_KIND_UPDATED,
}
DEFAULT_KIND = "boleto"


def add_parsers(commands: argparse._SubParsersAction) -> None:
    deliveries = commands.add_parser(
        "deliveries",
        help="list an upload's e-mail deliveries",
        description="List the e-mail deliveries of an upload: status, attempts, the SMTP "
        "server's last reply. Each debt gets at most one e-mail of each kind: its boleto, a "
        "reminder before the due date, an overdue notice after it, a receipt once paid.",
    )
    add_upload_id(deliveries)
    deliveries.add_argument("--status", choices=sorted(STATUSES), help="only this status")
    deliveries.add_argument(
        "--kind",
        choices=list(KINDS),
        default=DEFAULT_KIND,
        help=f"which e-mails: {', '.join(KINDS)} (default {DEFAULT_KIND})",
    )
    deliveries.add_argument(
        "--json", dest="as_json", action="store_true", help="print one JSON object on stdout"
    )
    deliveries.set_defaults(handler=run_deliveries)

    retry = commands.add_parser(
        "retry",
        help="send an upload's failed e-mails again",
        description="Queue every failed e-mail of an upload for delivery again, after the cause "
        "(a wrong address, a refusing server) was fixed. Each goes once more, with its "
        "original Message-ID.",
    )
    retry.add_argument("upload_id", metavar="UPLOAD_ID")
    retry.add_argument(
        "--uncertain",
        action="store_true",
        help="also send again the e-mails whose acceptance was never heard (check with the "
        "provider first: their recipients may get a second copy, with the same Message-ID)",
    )
    retry.set_defaults(handler=run_retry)


def status_name(value: int) -> str:
    return mailer_pb2.DeliveryStatus.Name(value).removeprefix("DELIVERY_STATUS_").lower()


def kind_name(value: int) -> str:
    """The --kind word for a delivery's kind; a server that predates kinds sends none, and
    then every e-mail was a boleto's."""
    if not value:
        return DEFAULT_KIND
    for name, known in KINDS.items():
        if known == value:
            return name
    # A newer server may send kinds this client does not know yet.
    return str(value)


async def run_deliveries(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    upload_id = await upload_id_or_newest(args.upload_id, endpoints.ingest, err)
    found: list[mailer_pb2.Delivery] = []
    async with service_channel(MAILER.name, endpoints.mailer) as channel:
        stub = mailer_pb2_grpc.MailerServiceStub(channel)
        token = ""
        while True:
            page = await stub.ListDeliveries(
                mailer_pb2.ListDeliveriesRequest(
                    upload_id=upload_id,
                    status=cast(Any, STATUSES.get(args.status or "", 0)),
                    page_size=PAGE_SIZE,
                    page_token=token,
                    kind=cast(Any, KINDS[args.kind]),
                ),
                timeout=CALL_TIMEOUT_SECONDS,
            )
            found.extend(page.deliveries)
            token = page.next_page_token
            if not token:
                break
    rows = [
        {
            "line": d.line,
            "debt_id": d.debt_id,
            "status": status_name(d.status),
            "recipient": d.recipient,
            "attempts": d.attempts,
            "smtp_code": d.smtp_code,
            "last_error": d.last_error,
            "message_id": d.message_id,
            "kind": kind_name(d.kind),
        }
        for d in found
    ]
    if args.as_json:
        print_json({"upload_id": upload_id, "kind": args.kind, "deliveries": rows})
        return EXIT_OK
    out.print(deliveries_table(upload_id, rows, out.width, args.kind))
    noun = "deliveries" if args.kind == DEFAULT_KIND else f"{args.kind} deliveries"
    out.print(f"{len(rows)} {noun}")
    return EXIT_OK


def deliveries_table(
    upload_id: str, rows: list[dict[str, Any]], width: int, kind: str = DEFAULT_KIND
) -> Table:
    """In file line order; the masked recipient joins in when the terminal is wide."""
    wide = width >= WIDE
    what = "deliveries" if kind == DEFAULT_KIND else f"{kind} deliveries"
    table = listing(f"{what} of upload {upload_id}")
    table.add_column("line", justify="right", no_wrap=True)
    table.add_column("debt id", no_wrap=True, min_width=36)
    table.add_column("status", no_wrap=True)
    if wide:
        table.add_column("recipient", overflow="ellipsis", max_width=30)
    table.add_column("tries", justify="right", no_wrap=True)
    table.add_column("code", justify="right", no_wrap=True)
    table.add_column("last error", ratio=1)
    for row in rows:
        cells = [str(row["line"]), row["debt_id"], row["status"]]
        if wide:
            cells.append(row["recipient"])
        cells += [str(row["attempts"]), str(row["smtp_code"] or ""), row["last_error"]]
        table.add_row(*(untrusted(c) for c in cells))
    return table


async def run_retry(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    async with service_channel(MAILER.name, endpoints.mailer) as channel:
        stub = mailer_pb2_grpc.MailerServiceStub(channel)
        response = await stub.RetryFailed(
            mailer_pb2.RetryFailedRequest(
                upload_id=args.upload_id, include_uncertain=args.uncertain
            ),
            timeout=CALL_TIMEOUT_SECONDS,
        )
    out.print(f"{response.requeued} failed e-mails of upload {args.upload_id} queued again")
    return EXIT_OK
