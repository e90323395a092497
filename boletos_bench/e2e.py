"""``python -m boletos_bench.e2e``: a generated file through the whole local stack, from
the first byte uploaded to the last e-mail in the SMTP catcher, once per replica layout."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from boletos_bench.e2e_report import per_core_table, processes_table, stages_table, write_json
from boletos_bench.e2e_run import BenchError, E2eRun, StackShape, run_e2e
from boletos_bench.machine import machine_state
from boletos_bench.mail_pipeline_bench import SMTP_CONNECTIONS
from boletos_cli.stack import postgres
from boletos_cli.stack.layout import NATS_CLUSTER_SIZES, StackError
from boletos_cli.stack.replicas import SYNTAX, describe, parse_replicas
from boletos_testing.datagen import DEFAULT_ROWS, DEFAULT_SEED, cached_csv

DEFAULT_LAYOUTS: tuple[dict[str, int], ...] = ({}, {"boleto": 2, "mailer": 2})


def _replicas(raw: str) -> dict[str, int]:
    try:
        return parse_replicas(raw)
    except StackError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m boletos_bench.e2e", description=__doc__)
    parser.add_argument(
        "--rows",
        type=int,
        default=int(os.environ.get("ROWS") or DEFAULT_ROWS),
        help=f"data rows in the file (env ROWS; default {DEFAULT_ROWS:,})",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--replicas",
        type=_replicas,
        action="append",
        metavar=SYNTAX,
        help="processes per service, as for `boletos stack --replicas`; repeat to run several "
        "layouts (default: one of each, then boleto=2,mailer=2)",
    )
    parser.add_argument(
        "--nats-cluster",
        type=int,
        default=1,
        choices=NATS_CLUSTER_SIZES,
        metavar="N",
        help="NATS nodes, as for `boletos stack --nats-cluster` (1, 3 or 5; default 1)",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=None,
        help="an administrative PostgreSQL URL: each run's services get databases of their "
        "own there, as with `boletos stack --postgres`, dropped after the run unless --keep "
        "(default: SQLite files)",
    )
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data"))
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="where to write the results (default DATA_DIR/e2e-rowsN.json)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep each run's stores and Maildir (about 10 KB per row) instead of deleting "
        "them once measured",
    )
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="give up when no counter moves for this long (default 120)",
    )
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    args.layouts = args.replicas or [dict(layout) for layout in DEFAULT_LAYOUTS]
    return args


def _service_env() -> dict[str, str]:
    env = dict(os.environ)
    # The local catcher takes far more connections than the service's default of 8, which
    # suits a provider's relay; whatever the caller set wins.
    env.setdefault("SMTP_CONNECTIONS", str(SMTP_CONNECTIONS))
    return env


def _stores_label(shape: StackShape) -> str:
    """SQLite, or the PostgreSQL server without its password."""
    if shape.postgres is None:
        return "SQLite"
    server = postgres.admin_url(shape.postgres).render_as_string(hide_password=True)
    return f"PostgreSQL, a database per service on {server}"


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    # Redirected output (make bench-e2e > file) would otherwise wrap the tables at 80.
    console = Console(width=None if sys.stdout.isatty() else 160)
    state = Table.grid(padding=(0, 2))
    context = machine_state()
    for key, value in context.items():
        state.add_row(f"[bold]{key}[/]", value)
    console.print(state)

    csv_path = cached_csv(args.rows, args.seed, args.data_dir)
    size_mb = csv_path.stat().st_size / 1e6
    console.print(f"file: {csv_path} ({args.rows:,} rows, {size_mb:.1f} MB)")
    env = _service_env()
    console.print(f"mailer SMTP_CONNECTIONS={env['SMTP_CONNECTIONS']}")
    try:
        shape = StackShape(nats_cluster=args.nats_cluster, postgres=args.postgres)
        stores = _stores_label(shape)
    except StackError as exc:
        console.print(f"[red]ERROR[/] {escape(str(exc))}")
        return 2
    console.print(f"NATS nodes: {shape.nats_cluster}; stores: {escape(stores)}")

    runs: list[E2eRun] = []
    errors: list[str] = []
    for replicas in args.layouts:
        label = describe(replicas)
        console.print(f"[bold]stack with {escape(label)}[/]: starting…")
        scaled = "-".join(f"{name}{n}" for name, n in replicas.items() if n != 1)
        run_dir = args.data_dir / "e2e" / (scaled or "single")
        try:
            run = run_e2e(
                csv_path,
                args.rows,
                replicas,
                run_dir,
                env,
                console,
                args.stall_timeout,
                shape,
                keep=args.keep,
            )
        except BenchError as exc:
            errors.append(f"{label}: {exc}")
            continue
        except KeyboardInterrupt:
            errors.append(f"{label}: interrupted")
            break
        finally:
            if not args.keep:
                shutil.rmtree(run_dir, ignore_errors=True)
        runs.append(run)
        console.print(f"{escape(label)}: done; the stack's log is in {run.log_path}")

    if runs:
        console.print(stages_table(runs))
        console.print(processes_table(runs))
        console.print(per_core_table(runs))
    json_path = args.json or args.data_dir / f"e2e-rows{args.rows}.json"
    write_json(
        json_path,
        runs,
        {
            "benchmark": "e2e",
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "file": str(csv_path),
            "smtp_connections": env["SMTP_CONNECTIONS"],
            "nats_nodes": shape.nats_cluster,
            "stores": stores,
            "machine": context,
            "errors": errors,
        },
    )
    console.print(f"results: {json_path}")
    failed = bool(errors)
    for run in runs:
        for failure in run.failures:
            failed = True
            console.print(f"[red]FAIL[/] {escape(describe(run.replicas))}: {escape(failure)}")
    for error in errors:
        console.print(f"[red]ERROR[/] {escape(error)}")
    if not failed:
        console.print("[green]all checks passed[/]")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
