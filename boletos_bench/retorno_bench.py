"""A day of retornos: ``python -m boletos_bench.retorno_bench --titles 1100000``.

Fills a fresh boleto store with N boletos through the store's own issue path (real numbers
from the domain), builds the retornos a bank would send for them (every entry confirmed, 30%
paid; CNAB 240 counts records in six digits, so a day this size takes several files), and
times the retorno service layer processing them: hashing each file as the RPC does while it
spools, then ProcessRetornos, batch by batch, into the store and its outbox. Then the same
files again (each already processed). The processing runs in a child process of its own, so
its peak memory is its own. Figures: seconds, occurrences per second, peak RSS.

PostgreSQL runs on a scratch database (created and dropped) of the server at
BOLETOS_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import multiprocessing
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from boleto_service.domain.boleto import Boleto, Payer, PayerAddress
from boleto_service.domain.cnab240 import PayerIdKind, RemessaHeader, RemessaPayer, RemessaTitle
from boleto_service.domain.cnab240.remessa import remessa_lines
from boleto_service.domain.issuing import issue_boleto
from boleto_service.service.retornos import ProcessRetornos, Summary
from boleto_service.store.engine import create_engine, upgrade_schema
from boleto_service.store.repository import BoletoStore
from boleto_service.store.retornos import RetornoStore
from boleto_service.store.tables import boletos
from boletos.platform import heap, logs
from boletos_bench.ingest_bench import database_for
from boletos_cli.bank import MAX_RECORDS_PER_FILE, Paid, Registered, Result, retorno_records
from boletos_testing.beneficiary import BENEFICIARY

HEADER = RemessaHeader(BENEFICIARY, 1, dt.datetime(2026, 12, 1, 18), "0", variacao_carteira="19")
TODAY = dt.date(2026, 12, 1)
DUE = dt.date(2026, 12, 20)
PAID_ON = dt.date(2026, 12, 18)
FILL_BATCH = 10_000
# Occurrences per retorno file: two records each, within the six-digit record count.
PER_FILE = (MAX_RECORDS_PER_FILE - 1_000) // 2


def amount_of(index: int) -> int:
    return 1_000 + (index * 7_919) % 500_000


def fill(engine: sa.Engine, titles: int) -> float:
    """N boletos through issue_batch, in batches; returns the seconds it took."""
    store = BoletoStore(engine)
    upload_id = str(uuid.uuid4())
    payer = Payer("Maria Conceição", "52998224725", 2, "maria@example.com")
    started = time.perf_counter()
    for start in range(0, titles, FILL_BATCH):
        count = min(FILL_BATCH, titles - start)
        ids = [str(uuid.uuid4()) for _ in range(count)]

        def build(
            new: list[str], first: int, _number: int, start: int = start
        ) -> tuple[list, list, list]:
            made = [
                Boleto(
                    debt_id, upload_id, start + offset + 1, first + offset, TODAY, payer,
                    issue_boleto(
                        BENEFICIARY, first + offset, amount_of(start + offset), DUE, TODAY
                    ),
                )
                for offset, debt_id in enumerate(new)
            ]  # fmt: skip
            return made, [], []

        store.issue_batch(ids, build, check_first=False)
    return time.perf_counter() - started


def _stored_titles(engine: sa.Engine) -> Iterator[RemessaTitle]:
    b = boletos.c
    address = PayerAddress("Rua São Bento, 365", "Centro", "01011100", "São Paulo", "SP")
    payer = RemessaPayer("Maria Conceição", PayerIdKind.CPF, "52998224725", address)
    query = sa.select(b.sequence, b.nosso_numero, b.amount_cents).order_by(b.sequence)
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=FILL_BATCH).execute(query):
            yield RemessaTitle(
                nosso_numero=row.nosso_numero,
                document_number=str(row.sequence),
                due_date=DUE,
                amount_cents=row.amount_cents,
                issue_date=TODAY,
                payer=payer,
            )


def _details(engine: sa.Engine, paid_percent: int) -> Iterator[tuple[str, str, Result]]:
    """Every stored boleto confirmed; paid_percent of them (every title whose index modulo
    100 falls below it) paid their face value."""
    titles = _stored_titles(engine)
    index = 0
    while chunk := list(itertools.islice(titles, FILL_BATCH)):
        lines = remessa_lines(HEADER, chunk)
        pairs = [(p, q) for p, q in zip(lines[2:-2:2], lines[3:-2:2], strict=True)]
        for (p, q), title in zip(pairs, chunk, strict=True):
            yield p, q, Registered()
            if index % 100 < paid_percent:
                yield p, q, Paid(title.amount_cents, PAID_ON, PAID_ON + dt.timedelta(days=1))
            index += 1


def write_retornos(engine: sa.Engine, directory: Path, paid_percent: int) -> list[Path]:
    """The day's retorno files, at most PER_FILE occurrences each."""
    head = remessa_lines(HEADER, [next(_stored_titles(engine))])
    details = _details(engine, paid_percent)
    paths: list[Path] = []
    while True:
        part = list(itertools.islice(details, PER_FILE))
        if not part:
            return paths
        path = directory / f"CB{TODAY:%d%m}{len(paths) + 1:02d}.RET"
        with path.open("w", encoding="ascii", newline="") as out:
            for record in retorno_records(head[0], head[1], part):
                out.write(record + "\r\n")
        paths.append(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _process_all(url: str, paths: list[str], batch: int, queue: Any) -> None:
    """In the child: every file once, then every file again; timings and summaries back."""
    engine = create_engine(url)
    process = ProcessRetornos(RetornoStore(engine), batch_size=batch)
    heap.freeze_startup_objects()  # as the service does once started
    passes = []
    for _ in range(2):
        started = time.perf_counter()
        cpu = time.process_time()
        summaries: list[Summary] = []
        for name in paths:
            path = Path(name)
            summaries.append(process.process(path, _sha256(path), path.name))
        passes.append(
            {
                "seconds": time.perf_counter() - started,
                "cpu_seconds": time.process_time() - cpu,
                "summaries": [s.to_json() for s in summaries],
            }
        )
    engine.dispose()
    queue.put({"passes": passes, "peak_rss_bytes": _peak_rss_bytes()})


def _peak_rss_bytes() -> int:
    """This process's resident high-water mark. VmHWM, not getrusage: Linux carries
    ru_maxrss across exec, so a spawned child would report its parent's peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(url: str, titles: int, paid_percent: int, batch: int, work: Path) -> dict[str, Any]:
    engine = create_engine(url)
    upgrade_schema(engine)
    fill_s = fill(engine, titles)
    started = time.perf_counter()
    paths = write_retornos(engine, work, paid_percent)
    build_s = time.perf_counter() - started
    engine.dispose()
    queue: Any = multiprocessing.get_context("spawn").Queue()
    child = multiprocessing.get_context("spawn").Process(
        target=_process_all, args=(url, [str(p) for p in paths], batch, queue)
    )
    child.start()
    result = queue.get()
    child.join()
    first, repeat = result["passes"]
    summaries = [Summary.from_json(s) for s in first["summaries"]]
    occurrences = sum(s.occurrences for s in summaries)
    paid = sum(s.paid for s in summaries)
    registered = sum(s.registered for s in summaries)
    expected_paid = sum(1 for i in range(titles) if i % 100 < paid_percent)
    if (registered, paid) != (titles, expected_paid) or any(s.problems for s in summaries):
        raise SystemExit(f"wrong result: registered {registered}, paid {paid}: {summaries[0]}")
    if not all(Summary.from_json(s).already_processed for s in repeat["summaries"]):
        raise SystemExit("a repeated file was processed again")
    return {
        "titles": titles,
        "files": len(paths),
        "file_bytes": sum(p.stat().st_size for p in paths),
        "occurrences": occurrences,
        "registered": registered,
        "paid": paid,
        "paid_cents": sum(s.paid_cents for s in summaries),
        "fill_seconds": round(fill_s, 1),
        "build_seconds": round(build_s, 1),
        "process_seconds": round(first["seconds"], 1),
        "process_cpu_seconds": round(first["cpu_seconds"], 1),
        "occurrences_per_second": round(occurrences / first["seconds"]),
        "titles_per_second": round(titles / first["seconds"]),
        "repeat_seconds": round(repeat["seconds"], 1),
        "peak_rss_mib": round(result["peak_rss_bytes"] / (1 << 20)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m boletos_bench.retorno_bench", description=__doc__
    )
    parser.add_argument("--titles", type=int, default=1_100_000)
    parser.add_argument("--paid-percent", type=int, default=30)
    parser.add_argument("--batch", type=int, default=5_000, help="occurrences per transaction")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--work-dir", type=Path, default=None, help="for the store and files")
    args = parser.parse_args(argv)
    logs.configure("console", "WARNING")
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    for store in stores:
        if store not in ("sqlite", "postgres"):
            parser.error(f"unknown store {store!r}: sqlite or postgres")
    for store in stores:
        with (
            tempfile.TemporaryDirectory(prefix="retorno-bench-", dir=args.work_dir) as tmp,
            database_for(store, Path(tmp)) as url,
        ):
            result = run(url, args.titles, args.paid_percent, args.batch, Path(tmp))
        # A line per store as it finishes: a day's PostgreSQL run takes minutes.
        print(json.dumps({store: result}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
