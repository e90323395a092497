"""A day of remessas: ``python -m boletos_bench.remessa_bench --debts 1100000 [--database-url U]``.

Fills a fresh boleto store with N issued boletos through the store's own issue path (numbers
from the domain's BoletoIssuer, payers with valid CPFs but for a share without one, which no
bank registers), then times what the 18:00 cut does with them: every remessa cut,
committed and written to disk, in as many files as the CNAB limit per file needs.
Figures: files, seconds, MB written, titles per second (and per CPU second of this process).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from boleto_service.domain.beneficiaries import Beneficiary
from boleto_service.domain.boleto import Boleto, Payer, PayerAddress
from boleto_service.domain.charges import OverduePolicy
from boleto_service.domain.issuing import BoletoIssuer
from boleto_service.domain.remessa_policy import MAX_TITLES, RemessaSettings
from boleto_service.service.remessas import Remessas
from boleto_service.store.engine import create_engine, upgrade_schema
from boleto_service.store.remessas import RemessaStore
from boleto_service.store.repository import BoletoStore
from boletos.platform import logs
from boletos_bench.ingest_bench import database_for
from boletos_testing.beneficiary import BENEFICIARY
from boletos_testing.cpf import valid_cpf

ADDRESS = PayerAddress("Rua São Bento, 365", "Centro", "01011100", "São Paulo", "SP")
BATCH = 10_000
# Uploads of the day: remessas per day take them together.
UPLOADS = 4


def fill(store: BoletoStore, debts: int, without_cpf_per_mille: int) -> None:
    issuer = BoletoIssuer(BENEFICIARY, OverduePolicy())
    today = dt.date.today()
    due = today + dt.timedelta(days=20)
    uploads = [str(uuid.uuid4()) for _ in range(UPLOADS)]
    done = 0
    while done < debts:
        count = min(BATCH, debts - done)
        offset = done

        def build(ids: list[str], first: int, _number: int, offset: int = offset) -> tuple:
            made = []
            for i, debt_id in enumerate(ids):
                n = offset + i
                registrable = n % 1000 >= without_cpf_per_mille
                made.append(
                    Boleto(
                        debt_id=debt_id,
                        upload_id=uploads[n * UPLOADS // debts],
                        line=n + 2,
                        sequence=first + i,
                        issue_date=today,
                        payer=Payer(
                            f"Pagador de Teste {n}",
                            valid_cpf(100_000_000 + n) if registrable else str(n % 10_000),
                            2 if registrable else 1,
                            f"pagador{n}@example.com",
                            ADDRESS,
                        ),
                        numbers=issuer.issue(first + i, 10_000 + n % 90_000, due, today),
                    )
                )
            return made, [], []

        store.issue_batch([str(uuid.uuid4()) for _ in range(count)], build, check_first=False)
        done += count


def run(debts: int, url: str, without_cpf_per_mille: int) -> dict[str, object]:
    scratch = Path(tempfile.mkdtemp(prefix="remessa-bench-"))
    try:
        engine = create_engine(url)
        upgrade_schema(engine)
        store = BoletoStore(engine)
        started = time.perf_counter()
        fill(store, debts, without_cpf_per_mille)
        fill_seconds = time.perf_counter() - started

        directory = scratch / "remessas"
        remessas = Remessas(
            RemessaStore(engine),
            Beneficiary(key="default", config=BENEFICIARY, agencia_dv="3", variacao_carteira="19"),
            RemessaSettings(directory=str(directory)),
        )
        started, cpu_started = time.perf_counter(), time.process_time()
        made = remessas.cut_now()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        engine.dispose()
        titles = sum(r.titles for r in made)
        written = sum(p.stat().st_size for p in directory.iterdir())
        return {
            "database": url.split(":", 1)[0],
            "debts": debts,
            "fill_seconds": round(fill_seconds, 1),
            "files": len(made),
            "max_titles_per_file": MAX_TITLES,
            "titles": titles,
            "left_out": debts - titles,
            "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1),
            "mb_written": round(written / 1e6, 1),
            "titles_per_s": round(titles / seconds) if seconds else 0,
            "titles_per_cpu_s": round(titles / cpu) if cpu else 0,
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m boletos_bench.remessa_bench", description=__doc__
    )
    parser.add_argument("--titles", type=int, default=1_100_000)
    parser.add_argument(
        "--stores",
        default="sqlite,postgres",
        help="sqlite, postgres (a scratch database on BOLETOS_BENCH_POSTGRES_URL), or both",
    )
    parser.add_argument(
        "--without-cpf-per-mille",
        type=int,
        default=10,
        help="payers per thousand with no CPF or CNPJ, left out of every remessa (default 10)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    logs.configure("console", "WARNING")
    for store in [s.strip() for s in args.stores.split(",") if s.strip()]:
        with tempfile.TemporaryDirectory(prefix="remessa-bench-") as tmp:
            with database_for(store, Path(tmp)) as url:
                result = run(args.titles, url, args.without_cpf_per_mille)
        if args.json:
            print(json.dumps(result))
        else:
            for key, value in result.items():
                print(f"{key:>20}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
