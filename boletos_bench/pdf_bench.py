"""Boleto PDF rendering rate on one core: ``python -m boletos_bench.pdf_bench [--seconds S]``.

Documents come from rows shaped like the real file (almost all overdue), issued by the
domain for one beneficiary at a time, as an upload would be. Two figures: rendering alone
(document to PDF bytes) and the whole per-debt path (issue, build the document, render).
Both run in this process on one thread, and rates are also given per CPU second.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from itertools import cycle

from boleto_service.documents import BoletoDocument, PayerIdKind, render_pdf
from boleto_service.domain import BeneficiaryConfig, BoletoIssuer, OverduePolicy
from boleto_service.domain.boleto import Boleto, Payer
from boletos_testing.beneficiary import BENEFICIARY
from boletos_testing.datagen import iter_rows

ISSUE_DATE = date(2025, 11, 26)  # fixed, so every run renders the same documents
POOL_SIZE = 2_000
POLICY = OverduePolicy(fine_percent=Decimal(2), monthly_interest_percent=Decimal(1))
BENEFICIARIES = (
    BENEFICIARY,
    BeneficiaryConfig(
        name="Cobranças Exemplo Ltda",
        cnpj="11222333000181",
        bank_code="341",
        agencia="0057",
        conta="12345",
        conta_dv="7",
        carteira="109",
    ),
)

Debt = tuple[str, str, str, Decimal, date]  # name, government id, debt id, amount, due date


def _debts(count: int) -> list[Debt]:
    debts = []
    for line in iter_rows(count):
        name, government_id, _email, amount, due, debt_id = line.split(",")
        debts.append((name, government_id, debt_id, Decimal(amount), date.fromisoformat(due)))
    return debts


def _document(issuer: BoletoIssuer, sequence: int, debt: Debt) -> BoletoDocument:
    name, government_id, debt_id, amount, due = debt
    issued = issuer.issue(sequence, amount, due, ISSUE_DATE)
    return BoletoDocument.of(
        Boleto(
            debt_id=debt_id,
            upload_id="",
            line=2,
            sequence=1,
            issue_date=ISSUE_DATE,
            payer=Payer(name, government_id, PayerIdKind.OTHER, ""),
            numbers=issued,
        ),
        issuer.config,
    )


def _jobs(debts: list[Debt]) -> Iterator[tuple[BoletoIssuer, int, Debt]]:
    """Half the pool per beneficiary, in blocks, the way uploads arrive."""
    half = len(debts) // 2
    for index, debt in enumerate(debts):
        config = BENEFICIARIES[0 if index < half else 1]
        yield BoletoIssuer(config, POLICY), index + 1, debt


def timed(seconds: float, step: Callable[[], int]) -> tuple[int, float, float, int]:
    """Run `step` until `seconds` pass: (calls, wall s, CPU s, bytes produced)."""
    calls = produced = 0
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    deadline = wall_start + seconds
    while True:
        for _ in range(100):  # checking the clock every call would be measured too
            produced += step()
        calls += 100
        if time.perf_counter() >= deadline:
            break
    return calls, time.perf_counter() - wall_start, time.process_time() - cpu_start, produced


def bench_pdf(seconds: float) -> dict[str, float | int | str]:
    """Render for about `seconds` (two thirds rendering alone, a third the whole path)."""
    debts = _debts(POOL_SIZE)
    jobs = list(_jobs(debts))
    documents = [_document(issuer, sequence, debt) for issuer, sequence, debt in jobs]
    sizes = [len(render_pdf(doc)) for doc in documents]  # also warms the caches

    pool = cycle(documents)
    renders, render_wall, render_cpu, _ = timed(
        seconds * 2 / 3, lambda: len(render_pdf(next(pool)))
    )
    work = cycle(jobs)
    full, full_wall, full_cpu, _ = timed(
        seconds / 3, lambda: len(render_pdf(_document(*next(work))))
    )
    return {
        "pdfs": renders,
        "seconds": round(render_wall, 3),
        "pdfs_per_s": round(renders / render_wall),
        "pdfs_per_cpu_s": round(renders / render_cpu) if render_cpu else 0,
        "issue_and_render_per_s": round(full / full_wall),
        "issue_and_render_per_cpu_s": round(full / full_cpu) if full_cpu else 0,
        "mean_bytes": round(sum(sizes) / len(sizes)),
        "max_bytes": max(sizes),
        "pool": len(documents),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m boletos_bench.pdf_bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration (default 5)")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    print(json.dumps(bench_pdf(args.seconds), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
