"""``boletos instruct write-off|due-date|rebate DEBT_ID ...``: ask the bank to change a boleto;
``boletos instruct list DEBT_ID``: what was asked and what the bank answered."""

from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from boletos.v1 import boleto_pb2, boleto_pb2_grpc
from boletos_cli.channels import BOLETO, Endpoints, service_channel
from boletos_cli.failures import EXIT_OK
from boletos_cli.money import amount_text, reais_text
from boletos_cli.render import listing, print_json, timestamp_text

CALL_TIMEOUT_SECONDS = 30.0


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "instruct",
        help="ask the bank to write a boleto off, give it a new due date or a rebate",
        description="Instructions to the bank about an issued boleto. Each is recorded once "
        "(asking the same again shows the first), sent in the beneficiary's next remessa and "
        "confirmed or rejected by the bank's retorno. A write-off of a boleto no remessa "
        "carries yet applies at once. Operators only.",
    )
    kinds = parser.add_subparsers(dest="instruction", metavar="INSTRUCTION", required=True)
    write_off = kinds.add_parser(
        "write-off", help="pedido de baixa: the debt was settled elsewhere or given up"
    )
    _common(write_off, boleto_pb2.INSTRUCTION_KIND_WRITE_OFF)
    due = kinds.add_parser("due-date", help="prorrogação: a new due date")
    _common(due, boleto_pb2.INSTRUCTION_KIND_DUE_DATE)
    due.add_argument("new_due_date", type=_iso_date, metavar="DATE", help="YYYY-MM-DD")
    rebate = kinds.add_parser("rebate", help="abatimento: an amount off the boleto")
    _common(rebate, boleto_pb2.INSTRUCTION_KIND_REBATE)
    rebate.add_argument("amount", type=_reais, metavar="REAIS", help="e.g. 12.50")
    listed = kinds.add_parser("list", help="the instructions asked for a boleto")
    listed.add_argument("debt_id", metavar="DEBT_ID")
    listed.add_argument(
        "--json", dest="as_json", action="store_true", help="print one JSON object on stdout"
    )
    listed.set_defaults(handler=run_list)


def _common(parser: argparse.ArgumentParser, kind: int) -> None:
    parser.add_argument("debt_id", metavar="DEBT_ID")
    parser.add_argument(
        "--json", dest="as_json", action="store_true", help="print one JSON object on stdout"
    )
    parser.set_defaults(handler=run_request, kind=kind)


def _iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {raw!r}") from None


def _reais(raw: str) -> int:
    """Centavos; a comma is refused rather than guessed (1.234,56 or 1,234.56)."""
    if "," in raw:
        raise argparse.ArgumentTypeError(f"write reais with a dot before the centavos: {raw!r}")
    try:
        amount = Decimal(raw.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount in reais: {raw!r}") from None
    cents = amount * 100
    if not amount.is_finite() or cents != cents.to_integral_value() or cents <= 0:
        raise argparse.ArgumentTypeError(f"a positive amount with at most 2 decimals: {raw!r}")
    return int(cents)


async def run_request(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    request = boleto_pb2.RequestInstructionRequest(debt_id=args.debt_id, kind=args.kind)
    if args.kind == boleto_pb2.INSTRUCTION_KIND_DUE_DATE:
        request.new_due_date = args.new_due_date.isoformat()
    if args.kind == boleto_pb2.INSTRUCTION_KIND_REBATE:
        request.rebate_cents = args.amount
    async with service_channel(BOLETO.name, endpoints.boleto) as channel:
        stub = boleto_pb2_grpc.BoletoServiceStub(channel)
        answer = await stub.RequestInstruction(request, timeout=CALL_TIMEOUT_SECONDS)
    if args.as_json:
        print_json({"created": answer.created, "instruction": instruction_dict(answer.instruction)})
        return EXIT_OK
    if not answer.created:
        err.print("asked before: this is the instruction the first request made", markup=False)
    out.print(instructions_table([answer.instruction]))
    return EXIT_OK


async def run_list(
    args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console
) -> int:
    async with service_channel(BOLETO.name, endpoints.boleto) as channel:
        stub = boleto_pb2_grpc.BoletoServiceStub(channel)
        answer = await stub.ListInstructions(
            boleto_pb2.ListInstructionsRequest(debt_id=args.debt_id),
            timeout=CALL_TIMEOUT_SECONDS,
        )
    found = list(answer.instructions)
    if args.as_json:
        print_json({"instructions": [instruction_dict(i) for i in found]})
    elif not found:
        err.print("no instruction was asked for this boleto", markup=False)
    else:
        out.print(instructions_table(found))
    return EXIT_OK


def _name(enum_name: str, prefix: str) -> str:
    return enum_name.removeprefix(prefix).lower().replace("_", "-")


def instruction_dict(i: boleto_pb2.Instruction) -> dict[str, Any]:
    return {
        "instruction_id": i.instruction_id,
        "debt_id": i.debt_id,
        "kind": _name(boleto_pb2.InstructionKind.Name(i.kind), "INSTRUCTION_KIND_"),
        "state": _name(boleto_pb2.InstructionState.Name(i.state), "INSTRUCTION_STATE_"),
        "new_due_date": i.new_due_date or None,
        "rebate": amount_text(i.rebate_cents) if i.rebate_cents else None,
        "rebate_cents": i.rebate_cents,
        "remessa_id": i.remessa_id or None,
        "requested_at": timestamp_text(i.requested_at, i.HasField("requested_at")),
        "answered_at": timestamp_text(i.answered_at, i.HasField("answered_at")),
        "reason": i.reason or None,
        "beneficiary": i.beneficiary,
    }


def instructions_table(found: list[boleto_pb2.Instruction]) -> Table:
    table = listing("Instructions")
    for column in ("kind", "asks", "state", "remessa", "bank's answer"):
        table.add_column(column, overflow="fold")
    for i in found:
        d = instruction_dict(i)
        asks = d["new_due_date"] or (reais_text(i.rebate_cents) if i.rebate_cents else "")
        table.add_row(
            d["kind"],
            asks,
            d["state"],
            Text(i.remessa_id or "-"),
            Text(i.reason or ""),
        )
    return table
