"""``boletos stack``: run NATS and every service locally in the foreground."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from boletos.platform.access.transport import ClientTls
from boletos.v1 import boleto_pb2, boleto_pb2_grpc
from boletos_cli import channels
from boletos_cli.bank import DEFAULT_PAID_SHARE, is_paid, problems_of
from boletos_cli.channels import Endpoints, service_channel
from boletos_cli.commands.upload import UploadOptions, upload_and_report
from boletos_cli.failures import CliError
from boletos_cli.stack.layout import (
    DEFAULT_BASE_PORT,
    DEFAULT_DATA_DIR,
    MAX_STREAM_REPLICAS,
    NATS_CLUSTER_SIZES,
    SERVICES,
    StackError,
    StackLayout,
)
from boletos_cli.stack.replicas import SYNTAX, parse_replicas
from boletos_cli.stack.supervisor import Stack

# Every boleto of the sample fits one page.
SAMPLE_PAGE = 100
INGEST = next(spec for spec in SERVICES if spec.name == "ingest")
BOLETO = next(spec for spec in SERVICES if spec.name == "boleto")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "stack",
        help="run NATS and every service locally until Ctrl-C",
        description="Run a JetStream nats-server and every service that exists as child "
        "processes, in the foreground, until Ctrl-C or SIGTERM. Ports: ingest P, boleto "
        "P+1, mailer P+2, NATS P+3, SMTP catcher P+4, trace receiver (--traces) P+14; each "
        "service's metrics on its gRPC port + 5; replica n of a service on its first "
        "replica's ports + 10(n-1); NATS node n of a cluster on P+3 + 10(n-1), its routes "
        "on P+9 + 10(n-1). Boleto "
        "processes run at nice +5 and the mailer's at +10, so uploads get the CPU first, "
        "then boletos. Settings the stack does "
        "not set itself (SMTP_CONNECTIONS, LOG_LEVEL, ...) pass from the environment to "
        "every service.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help=f"databases and the NATS store (default {DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--base-port",
        type=int,
        default=DEFAULT_BASE_PORT,
        metavar="P",
        help=f"first of the ports the stack uses (default {DEFAULT_BASE_PORT})",
    )
    parser.add_argument(
        "--replicas",
        type=_replicas,
        default={},
        metavar=SYNTAX,
        help="run several processes of a service, sharing its store and NATS consumers, "
        "e.g. boleto=2,mailer=2 (default one each)",
    )
    parser.add_argument(
        "--database",
        type=_database,
        action="append",
        default=[],
        metavar="SERVICE=URL",
        help="keep a service's data in this database instead of a SQLite file in the data "
        "directory, e.g. mailer=postgresql+psycopg://127.0.0.1/mailer; once per service",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="an administrative PostgreSQL URL (e.g. postgresql://postgres@127.0.0.1/postgres): "
        "each service not given --database gets its own database and role there, named "
        "boletos_P_SERVICE after the base port, made on the first start and kept",
    )
    parser.add_argument(
        "--nats-cluster",
        type=int,
        default=1,
        choices=NATS_CLUSTER_SIZES,
        metavar="N",
        help="run N nats-server nodes as one JetStream cluster, every stream kept on "
        f"{MAX_STREAM_REPLICAS} of them, so losing a node loses nothing (1, 3 or 5; default 1)",
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="upload the bundled sample CSV once everything is healthy",
    )
    parser.add_argument(
        "--bank",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run a simulated bank (`boletos bank --follow --send`) that answers every "
        "remessa the boleto service writes with a retorno, in DIR/retornos, and sends it "
        "back: entries registered or rejected, a share paid; the mailer then sends "
        "receipts (default: on with --sample)",
    )
    parser.add_argument(
        "--traces",
        action="store_true",
        help="collect the services' OpenTelemetry spans in DIR/traces.jsonl, one JSON object "
        "a line, through an OTLP/gRPC receiver on P+14: `grep UPLOAD_ID` finds an upload's "
        "trace id, `grep TRACE_ID` the upload's every span",
    )
    parser.add_argument(
        "--start-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long each component may take to become healthy (default 30)",
    )
    parser.set_defaults(handler=run)


def _database(raw: str) -> tuple[str, str]:
    name, sep, url = raw.partition("=")
    if not sep or not name or "://" not in url:
        # Not echoed: the URL may hold a password.
        raise argparse.ArgumentTypeError("expected SERVICE=URL, e.g. mailer=postgresql://h/db")
    return name.strip(), url.strip()


def _replicas(raw: str) -> dict[str, int]:
    try:
        return parse_replicas(raw)
    except StackError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


async def run(args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console) -> int:
    try:
        layout = StackLayout(
            data_dir=args.data_dir,
            base_port=args.base_port,
            replicas=args.replicas,
            databases=dict(args.database),
            nats_cluster=args.nats_cluster,
            postgres=args.postgres,
            bank=bank_wanted(args),
            traces=args.traces,
        )
    except StackError as exc:
        raise CliError(str(exc)) from exc
    stack = Stack(layout, out, err, start_timeout=args.start_timeout)

    async def upload_sample() -> None:
        channels.configure(stack_access(layout))
        if INGEST not in stack.services:
            err.print("no ingest service to upload the sample to", style="yellow")
            return
        with resources.as_file(resources.files("boletos_cli.samples") / "sample.csv") as path:
            options = UploadOptions(path=path, wait=True)
            try:
                summary = await upload_and_report(layout.service_address(INGEST), options, out, err)
                payers = sample_payers(path) if layout.bank else None
                debt_id = await first_boleto(
                    layout.service_address(BOLETO), summary.upload_id, payers
                )
            except CliError as exc:
                # The stack is still useful without its sample; say why and keep serving.
                err.print(f"sample upload failed: {exc}", style="yellow", markup=False)
                return
        out.print(what_now(layout, summary.upload_id, debt_id))

    return await stack.run(upload_sample if args.sample else None)


def bank_wanted(args: argparse.Namespace) -> bool:
    """--bank or --no-bank as given; otherwise a bank exactly when the sample goes in."""
    return bool(args.sample if args.bank is None else args.bank)


def stack_access(layout: StackLayout) -> channels.ClientAccess:
    """The CLI's view of the stack: its CA, and its admin key (made on its first start)."""
    secrets = layout.secrets
    return channels.ClientAccess(
        ClientTls(ca_file=str(secrets.ca)), secrets.admin_key.read_text().strip()
    )


def sample_payers(path: Path) -> dict[str, tuple[str, str, str]]:
    """Each debt of the sample whose payer has a CPF or CNPJ: its tipo de inscrição, number
    and CEP as segment Q writes them, for telling which boletos the simulated bank pays."""
    payers = {}
    with path.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            number = row.get("governmentId") or ""
            kind = {11: "1", 14: "2"}.get(len(number))
            if kind is not None:
                cep = (row.get("zipCode") or "").replace("-", "")
                payers[(row.get("debtId") or "").lower()] = (kind, number.zfill(15), cep)
    return payers


async def first_boleto(
    address: str, upload_id: str, payers: Mapping[str, tuple[str, str, str]] | None = None
) -> str:
    """A debt of the upload that has its boleto, to show a command that fetches it; given the
    payers of the file, the first one the simulated bank will report paid."""
    async with service_channel("boleto", address) as channel:
        page = await boleto_pb2_grpc.BoletoServiceStub(channel).ListBoletos(
            boleto_pb2.ListBoletosRequest(upload_id=upload_id, page_size=SAMPLE_PAGE),
            timeout=30,
        )
    if not page.boletos:
        return "DEBT_ID"
    known = payers or {}
    for boleto in page.boletos:
        payer = known.get(boleto.debt_id)
        if payer and not problems_of(*payer) and is_paid(boleto.nosso_numero, DEFAULT_PAID_SHARE):
            return boleto.debt_id
    return page.boletos[0].debt_id


def what_now(layout: StackLayout, upload_id: str, debt_id: str) -> Table:
    """Where the sample's e-mails went and what to try next, with the sample's own ids."""
    inbox = layout.maildir / "new"
    emails = sum(1 for _ in inbox.iterdir()) if inbox.is_dir() else 0
    table = Table(title="What now", title_justify="left", show_header=False, box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row("e-mails", f"{emails} messages: open {layout.mail_viewer_url} in a browser")
    table.add_row("", f"(one file each in {inbox}, for any mail client);")
    table.add_row("", "each links to its debtor's page on the gateway")
    table.add_row("browser", f"{layout.gateway_url}/console   (sign in with the key in")
    table.add_row("", f"{layout.secrets.admin_key})")
    table.add_row("", f"{layout.gateway_url}/docs   (the REST API)")
    table.add_row("", f"(the certificates are signed by {layout.secrets.ca})")
    table.add_row("try", f"boletos status {upload_id}")
    table.add_row("", f"boletos report {upload_id} | head")
    table.add_row("", f"boletos pdf {debt_id} -o boleto.pdf")
    table.add_row("", f"boletos boleto {debt_id}")
    table.add_row("the bank", "boletos remessa list   (the CNAB 240 files for the bank,")
    table.add_row("", f"one per upload soon after it, in {layout.remessa_dir};")
    table.add_row("", "payers with a CPF or CNPJ and an address only)")
    if layout.bank:
        table.add_row("", "a simulated bank answers each within seconds ('bank |' lines,")
        table.add_row("", f"files in {layout.retorno_dir}): a bad CEP is rejected, the")
        table.add_row("", "rest registered, about a third paid on their due date, and")
        table.add_row("", "those payers get a receipt. A minute after the upload:")
        table.add_row("", f"boletos boleto {debt_id}   (paid)")
        table.add_row("", f"boletos watch {upload_id}   (payments)")
        table.add_row("", "boletos remessa list   (and the boletos left out, and why)")
    else:
        table.add_row("", "boletos remessa get REMESSA_ID -o remessa.rem")
        table.add_row("", "boletos retorno RETORNO_FILE   (the bank's answer: payments)")
    table.add_row("the CLI", f"source {layout.cli_env}   (addresses, CA and admin key)")
    table.add_row("", "source .venv/bin/activate first, or call .venv/bin/boletos")
    table.add_row("stop", "Ctrl-C (the data stays in " + f"{layout.data_dir})")
    return table
