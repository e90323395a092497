"""Entry point of the ``boletos`` command: parses arguments and runs one command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from importlib import metadata

# gRPC core's own log lines ("I1205 ... ssl_transport_security.cc ... Handshake failed")
# mean nothing to a user, who gets one line of ours instead. Read once, when grpc is first
# imported, so set before anything imports it; GRPC_VERBOSITY=debug still shows them.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

from boletos_cli import channels, render
from boletos_cli.commands import (
    bank,
    barcode,
    boleto,
    completion,
    deliveries,
    instruct,
    keys,
    remessa,
    report,
    retorno,
    row_errors,
    stack,
    status,
    upload,
    watch,
)
from boletos_cli.failures import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_INTERRUPTED, CliError


def version() -> str:
    try:
        return metadata.version("boletos")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boletos",
        description="Upload debtors' CSV files and follow them until every boleto is e-mailed; "
        "send boletos to the bank for registration and take its payments back.",
    )
    parser.add_argument("--version", action="version", version=f"boletos {version()}")
    channels.add_address_flags(parser)
    channels.add_access_flags(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    upload.add_parser(commands)
    watch.add_parser(commands)
    row_errors.add_parser(commands)
    report.add_parser(commands)
    status.add_parsers(commands)
    stack.add_parser(commands)
    boleto.add_parsers(commands)
    deliveries.add_parsers(commands)
    barcode.add_parser(commands)
    keys.add_parser(commands)
    remessa.add_parser(commands)
    retorno.add_parser(commands)
    bank.add_parser(commands)
    instruct.add_parser(commands)
    completion.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    endpoints = channels.resolve(args, os.environ)
    out, err = render.consoles()
    try:
        channels.configure(channels.access_from(args, os.environ))
        code: int = asyncio.run(args.handler(args, endpoints, out, err))
    except CliError as exc:
        err.print(f"boletos: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        return EXIT_FAILED
    except KeyboardInterrupt:
        err.print("boletos: interrupted", markup=False)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`boletos report ID | head`): it had what it wanted. Point
        # stdout at nothing so the interpreter's last flush does not fail too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code
