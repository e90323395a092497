"""``boletos barcode``: compute or verify a boleto's barcode offline, from the boleto domain.

A support tool: it prints exactly the numbers for the due date and amount given, without the
overdue policy the service applies when it issues a boleto.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from boleto_service.domain import (
    BeneficiaryConfig,
    BoletoDomainError,
    CheckDigitMismatch,
    InvalidBeneficiaryConfig,
    InvalidDueDate,
    barcode_to_linha,
    build_barcode,
    date_for_factor,
    due_factor,
    ensure_payable,
    format_linha,
    linha_to_barcode,
    to_cents,
)
from boleto_service.domain.banks import BANKS, bank_for
from boleto_service.domain.barcode import BARCODE_LENGTH, CURRENCY_REAL, barcode_mismatches
from boleto_service.domain.digits import strip_separators
from boleto_service.domain.linha_digitavel import LINHA_LENGTH, linha_mismatches
from boletos_cli.channels import Endpoints
from boletos_cli.commands.boleto import amount_text, reais_text
from boletos_cli.failures import EXIT_OK, EXIT_REFUSED, CliError
from boletos_cli.render import print_json

# Name and CNPJ never enter the barcode, but the beneficiary checks insist on valid ones.
PLACEHOLDER_NAME = "Beneficiário"
PLACEHOLDER_CNPJ = "11222333000181"
# Account fields some banks leave out of the barcode: (attribute, flag, width of a stand-in).
ACCOUNT_FIELDS = (
    ("agencia", "--agencia", 4),
    ("conta", "--conta", 1),
    ("conta_dv", "--conta-dv", 1),
)
# Digits the stand-ins repeat; a second set shows whether the bank reads the account at all.
STAND_IN, OTHER_STAND_IN = "0", "9"
# What every bank's barcode reads; the rest depends on the bank.
REQUIRED_FLAGS = (
    ("bank", "--bank"),
    ("due", "--due"),
    ("amount", "--amount"),
    ("nosso_numero", "--nosso-numero"),
)
BUILD_FLAGS = (
    *REQUIRED_FLAGS,
    ("convenio", "--convenio"),
    ("carteira", "--carteira"),
    ("codigo_beneficiario", "--codigo-beneficiario"),
    ("posto", "--posto"),
    *((name, flag) for name, flag, _ in ACCOUNT_FIELDS),
)
# What each bank's barcode reads, in the bank's own terms; shown by --help.
BANK_FLAGS = (
    ("001 Banco do Brasil", "--convenio (7 digits) --carteira 17|18 --nosso-numero (10 digits)"),
    ("033 Santander", "--codigo-beneficiario (7 digits) --carteira 101|102|201"),
    ("104 Caixa (SIGCB)", "--codigo-beneficiario (6 digits) --carteira 14"),
    ("237 Bradesco", "--agencia --conta --carteira (2 digits); --codigo-empresa for remessas"),
    ("341 Itaú", "--agencia --conta --conta-dv --carteira 109|157|174|175"),
    ("748 Sicredi", "--cooperativa --posto --codigo-beneficiario (5 digits) --carteira 1"),
    ("756 Sicoob", "--cooperativa --codigo-cliente --carteira 1 (modalidade 01)"),
)
NO_DUE_DATE_FACTOR = 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "barcode",
        help="compute or verify a boleto barcode offline",
        description="Compute the barcode and linha digitável for the given bank, due date and "
        "amount, exactly as given (no overdue re-dating), or verify one with --check. Needs no "
        "service. Exits 0 when done or when every check digit verifies, 1 when --check finds a "
        "wrong check digit, 2 on bad input or a due date banks would not accept.",
        epilog="what each bank reads besides --due, --amount and --nosso-numero:\n"
        + "\n".join(f"  {bank:<20} {flags}" for bank, flags in BANK_FLAGS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build = parser.add_argument_group("compute a barcode")
    build.add_argument(
        "--bank", metavar="CODE", help="FEBRABAN bank code: " + ", ".join(b for b, _ in BANK_FLAGS)
    )
    build.add_argument("--due", type=_iso_date, metavar="DATE", help="due date, YYYY-MM-DD")
    build.add_argument(
        "--amount", type=_reais, metavar="VALUE", help="amount in reais, e.g. 7811 or 1234.56"
    )
    build.add_argument(
        "--nosso-numero",
        type=_sequence,
        metavar="N",
        help="the boleto's sequence number, without check digits: the digits after the "
        "convênio (Banco do Brasil), before the DAC (Itaú and others); Sicredi's AABNNNNN",
    )
    build.add_argument("--convenio", metavar="C", help="convênio (Banco do Brasil)")
    build.add_argument(
        "--codigo-empresa", dest="convenio", metavar="C", help="código da empresa (Bradesco)"
    )
    build.add_argument("--carteira", metavar="K", help="carteira, e.g. 17, 18 or 109")
    build.add_argument(
        "--codigo-beneficiario",
        metavar="C",
        help="código do beneficiário (Caixa, Santander, Sicredi)",
    )
    build.add_argument(
        "--codigo-cliente",
        dest="codigo_beneficiario",
        metavar="C",
        help="código do cliente, with its check digit (Sicoob)",
    )
    build.add_argument("--posto", metavar="P", help="the cooperativa's posto (Sicredi)")
    build.add_argument("--agencia", metavar="A", help="agência, 4 digits")
    build.add_argument(
        "--cooperativa", dest="agencia", metavar="A", help="cooperativa, 4 digits (Sicoob, Sicredi)"
    )
    build.add_argument("--conta", metavar="C", help="conta, without its check digit")
    build.add_argument("--conta-dv", metavar="D", help="the conta's check digit")
    check = parser.add_argument_group("verify a barcode")
    check.add_argument(
        "--check",
        metavar="CODE",
        help="a 44-digit barcode or 47-digit linha digitável, punctuation allowed",
    )
    parser.add_argument(
        "--today",
        type=_iso_date,
        metavar="DATE",
        help="the day to check the payable window against and to resolve factors around "
        "(default: today)",
    )
    parser.add_argument(
        "--json", dest="as_json", action="store_true", help="print one JSON object on stdout"
    )
    parser.set_defaults(handler=run)


def _iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {raw!r}") from None


def _reais(raw: str) -> Decimal:
    text = raw.strip()
    if "," in text:
        # "1.234,56" and "1,234.56" both occur in the wild; guessing could bill a thousand times
        # too much or too little.
        raise argparse.ArgumentTypeError(
            f"write the amount with a dot before the centavos and no thousands separator, "
            f"e.g. 1234.56; got {raw!r}"
        )
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount in reais: {raw!r}") from None
    if not amount.is_finite():
        raise argparse.ArgumentTypeError(f"not an amount in reais: {raw!r}")
    return amount


def _sequence(raw: str) -> int:
    text = raw.strip()
    # int() would also take "+5", "-5" and "1_000", none of which is a nosso número.
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"a nosso número sequence is digits only, got {raw!r}")
    return int(text)


async def run(args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console) -> int:
    today = args.today or date.today()
    given = [flag for name, flag in BUILD_FLAGS if getattr(args, name) is not None]
    if args.check is not None:
        if given:
            raise CliError(f"--check verifies a code; it takes no {', '.join(given)}")
        return _run_check(args.check, today, args.as_json, out)
    missing = [flag for name, flag in REQUIRED_FLAGS if getattr(args, name) is None]
    if missing:
        raise CliError(
            f"give {', '.join(missing)} to compute a barcode, or --check CODE to verify one"
        )
    try:
        computed = compute(args, today)
    except BoletoDomainError as exc:
        raise CliError(str(exc)) from exc
    if args.as_json:
        print_json(computed.as_dict())
    else:
        out.print(computed.table())
    return EXIT_OK


@dataclass(frozen=True)
class ComputedBarcode:
    bank_code: str
    bank_name: str
    due_date: date
    factor: int
    amount_cents: int
    nosso_numero: str
    campo_livre: str
    barcode: str
    linha: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "bank_code": self.bank_code,
            "bank_name": self.bank_name,
            "due_date": self.due_date.isoformat(),
            "factor": self.factor,
            "amount": amount_text(self.amount_cents),
            "amount_cents": self.amount_cents,
            "nosso_numero": self.nosso_numero,
            "campo_livre": self.campo_livre,
            "barcode": self.barcode,
            "digitable_line": format_linha(self.linha),
        }

    def table(self) -> Table:
        table = _table("Barcode")
        table.add_row("bank", Text(f"{self.bank_code} {self.bank_name}"))
        table.add_row("due date", self.due_date.isoformat())
        table.add_row("factor", f"{self.factor:04d}")
        table.add_row("amount", reais_text(self.amount_cents))
        table.add_row("nosso número", self.nosso_numero)
        table.add_row("campo livre", self.campo_livre)
        table.add_row("barcode", self.barcode)
        table.add_row("linha digitável", format_linha(self.linha))
        return table


def compute(args: argparse.Namespace, today: date) -> ComputedBarcode:
    """The numbers for exactly this due date and amount; raises BoletoDomainError."""
    bank = bank_for(args.bank.strip())
    cents = to_cents(args.amount)
    # issue_boleto would re-date an overdue debt and add charges; a support tool must show
    # the numbers for the date asked about, so it runs only the steps after that policy.
    ensure_payable(args.due, today)
    factor = due_factor(args.due)
    config, campo_livre = _campo_livre(args)
    barcode = build_barcode(bank.code, factor, cents, campo_livre)
    return ComputedBarcode(
        bank_code=bank.code,
        bank_name=bank.name,
        due_date=args.due,
        factor=factor,
        amount_cents=cents,
        nosso_numero=bank.nosso_numero(config, args.nosso_numero),
        campo_livre=campo_livre,
        barcode=barcode,
        linha=barcode_to_linha(barcode),
    )


def _beneficiary(args: argparse.Namespace, filler: str) -> BeneficiaryConfig:
    account = {
        name: filler * width if getattr(args, name) is None else getattr(args, name)
        for name, _, width in ACCOUNT_FIELDS
    }
    return BeneficiaryConfig.from_raw(
        name=PLACEHOLDER_NAME,
        cnpj=PLACEHOLDER_CNPJ,
        bank_code=args.bank.strip(),
        convenio=args.convenio or "",
        carteira=args.carteira or "",
        codigo_beneficiario=args.codigo_beneficiario or "",
        posto=args.posto or "",
        **account,
    )


def _campo_livre(args: argparse.Namespace) -> tuple[BeneficiaryConfig, str]:
    try:
        config = _beneficiary(args, STAND_IN)
    except InvalidBeneficiaryConfig as exc:
        # A problem may quote a stand-in the person never typed; say where it came from.
        stand_ins = [
            f"{flag} {STAND_IN * width}"
            for name, flag, width in ACCOUNT_FIELDS
            if getattr(args, name) is None
        ]
        hint = f" (stand-ins for flags not given: {', '.join(stand_ins)})" if stand_ins else ""
        raise CliError(f"{exc}{hint}") from exc
    campo_livre = config.bank.campo_livre(config, args.nosso_numero)
    left_out = [flag for name, flag, _ in ACCOUNT_FIELDS if getattr(args, name) is None]
    if left_out:
        # Stand-ins are harmless only where the bank's barcode does not read the account:
        # build it again with other stand-ins and insist on the flags if anything changes.
        try:
            other = _beneficiary(args, OTHER_STAND_IN)
            unchanged = other.bank.campo_livre(other, args.nosso_numero) == campo_livre
        except BoletoDomainError:
            unchanged = False
        if not unchanged:
            raise CliError(f"{config.bank.name} boletos need {', '.join(left_out)}")
    return config, campo_livre


@dataclass(frozen=True)
class CheckReport:
    kind: str
    mismatches: tuple[CheckDigitMismatch, ...]
    barcode: str | None
    linha: str | None
    bank_code: str
    currency: str
    factor: int
    due_date: date | None
    due_note: str
    amount_cents: int

    @property
    def valid(self) -> bool:
        return not self.mismatches

    @property
    def bank_name(self) -> str | None:
        bank = BANKS.get(self.bank_code)
        return bank.name if bank else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "valid": self.valid,
            "mismatches": [
                {"where": m.where, "expected": m.expected, "found": m.found}
                for m in self.mismatches
            ],
            "barcode": self.barcode,
            "digitable_line": self.linha,
            "bank_code": self.bank_code,
            "bank_name": self.bank_name,
            "currency": self.currency,
            "factor": self.factor,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "due_date_note": self.due_note or None,
            "amount": amount_text(self.amount_cents),
            "amount_cents": self.amount_cents,
        }

    def print(self, out: Console) -> None:
        if self.valid:
            out.print(f"[green]{self.kind}: every check digit verifies[/]")
        else:
            out.print(f"[red]{self.kind}: {len(self.mismatches)} wrong check digit(s)[/]")
            for mismatch in self.mismatches:
                out.print(f"  {mismatch.describe()}", style="red", markup=False, highlight=False)
        table = _table("Decoded")
        table.add_row("bank", Text(f"{self.bank_code} {self.bank_name or '(no layout here)'}"))
        if self.currency != CURRENCY_REAL:
            table.add_row("currency", f"[red]{self.currency} (boletos in reais carry 9)[/]")
        due = self.due_date.isoformat() if self.due_date else Text(self.due_note)
        table.add_row("due date", due)
        table.add_row("factor", f"{self.factor:04d}")
        table.add_row("amount", reais_text(self.amount_cents))
        if self.barcode:
            table.add_row("barcode", self.barcode)
        if self.linha:
            table.add_row("linha digitável", self.linha)
        out.print(table)


def _run_check(code: str, today: date, as_json: bool, out: Console) -> int:
    report = check(code, today)
    if as_json:
        print_json(report.as_dict())
    else:
        report.print(out)
    # 1, not 2: the code was read and checked; it is the answer that is no.
    return EXIT_OK if report.valid else EXIT_REFUSED


def check(code: str, today: date) -> CheckReport:
    digits = strip_separators(code)
    if not (digits.isascii() and digits.isdigit()) or len(digits) not in (
        BARCODE_LENGTH,
        LINHA_LENGTH,
    ):
        raise CliError(
            f"--check takes a {BARCODE_LENGTH}-digit barcode or a {LINHA_LENGTH}-digit linha "
            f"digitável (dots and spaces allowed), got {code!r}"
        )
    if len(digits) == BARCODE_LENGTH:
        kind, mismatches = "barcode", barcode_mismatches(digits)
        barcode: str | None = digits
        linha = None if mismatches else format_linha(barcode_to_linha(digits))
        # Barcode layout: bank (3), currency (1), DV (1), factor (4), amount (10), campo livre.
        factor, cents = int(digits[5:9]), int(digits[9:19])
    else:
        kind, mismatches = "linha digitável", linha_mismatches(digits)
        barcode = None if mismatches else linha_to_barcode(digits)
        linha = format_linha(digits)
        # Field 5, the last 14 digits, is the barcode's factor and amount unchanged.
        factor, cents = int(digits[33:37]), int(digits[37:47])
    due_date, due_note = _resolve_factor(factor, today)
    return CheckReport(
        kind=kind,
        mismatches=mismatches,
        barcode=barcode,
        linha=linha,
        bank_code=digits[0:3],
        currency=digits[3],
        factor=factor,
        due_date=due_date,
        due_note=due_note,
        amount_cents=cents,
    )


def _resolve_factor(factor: int, today: date) -> tuple[date | None, str]:
    if factor == NO_DUE_DATE_FACTOR:
        return None, "none (factor 0000: payable any day)"
    try:
        return date_for_factor(factor, today), ""
    except InvalidDueDate as exc:
        return None, str(exc)


def _table(title: str) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    # Numbers people copy: never cut or wrapped.
    table.add_column(no_wrap=True)
    return table
