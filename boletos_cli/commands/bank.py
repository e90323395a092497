"""``boletos bank``: a simulated bank that answers the remessas in a directory with the retornos
a bank would send, and can hand them to the boleto service; the local stack runs it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

from rich.console import Console

from boleto_service.domain.cnab240 import cnab_bank_for
from boletos.v1 import boleto_pb2
from boletos_cli.bank import (
    DEFAULT_PAID_SHARE,
    Answered,
    NotARemessa,
    answer_remessa,
    mark_sent,
    unanswered,
    unsent,
)
from boletos_cli.channels import Endpoints
from boletos_cli.commands.retorno import Refused, send
from boletos_cli.failures import EXIT_FAILED, EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, CliError
from boletos_cli.money import reais_text

DEFAULT_INTERVAL_SECONDS = 2.0
# With --follow, a file that failed (the service down or restarting, a disk full) is tried
# again after this, doubled at each failure up to the cap.
FIRST_RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 60.0


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "bank",
        help="a simulated bank: answer remessa files with the retornos a bank would send",
        description="A bank, simulated, for trying the billing loop locally: it answers "
        "every CNAB 240 remessa in --remessas that it has not answered yet with a retorno "
        "file in --retornos, NAME.ret for NAME.rem (written 0600; a remessa whose retorno "
        "exists is not answered again). Like a bank, it rejects a title whose payer has a "
        "CPF or CNPJ with wrong check digits or a CEP no post office uses, with the bank's "
        "own motivo (FEBRABAN 46 and 48; Itaú 37, 03 and 11), registers the others, and "
        "reports a share of them (--paid-share) paid on their due date for their face "
        "value, chosen by the nosso número, so every run pays the same titles. With --send "
        "each retorno goes to the boleto service, as `boletos retorno` sends it, and "
        "NAME.ret.sent records that it arrived. Exits 0 when everything was answered (and "
        f"sent), {EXIT_PROBLEMS} when the service could not use some lines of a retorno, "
        f"{EXIT_REFUSED} when it refused a retorno, 2 when a remessa could not be answered "
        "or a retorno not sent.",
    )
    parser.add_argument(
        "--remessas",
        type=Path,
        required=True,
        metavar="DIR",
        help="where the boleto service writes remessas (its REMESSA_DIR)",
    )
    parser.add_argument(
        "--retornos",
        type=Path,
        required=True,
        metavar="DIR",
        help="where to write the retornos (made 0700 if missing)",
    )
    parser.add_argument(
        "--paid-share",
        type=_share,
        default=DEFAULT_PAID_SHARE,
        metavar="FRACTION",
        help=f"share of the titles reported paid, 0 to 1 (default {DEFAULT_PAID_SHARE})",
    )
    parser.add_argument(
        "--send",
        action="store_true",
        help="hand each retorno to the boleto service (ProcessRetorno; the one at --boleto or "
        "BOLETOS_BOLETO_ADDR) and print its summary",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--once",
        action="store_true",
        help="answer (and send) what is there now, then exit (the default)",
    )
    mode.add_argument(
        "--follow",
        action="store_true",
        help="keep answering remessas as they appear, until Ctrl-C or SIGTERM",
    )
    parser.add_argument(
        "--interval",
        type=_positive_seconds,
        default=DEFAULT_INTERVAL_SECONDS,
        metavar="SECONDS",
        help=f"with --follow, how often to look for new remessas (default "
        f"{DEFAULT_INTERVAL_SECONDS:g})",
    )
    parser.set_defaults(handler=run)


def _share(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a share is from 0 to 1, got {raw}")
    return value


def _positive_seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above zero, got {raw}")
    return value


async def run(args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console) -> int:
    desk = BankDesk(
        args.remessas,
        args.retornos,
        args.paid_share,
        endpoints.boleto if args.send else None,
        out,
        err,
    )
    if args.follow:
        return await desk.follow(args.interval)
    if not args.remessas.is_dir():
        raise CliError(f"{args.remessas}: no such directory")
    await desk.work()
    return desk.exit_code()


def answered_text(done: Answered) -> str:
    """One line on what the bank made of a remessa: counts and motivos, never who."""
    result = done.answer
    text = (
        f"answered {done.remessa.name} with {done.retorno.name}: {result.titles:,} titles, "
        f"{result.registered:,} registered, {result.rejected:,} rejected"
    )
    if result.reasons:
        bank = cnab_bank_for(result.bank_code)
        reasons = "; ".join(
            " ".join(filter(None, (code, bank.reason_text(code), f"×{count}")))
            for code, count in sorted(result.reasons.items())
        )
        text += f" ({reasons})"
    text += f", {result.paid:,} paid"
    if result.paid:
        text += f" ({reais_text(result.paid_cents)})"
    if result.instructions:
        text += f", {result.instructions:,} instructions carried out"
    return text


def sent_text(name: str, summary: boleto_pb2.RetornoSummary) -> str:
    text = (
        f"sent {name} to the boleto service: {summary.occurrences:,} occurrences, "
        f"{summary.registered:,} registered, {summary.rejected:,} rejected, "
        f"{summary.paid:,} paid"
    )
    if summary.paid:
        text += f" ({reais_text(summary.paid_cents)})"
    if summary.already_processed:
        text += " (already processed: nothing changed)"
    if summary.problems:
        text += f", {len(summary.problems):,} line(s) it could not use"
    return text


class BankDesk:
    """One bank at work on two directories; counts what went wrong for the exit code."""

    def __init__(
        self,
        remessas: Path,
        retornos: Path,
        paid_share: float,
        boleto_address: str | None,
        out: Console,
        err: Console,
    ) -> None:
        self.remessas = remessas
        self.retornos = retornos
        self.paid_share = paid_share
        self.boleto_address = boleto_address
        self.out = out
        self.err = err
        self.failures = 0
        self.refusals = 0
        self.problems = 0
        # Files that will not fare better on the next look: said once, then left alone.
        self._given_up: set[str] = set()
        self._retry_at: dict[str, tuple[float, float]] = {}
        # The service's progress bar has no one to show it to here.
        self._quiet = Console(quiet=True)
        self._following = False

    async def work(self) -> None:
        """Answers every remessa not answered yet, then, with a service, sends every retorno
        it has not taken."""
        for remessa in unanswered(self.remessas, self.retornos):
            if remessa.name in self._given_up or not self._due(remessa.name):
                continue
            await self._answer(remessa)
        if self.boleto_address is not None:
            for retorno in unsent(self.retornos):
                if retorno.name in self._given_up or not self._due(retorno.name):
                    continue
                await self._send(self.boleto_address, retorno)

    async def follow(self, interval: float) -> int:
        self._following = True
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        where = f"; retornos to the boleto service at {self.boleto_address}"
        self._say(
            f"following {self.remessas}: every new remessa answered in {self.retornos}"
            + (where if self.boleto_address else "")
        )
        try:
            while not stop.is_set():
                await self.work()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        self._say("bank stopped")
        return EXIT_OK

    def exit_code(self) -> int:
        if self.failures:
            return EXIT_FAILED
        if self.refusals:
            return EXIT_REFUSED
        if self.problems:
            return EXIT_PROBLEMS
        return EXIT_OK

    async def _answer(self, remessa: Path) -> None:
        try:
            # Off the event loop: the follow loop's signals are handled while a large file
            # is read and answered.
            done = await asyncio.to_thread(answer_remessa, remessa, self.retornos, self.paid_share)
        except NotARemessa as exc:
            self._warn(f"{remessa.name} left unanswered: {exc}")
            self._given_up.add(remessa.name)
            self.failures += 1
            return
        except OSError as exc:
            self._failed(remessa.name, f"{remessa.name} left unanswered: {_reason(exc)}")
            return
        self._retry_at.pop(remessa.name, None)
        self._say(answered_text(done))

    def _due(self, name: str) -> bool:
        retry = self._retry_at.get(name)
        return retry is None or time.monotonic() >= retry[0]

    def _failed(self, name: str, message: str) -> None:
        """A failure that may pass (a service restarting, a disk full): tried again later,
        each time twice as late, so a long outage is not a line every few seconds."""
        last = self._retry_at.get(name)
        delay = min(last[1] * 2, MAX_RETRY_SECONDS) if last else FIRST_RETRY_SECONDS
        self._retry_at[name] = (time.monotonic() + delay, delay)
        self._warn(f"{message}; trying again in {delay:g}s" if self._following else message)
        self.failures += 1

    async def _send(self, address: str, retorno: Path) -> None:
        try:
            with retorno.open("rb") as source:
                size = os.fstat(source.fileno()).st_size
                summary = await send(address, source, retorno.name, self._quiet, size)
            mark_sent(retorno)
        except Refused as refused:
            self._warn(f"the boleto service refused {refused}; not sent again")
            self._given_up.add(retorno.name)
            self.refusals += 1
            return
        except (CliError, OSError) as exc:
            self._failed(retorno.name, f"{retorno.name} not sent: {_reason(exc)}")
            return
        self._retry_at.pop(retorno.name, None)
        self._say(sent_text(retorno.name, summary))
        for problem in summary.problems:
            where = f"line {problem.line}" if problem.line else "file"
            self._warn(f"{retorno.name} {where}: {problem.reason}")
        if summary.problems:
            self.problems += 1

    def _say(self, text: str) -> None:
        self.out.print(text, markup=False, highlight=False, soft_wrap=True)

    def _warn(self, text: str) -> None:
        self.err.print(text, style="yellow", markup=False, highlight=False, soft_wrap=True)


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)
