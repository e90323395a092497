"""The cost guard: each stage's CPU per item, as a multiple of a yardstick measured in the
same process, against budgets kept in the repository (cost_budgets.json beside this file).

Wall time and even CPU time move with the machine's load; a ratio to a plain `csv.reader`
pass timed alternately with the stage moves far less, since both slow down together. The
guard fails when a stage costs more than GUARD_FACTOR times its budget: a change that makes
one twice as slow (as a generic per-row path once made ingest) cannot pass unnoticed.
A budget is changed on purpose, in the commit whose change earns it:
`python -m boletos_bench.cost_guard --write`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import inspect
import io
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boleto_service.domain.boleto import Boleto

BUDGETS = Path(__file__).with_name("cost_budgets.json")
GUARD_FACTOR = 1.4
ROUNDS = 9
YARDSTICK_ROWS = 20_000


@dataclass(frozen=True)
class Stage:
    name: str
    items: int
    # Builds everything once; returns the call to time, which handles `items` items.
    prepare: Callable[[], Callable[[], object]]


def _rows(count: int) -> list[str]:
    from boletos_testing.datagen import iter_rows

    return list(iter_rows(count, seed=11))


def _yardstick() -> Callable[[], object]:
    text = "\n".join(_rows(YARDSTICK_ROWS)) + "\n"
    return lambda: sum(1 for _ in csv.reader(io.StringIO(text)))


def _ingest_prepare() -> Callable[[], object]:
    from ingest_service.domain.lines import Block
    from ingest_service.service.prepare import prepare

    data = ("\n".join(_rows(10_000)) + "\n").encode()
    # The file format's own header, not the code's table, and the rules only where prepare
    # takes them: the guard must measure the code of older commits too, to show what it
    # would have caught.
    header = b"name,governmentId,email,debtAmount,debtDueDate,debtId"
    if len(inspect.signature(prepare).parameters) == 3:
        return lambda: prepare(header, Block(2, data), 16_384)  # type: ignore[call-arg]
    from ingest_service.domain.columns import Rules

    rules = Rules.on(dt.date(2025, 1, 1))
    return lambda: prepare(header, Block(2, data), 16_384, rules)


def _boletos(pix: bool = False) -> Callable[[int], Boleto]:
    """The PDF stages' nth boleto, issued by the domain, with a Pix BR Code if asked."""
    from boleto_service.domain.boleto import Boleto, Payer
    from boleto_service.domain.issuing import issue_boleto
    from boleto_service.domain.pix import PixMerchant, pix_payload
    from boletos_testing.beneficiary import BENEFICIARY

    today = dt.date(2026, 12, 1)
    merchant = PixMerchant(
        key="123e4567-e89b-12d3-a456-426614174000", name="Cobranças Exemplo", city="São Paulo"
    )

    def one(n: int) -> Boleto:
        numbers = issue_boleto(BENEFICIARY, n + 1, 10_000 + n, dt.date(2026, 12, 20), today)
        if pix:
            payload = pix_payload(merchant, 10_000 + n, numbers.nosso_numero)
            numbers = replace(numbers, pix_payload=payload)
        payer = Payer(f"Pagador {n}", "52998224725", 2, f"p{n}@example.com")
        return Boleto(f"00000000-0000-4000-8000-{n:012d}", "u", n, n + 1, today, payer, numbers)

    return one


def _boleto_pdf() -> Callable[[], object]:
    from boleto_service.documents.model import BoletoDocument
    from boleto_service.documents.render import render_pdf
    from boletos_testing.beneficiary import BENEFICIARY

    boleto = _boletos()
    return lambda: [render_pdf(BoletoDocument.of(boleto(n), BENEFICIARY)) for n in range(100)]


def _boleto_pix_pdf() -> Callable[[], object]:
    """A boleto híbrido's PDF, its document made beforehand: its Pix QR code's encoding once
    cost two hundred times the rest of the PDF."""
    from boleto_service.documents.model import BoletoDocument
    from boleto_service.documents.render import render_pdf
    from boletos_testing.beneficiary import BENEFICIARY

    boleto = _boletos(pix=True)
    documents = [BoletoDocument.of(boleto(n), BENEFICIARY) for n in range(20)]
    return lambda: [render_pdf(d) for d in documents]


def _mailer_compose() -> Callable[[], object]:
    from boletos_testing.mails import DATE, SETTINGS, sample_mails, sample_pdf
    from mailer_service.domain.compose import compose

    pdf = sample_pdf()
    mails = sample_mails(500)
    return lambda: [compose(mail, pdf, SETTINGS, date=DATE) for mail in mails]


def _remessa_lines() -> Callable[[], object]:
    from boleto_service.domain.cnab240 import (
        PayerAddress,
        PayerIdKind,
        RemessaHeader,
        RemessaPayer,
        RemessaTitle,
        remessa_lines,
    )
    from boletos_testing.beneficiary import BENEFICIARY

    header = RemessaHeader(BENEFICIARY, 1, dt.datetime(2026, 12, 1, 18), "3", "019")
    address = PayerAddress("Rua São Bento, 365", "Centro", "01011100", "São Paulo", "SP")
    payer = RemessaPayer("Maria Conceição", PayerIdKind.CPF, "52998224725", address)
    titles = [
        RemessaTitle(
            f"{BENEFICIARY.convenio}{n:010d}", str(n), dt.date(2026, 12, 20), 10_000 + n,
            dt.date(2026, 12, 1), payer, fine_percent=Decimal("2.00"),
        )
        for n in range(1, 2_001)
    ]  # fmt: skip
    return lambda: remessa_lines(header, titles)


def _retorno_parse() -> Callable[[], object]:
    from boleto_service.domain.cnab240 import parse_retorno
    from boletos_cli.bank import answer

    lines = _remessa_lines()()
    assert isinstance(lines, list)
    text = answer("".join(f"{line}\r\n" for line in lines), paid_share=0.5).text
    return lambda: parse_retorno(text.splitlines())


def _ingest_progress() -> Callable[[], object]:
    """A second's e-mails as the mailer's relay publishes them, one EmailsSent, recorded by
    the ingest service on SQLite: read, checked, each debt moved in one transaction (rolled
    back, so that every round moves them all)."""
    import tempfile
    import uuid

    import sqlalchemy as sa

    from boletos.v1 import events_pb2
    from ingest_service.messaging.progress_consumer import checked
    from ingest_service.service.events import upload_completed
    from ingest_service.store import progress
    from ingest_service.store.engine import create_engine, upgrade_schema
    from ingest_service.store.repository import IngestStore
    from ingest_service.store.tables import debts, uploads

    engine = create_engine(f"sqlite:///{tempfile.mkdtemp(prefix='cost-guard-')}/ingest.db")
    upgrade_schema(engine)
    upload_id = IngestStore(engine, upload_completed).create_upload("f.csv", "").upload_id
    ids = [str(uuid.UUID(int=n + 1, version=4)) for n in range(2_000)]
    with engine.begin() as conn:
        number = conn.execute(
            sa.select(uploads.c.upload_no).where(uploads.c.upload_id == upload_id)
        ).scalar_one()
        conn.execute(
            debts.insert(),
            [
                {"debt_id": uuid.UUID(d).bytes, "content_hash": n, "upload_no": number,
                 "line": n + 2}
                for n, d in enumerate(ids)
            ],
        )  # fmt: skip
    event = events_pb2.EmailsSent(
        emails=[events_pb2.SentEmail(debt_id=d, upload_id=upload_id, message_id=f"<{d}@x>")
                for d in ids]
    ).SerializeToString()  # fmt: skip

    def record() -> None:
        emails = events_pb2.EmailsSent.FromString(event).emails
        items, _refused = checked((e.debt_id, e.upload_id, "") for e in emails)
        with engine.connect() as conn, conn.begin() as transaction:
            moved = progress.record_stage(conn, "email", 1, items)
            assert moved[upload_id] == len(ids)
            transaction.rollback()

    return record


STAGES = (
    Stage("ingest_prepare_per_row", 10_000, _ingest_prepare),
    Stage("ingest_progress_per_debt", 2_000, _ingest_progress),
    Stage("boleto_pdf_per_boleto", 100, _boleto_pdf),
    Stage("boleto_pix_pdf_per_boleto", 20, _boleto_pix_pdf),
    Stage("mailer_compose_per_email", 500, _mailer_compose),
    Stage("remessa_per_title", 2_000, _remessa_lines),
    Stage("retorno_per_title", 2_000, _retorno_parse),
)


def _cpu(call: Callable[[], object]) -> float:
    # Without the cyclic collector: its passes cost in proportion to everything the process
    # holds (a test session's whole heap), not to what the stage does.
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        call()
        return time.process_time() - started
    finally:
        gc.enable()


def measure(stage: Stage, rounds: int = ROUNDS) -> float:
    """The stage's CPU per item over the yardstick's CPU per row, each the least of `rounds`
    alternations, since load only ever adds. The least of each, not the least ratio: one
    slow yardstick round would make a round's ratio, and so the least, too low."""
    yardstick, subject = _yardstick(), stage.prepare()
    subject()  # warm caches and imports
    per_row = per_item = float("inf")
    for _ in range(rounds):
        per_row = min(per_row, _cpu(yardstick) / YARDSTICK_ROWS)
        per_item = min(per_item, _cpu(subject) / stage.items)
    return per_item / per_row


def budgets(path: Path = BUDGETS) -> dict[str, float]:
    data: dict[str, float] = json.loads(path.read_text())
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m boletos_bench.cost_guard")
    parser.add_argument("--write", action="store_true", help="record today's costs as budgets")
    parser.add_argument("--only", action="append", metavar="STAGE", help="measure these only")
    parser.add_argument("--budgets", type=Path, default=BUDGETS, help="the budgets file")
    args = parser.parse_args(argv)
    chosen = [s for s in STAGES if not args.only or s.name in args.only]
    measured = {s.name: round(measure(s), 2) for s in chosen}
    known = budgets(args.budgets) if args.budgets.exists() else {}
    if args.write:
        # With --only, the other stages keep the budgets they have.
        known = {**known, **measured}
        args.budgets.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
    failed = False
    for name, ratio in measured.items():
        budget = known.get(name)
        over = budget is not None and ratio > budget * GUARD_FACTOR
        failed |= over
        verdict = "OVER" if over else ""
        print(f"{name:28} {ratio:9.2f} x a csv.reader row, budget {budget} {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
