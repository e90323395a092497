"""``python -m boletos_bench``: the ingest benchmark on a file shaped like the real one."""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from boletos_bench.boleto_bench import bench_boletos
from boletos_bench.ingest_bench import (
    SERVICE_MODULE,
    STORES,
    BenchError,
    Options,
    RunResult,
    bench_store,
    service_available,
)
from boletos_bench.machine import machine_state
from boletos_bench.mail_pipeline_bench import SMTP_CONNECTIONS, bench_mail
from boletos_bench.pdf_bench import bench_pdf
from boletos_testing.datagen import DEFAULT_ROWS, DEFAULT_SEED, cached_csv


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m boletos_bench", description=__doc__)
    parser.add_argument(
        "--rows",
        type=int,
        default=int(os.environ.get("ROWS") or DEFAULT_ROWS),
        help=f"data rows in the file (env ROWS; default {DEFAULT_ROWS:,})",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--stores",
        default=",".join(STORES),
        help="comma-separated stores to run against: sqlite, postgres (admin URL from "
        "BOLETOS_BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--chunk-kib", type=int, default=64)
    parser.add_argument("--settle", type=float, default=Options.settle_seconds,
                        help="seconds to keep listening for unexpected events")  # fmt: skip
    parser.add_argument(
        "--nats-sync",
        default=None,
        metavar="INTERVAL",
        help="JetStream sync_interval for the benchmark's nats-server, e.g. always or 1s "
        "(default: the server's own, every 2 minutes)",
    )
    parser.add_argument(
        "--parts",
        default="ingest,boleto,pdf,mail",
        help="comma-separated parts to measure: ingest, boleto (records for the whole file), "
        "pdf (rendering rate on one core), mail (e-mails into the local SMTP catcher)",
    )
    parser.add_argument(
        "--mail-rows",
        type=int,
        default=20_000,
        help="e-mails to send in the mail part (the first rows of the file)",
    )
    parser.add_argument(
        "--smtp-connections",
        type=int,
        default=SMTP_CONNECTIONS,
        help=f"the mailer's SMTP_CONNECTIONS in the mail part (default {SMTP_CONNECTIONS}; "
        "the service's own default is 8)",
    )
    parser.add_argument("--pdf-seconds", type=float, default=6.0)
    args = parser.parse_args(argv)
    args.parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    args.stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = sorted(set(args.stores) - set(STORES))
    if unknown:
        parser.error(f"unknown store(s) {', '.join(unknown)}; choose from {', '.join(STORES)}")
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    return args


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def csv_reader_seconds(path: Path) -> float:
    """Wall time of a plain csv.reader pass over the file: the yardstick the ingest runs are
    given against, since it moves with the machine as they do."""
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as f:
        for _ in csv.reader(f):
            pass
    return time.perf_counter() - started


def results_table(results: list[RunResult], yardstick_s: float) -> Table:
    table = Table(
        title="ingest: upload to UploadResponse, then to every accepted debt on the INGEST stream",
        caption=(
            "wall s: first byte sent → UploadResponse.  events s: first byte sent → the "
            "DebtsImported messages received carry as many debts as were accepted (summed over "
            "messages, not counted as messages).  peak RSS: VmHWM summed over the service's "
            "processes (its workers included), reset before each run (* = could not reset: peak "
            "since start).  cpu s: user+system time of those processes during the run (the "
            f"database server's not included).  x csv.reader: wall s over a plain csv.reader "
            f"pass over the same file in this run ({yardstick_s:.2f} s)."
        ),
    )
    for name in ("store", "run"):
        table.add_column(name)
    for name in ("rows", "wall s", "x csv.reader", "rows/s", "events s", "peak RSS MB", "cpu s",
                 "accepted", "duplicates", "new events", "event debts", "check"):  # fmt: skip
        table.add_column(name, justify="right")
    for r in results:
        rss = None if r.peak_rss_bytes is None else r.peak_rss_bytes / 2**20
        table.add_row(
            r.store,
            r.run,
            f"{r.rows:,}",
            f"{r.wall_s:.2f}",
            f"{r.wall_s / yardstick_s:.1f}",
            f"{r.rows_per_s:,.0f}",
            _fmt(r.events_s, ".2f"),
            _fmt(rss, ".0f") + ("" if r.rss_is_per_run else "*"),
            _fmt(r.cpu_s, ".1f"),
            f"{r.summary.accepted:,}",
            f"{r.summary.duplicates:,}",
            f"{r.new_messages:,}",
            f"{r.new_debts:,}",
            "[green]ok[/]" if not r.failures else "[red]FAIL[/]",
        )
    return table


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    # Redirected output (make bench > file, CI logs) would otherwise wrap the table at 80.
    console = Console(width=None if sys.stdout.isatty() else 160)

    state = Table.grid(padding=(0, 2))
    for key, value in machine_state().items():
        state.add_row(f"[bold]{key}[/]", value)
    console.print(state)

    if not service_available():
        console.print(
            f"[red]cannot benchmark: `python -m {SERVICE_MODULE}` is not available in this "
            "tree (no ingest_service/__main__.py)[/]"
        )
        return 2

    started = time.perf_counter()
    csv_path = cached_csv(args.rows, args.seed, args.data_dir)
    generated = time.perf_counter() - started
    size_mb = csv_path.stat().st_size / 1e6
    console.print(
        f"file: {csv_path} ({args.rows:,} rows, {size_mb:.1f} MB; ready in {generated:.1f}s)"
    )
    # Read it once so every store starts with the file in the page cache.
    with csv_path.open("rb") as f:
        while f.read(1 << 24):
            pass
    yardstick_s = csv_reader_seconds(csv_path)

    opts = Options(
        chunk_bytes=args.chunk_kib * 1024,
        settle_seconds=args.settle,
        nats_sync_interval=args.nats_sync,
    )
    console.print(f"nats-server sync_interval: {args.nats_sync or 'server default (2m)'}")
    results: list[RunResult] = []
    errors: list[str] = []
    for store in args.stores if "ingest" in args.parts else []:
        console.print(f"running against {store}…")
        try:
            asyncio.run(bench_store(store, csv_path, args.rows, opts, results))
        except BenchError as exc:
            errors.append(f"{store}: {exc}")

    if results:
        # Load only ever adds: the quicker of the passes before and after the runs.
        yardstick_s = min(yardstick_s, csv_reader_seconds(csv_path))
        console.print(results_table(results, yardstick_s))
    for replicas in (1, 2) if "boleto" in args.parts else ():
        console.print(f"boleto service x{replicas}: issuing the file's boletos (SQLite)…")
        run = asyncio.run(bench_boletos(csv_path, replicas))
        rss = None if run.peak_rss_bytes is None else run.peak_rss_bytes / 2**20
        console.print(
            f"boleto records, {replicas} replica(s): {run.issued:,} of {run.debts:,} debts in "
            f"{run.wall_s:.1f} s ({run.per_s:,.0f}/s), peak RSS per replica {_fmt(rss, '.0f')} MB"
        )
        if run.issued != run.debts:
            errors.append(f"boleto: {run.issued:,} boletos for {run.debts:,} debts")
    if "mail" in args.parts:
        console.print(f"mailer: {args.mail_rows:,} e-mails into the local SMTP catcher…")
        mail_csv = cached_csv(args.mail_rows, args.seed, args.data_dir)
        mail = asyncio.run(bench_mail(mail_csv, args.smtp_connections))
        console.print(
            f"e-mails with PDF into the catcher: {mail.delivered:,} of {mail.emails:,} in "
            f"{mail.wall_s:.1f} s ({mail.per_s:,.0f}/s; mailer, boleto service and catcher on "
            f"this machine, {args.smtp_connections} SMTP connections, rate limit off); CPU ms per "
            "e-mail: "
            + ", ".join(f"{k} {v:.2f}" for k, v in mail.cpu_ms_per_email.items())
            + f"; once sending, {mail.steady_per_s:,.0f}/s, {mail.mailer_cpu_share:.0%} of what "
            "the mailer's CPU per e-mail allows on one core"
        )
        if mail.delivered != mail.emails:
            errors.append(f"mail: {mail.delivered:,} e-mails for {mail.emails:,} boletos")
    if "pdf" in args.parts:
        pdf = bench_pdf(args.pdf_seconds)
        console.print(
            f"boleto PDFs, one core: {pdf['pdfs_per_cpu_s']:,} rendered per CPU second "
            f"({pdf['issue_and_render_per_cpu_s']:,} issued and rendered), "
            f"{pdf['mean_bytes']:,} bytes each on average"
        )
    failed = False
    for r in results:
        for failure in r.failures:
            failed = True
            console.print(f"[red]FAIL[/] {r.store} {r.run}: {escape(failure)}")
    for error in errors:
        failed = True
        console.print(f"[red]ERROR[/] {escape(error)}")
    if not failed:
        console.print("[green]all checks passed[/]")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
