"""``boletos remessa list|get|create``: the CNAB 240 files that ask the bank to register
boletos, as the boleto service wrote them."""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from boletos.v1 import boleto_pb2, boleto_pb2_grpc
from boletos_cli.channels import BOLETO, Endpoints, service_channel
from boletos_cli.failures import EXIT_OK, CliError
from boletos_cli.money import amount_text, reais_digits, reais_text
from boletos_cli.private_files import open_private
from boletos_cli.render import WIDE, listing, print_json, timestamp_text, untrusted

# Listing answers from the database; anything slower than this is a stuck service.
CALL_TIMEOUT_SECONDS = 30.0
# Writing the remessas of a day's boletos reads and writes every one of them.
CREATE_TIMEOUT_SECONDS = 600.0
DEFAULT_LIMIT = 20
# The service's own cap on one page.
MAX_PAGE_SIZE = 500
STDOUT = "-"


def add_parser(commands: argparse._SubParsersAction) -> None:
    remessa = commands.add_parser(
        "remessa",
        help="list, download or write now the CNAB 240 remessa files for the bank",
        description="The CNAB 240 remessa files that ask the bank to register boletos. The "
        "boleto service writes them on its own schedule (REMESSA_PER); `create` writes "
        "one now for every boleto that is in none yet.",
    )
    actions = remessa.add_subparsers(dest="remessa_action", metavar="ACTION", required=True)

    listed = actions.add_parser(
        "list",
        help="list the remessa files written, newest first",
        description="List the remessa files written, newest first: id, bank, NSA (the "
        "file's sequence number for its beneficiary), titles, amount, when it was "
        "written and, on a wide terminal, its file name.",
    )
    listed.add_argument(
        "--limit",
        type=_positive,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"most remessas to list (default {DEFAULT_LIMIT})",
    )
    listed.add_argument(
        "--beneficiary", default="", metavar="KEY", help="only this beneficiary's remessas"
    )
    listed.add_argument(
        "--json", dest="as_json", action="store_true", help="print one JSON object on stdout"
    )
    listed.set_defaults(handler=run_list)

    get = actions.add_parser(
        "get",
        help="download one remessa file, checked against its SHA-256",
        description="Download one remessa file byte for byte, as it goes to the bank. The "
        "file appears only once every byte has arrived and their SHA-256 matches the one "
        "the service recorded when it wrote the file; otherwise the command exits 2 and "
        "writes nothing.",
    )
    get.add_argument("remessa_id", metavar="REMESSA_ID")
    get.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help=f"where to write the file; {STDOUT} for stdout",
    )
    get.set_defaults(handler=run_get)

    create = actions.add_parser(
        "create",
        help="write now a remessa of every boleto in none yet",
        description="Write now, per beneficiary, a remessa with every boleto that is in "
        "none yet, instead of waiting for the next scheduled one; list what was written.",
    )
    create.add_argument(
        "--json", dest="as_json", action="store_true", help="print one JSON object on stdout"
    )
    create.set_defaults(handler=run_create)


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def remessa_dict(remessa: boleto_pb2.Remessa) -> dict[str, Any]:
    # Written out by hand, like the boleto: the proto3 JSON mapping would turn the 64-bit
    # counts and amounts into strings.
    return {
        "remessa_id": remessa.remessa_id,
        "bank_code": remessa.bank_code,
        "agencia": remessa.agencia,
        "conta": remessa.conta,
        "nsa": remessa.nsa,
        "titles": remessa.titles,
        "amount": amount_text(remessa.amount_cents),
        "amount_cents": remessa.amount_cents,
        "file_name": remessa.file_name,
        "size_bytes": remessa.size_bytes,
        "sha256": remessa.sha256,
        "created_at": timestamp_text(remessa.created_at, remessa.HasField("created_at")),
        "upload_id": remessa.upload_id,
        "beneficiary": remessa.beneficiary,
    }


def left_out_text(left_out: Sequence[boleto_pb2.LeftOut]) -> str:
    """'12 boletos left out of every remessa: 10 no_address, 2 no_cpf_cnpj'; empty if none."""
    total = sum(item.boletos for item in left_out)
    if not total:
        return ""
    reasons = ", ".join(f"{item.boletos:,} {item.reason}" for item in left_out)
    return f"{total:,} boletos left out of every remessa (no bank would register them): {reasons}"


def remessas_table(title: str, remessas: list[boleto_pb2.Remessa], width: int) -> Table:
    """One line per file; the time of day and the file's name join in when the terminal is
    wide enough for them."""
    wide = width >= WIDE
    table = listing(title)
    # Seven columns and a whole id in 80: no blank edge columns.
    table.show_edge = False
    # Ids are what people copy into `remessa get`: never cut or wrapped.
    table.add_column("remessa id", no_wrap=True)
    table.add_column("bank", no_wrap=True)
    table.add_column("NSA", justify="right", no_wrap=True)
    table.add_column("titles", justify="right", no_wrap=True)
    # R$ once in the heading rather than on every line: the room a whole id needs.
    table.add_column("amount R$", justify="right", no_wrap=True)
    table.add_column("created", no_wrap=True)
    if wide:
        table.add_column("file", overflow="ellipsis", max_width=40)
    for remessa in remessas:
        created = timestamp_text(remessa.created_at, remessa.HasField("created_at")) or ""
        cells: list[str | Text] = [
            Text(remessa.remessa_id),
            Text(remessa.bank_code),
            str(remessa.nsa),
            f"{remessa.titles:,}",
            reais_digits(remessa.amount_cents),
            created[:16].replace("T", " ") if wide else created[:10],
        ]
        if wide:
            cells.append(untrusted(remessa.file_name))
        table.add_row(*cells)
    return table


async def run_list(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    found: list[boleto_pb2.Remessa] = []
    left_out: list[boleto_pb2.LeftOut] = []
    token = ""
    async with service_channel(BOLETO.name, endpoints.boleto) as channel:
        stub = boleto_pb2_grpc.BoletoServiceStub(channel)
        while len(found) < args.limit:
            page = await stub.ListRemessas(
                boleto_pb2.ListRemessasRequest(
                    page_size=min(args.limit - len(found), MAX_PAGE_SIZE),
                    page_token=token,
                    beneficiary=args.beneficiary,
                ),
                timeout=CALL_TIMEOUT_SECONDS,
            )
            found.extend(page.remessas[: args.limit - len(found)])
            left_out = list(page.left_out)
            token = page.next_page_token
            if not token or not page.remessas:
                break
    if args.as_json:
        print_json(
            {
                "remessas": [remessa_dict(r) for r in found],
                "next_page_token": token,
                "left_out": {item.reason: item.boletos for item in left_out},
            }
        )
        return EXIT_OK
    note = left_out_text(left_out)
    if not found:
        err.print("no remessas yet", markup=False)
    else:
        out.print(remessas_table("Remessas, newest first", found, out.width))
    if note:
        err.print(note, markup=False)
    return EXIT_OK


async def run_create(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    async with service_channel(BOLETO.name, endpoints.boleto) as channel:
        stub = boleto_pb2_grpc.BoletoServiceStub(channel)
        response = await stub.CreateRemessas(
            boleto_pb2.CreateRemessasRequest(), timeout=CREATE_TIMEOUT_SECONDS
        )
    written = list(response.remessas)
    if args.as_json:
        print_json({"remessas": [remessa_dict(r) for r in written]})
        return EXIT_OK
    if not written:
        out.print("no boleto waiting: every boleto issued is in a remessa already", markup=False)
        return EXIT_OK
    out.print(remessas_table("Remessas written", written, out.width))
    titles = sum(r.titles for r in written)
    amount = sum(r.amount_cents for r in written)
    out.print(
        f"{len(written)} remessa(s) written: {titles:,} boletos, {reais_text(amount)}",
        markup=False,
        highlight=False,
    )
    return EXIT_OK


def mismatch(remessa: boleto_pb2.Remessa, size: int, sha256: str) -> str | None:
    """Why the bytes received are not the file the service described, or None if they are."""
    expected = remessa.sha256.strip().lower()
    if not expected:
        # A file going to a bank is never passed on unchecked.
        return "the service gave no SHA-256 to check the file against"
    if sha256 != expected:
        return (
            f"SHA-256 of the {size:,} bytes received is {sha256}, the service recorded "
            f"{expected} for {remessa.size_bytes:,} bytes"
        )
    if remessa.size_bytes and size != remessa.size_bytes:
        return f"{size:,} bytes received where the service recorded {remessa.size_bytes:,} bytes"
    return None


def confirmation(remessa_id: str, where: str, size: int, sha256: str) -> str:
    return f"remessa {remessa_id} written to {where}: {size:,} bytes, sha256 {sha256}"


async def run_get(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    if args.output == STDOUT:
        # Spooled to a temporary file first: nothing may reach stdout before the checksum
        # is known to match, and a day's remessa is too large to hold in memory.
        with tempfile.TemporaryFile() as spool:
            size, sha256 = await _receive(endpoints.boleto, args.remessa_id, spool)
            spool.seek(0)
            sys.stdout.flush()
            shutil.copyfileobj(spool, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        err.print(
            confirmation(args.remessa_id, "stdout", size, sha256),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_OK
    target = Path(args.output)
    # Written beside the target and renamed only once checked, so a cut-off stream or a
    # wrong checksum never leaves a file that looks like a remessa ready for the bank.
    partial = target.with_name(target.name + ".partial")
    try:
        with open_private(partial, "wb") as sink:
            size, sha256 = await _receive(endpoints.boleto, args.remessa_id, sink)
            sink.flush()
            # On disk before it has its final name: the next step is usually an upload to
            # the bank, and a power cut must not leave a short file under that name.
            os.fsync(sink.fileno())
        os.replace(partial, target)
    except OSError as exc:
        raise CliError(f"{exc.filename or target}: {exc.strerror}") from exc
    finally:
        partial.unlink(missing_ok=True)
    out.print(
        confirmation(args.remessa_id, str(target), size, sha256),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return EXIT_OK


async def _receive(address: str, remessa_id: str, sink: IO[bytes]) -> tuple[int, str]:
    """Streams the remessa into sink; returns its size and SHA-256 once both are checked."""
    described: boleto_pb2.Remessa | None = None
    digest = hashlib.sha256()
    size = 0
    async with service_channel(BOLETO.name, address) as channel:
        stub = boleto_pb2_grpc.BoletoServiceStub(channel)
        call = stub.GetRemessa(boleto_pb2.GetRemessaRequest(remessa_id=remessa_id))
        async for message in call:
            if described is None:
                if not message.HasField("remessa"):
                    call.cancel()
                    raise CliError(
                        f"boleto service at {address} sent remessa {remessa_id}'s bytes "
                        "without first describing the file; nothing written"
                    )
                described = message.remessa
            if message.chunk:
                sink.write(message.chunk)
                digest.update(message.chunk)
                size += len(message.chunk)
    if described is None:
        raise CliError(f"boleto service at {address} sent nothing for remessa {remessa_id}")
    sha256 = digest.hexdigest()
    problem = mismatch(described, size, sha256)
    if problem is not None:
        raise CliError(f"remessa {remessa_id} NOT written: {problem}")
    return size, sha256
