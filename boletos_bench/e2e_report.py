"""The end-to-end benchmark's results for people (rich tables) and for machines (JSON)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from rich.table import Table

from boletos_bench.e2e_run import E2eRun
from boletos_cli.stack.replicas import describe


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def stages_table(runs: list[E2eRun]) -> Table:
    table = Table(
        title="end to end: CSV upload → boletos → e-mails in the local SMTP catcher",
        caption=(
            "Times in seconds from the first byte uploaded. upload: until the UploadResponse "
            "(every row validated and stored). boletos, e-mails: until the ingest service "
            "counted the last one (0.5 s resolution). last e-mail: the newest message file in "
            "the catcher's Maildir. Rates per second while the stage was seen working."
        ),
    )
    table.add_column("replicas")
    for name in ("rows", "accepted", "upload s", "rows/s", "boletos s", "boletos/s",
                 "e-mails s", "e-mails/s", "last e-mail s", "check"):  # fmt: skip
        table.add_column(name, justify="right")
    for run in runs:
        table.add_row(
            describe(run.replicas),
            f"{run.rows:,}",
            f"{run.accepted:,}",
            f"{run.upload_s:.2f}",
            _fmt(run.ingest_rows_per_s, ",.0f"),
            _fmt(run.boletos_done_s, ".1f"),
            _fmt(run.boletos_per_s, ",.0f"),
            _fmt(run.emails_done_s, ".1f"),
            _fmt(run.emails_per_s, ",.0f"),
            _fmt(run.last_email_s, ".1f"),
            "[green]ok[/]" if not run.failures else "[red]FAIL[/]",
        )
    return table


def processes_table(runs: list[E2eRun]) -> Table:
    table = Table(
        title="processes",
        caption=(
            "peak RSS: VmHWM of the process and any workers it started, summed. cpu s: user "
            "+ system time over the whole run, start-up included; system s: the kernel's part "
            "of it. work: its own count, logged as it stopped."
        ),
    )
    table.add_column("replicas")
    table.add_column("process")
    table.add_column("peak RSS MB", justify="right")
    table.add_column("cpu s", justify="right")
    table.add_column("system s", justify="right")
    table.add_column("work")
    for run in runs:
        for usage in run.processes:
            rss = None if usage.peak_rss_bytes is None else usage.peak_rss_bytes / 2**20
            table.add_row(
                describe(run.replicas),
                usage.name,
                _fmt(rss, ".0f"),
                _fmt(usage.cpu_s, ".1f"),
                _fmt(usage.system_s, ".1f"),
                " ".join(f"{k}={v:,}" for k, v in usage.work.items()),
            )
        table.add_section()
    return table


# What each stage counts as its work, from the run's totals.
_WORK = {
    "ingest": ("rows", lambda run: run.rows),
    "boleto": ("boletos", lambda run: run.boletos_issued),
    "mailer": ("e-mails", lambda run: run.emails_sent),
    "smtp": ("e-mails", lambda run: run.emails_in_maildir),
}


def per_cpu_second(run: E2eRun) -> dict[str, tuple[str, float]]:
    """Each stage's work per CPU second, its replicas' CPU summed: what the capacity model
    in the README is built from."""
    figures = {}
    for stage, (unit, work) in _WORK.items():
        cpu = sum(
            u.cpu_s or 0.0
            for u in run.processes
            if u.name == stage or u.name.startswith(f"{stage}-")
        )
        if cpu > 0:
            figures[stage] = (unit, work(run) / cpu)
    return figures


def per_core_table(runs: list[E2eRun]) -> Table:
    table = Table(
        title="work per CPU second (one core busy for one second)",
        caption="Each stage's count over the CPU time of its processes, start-up included.",
    )
    table.add_column("replicas")
    table.add_column("stage")
    table.add_column("per CPU second", justify="right")
    for run in runs:
        for stage, (unit, rate) in per_cpu_second(run).items():
            table.add_row(describe(run.replicas), stage, f"{rate:,.0f} {unit}")
        table.add_section()
    return table


def write_json(path: Path, runs: list[E2eRun], context: dict[str, Any]) -> None:
    document = {**context, "runs": [_run_dict(run) for run in runs]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _run_dict(run: E2eRun) -> dict[str, Any]:
    return {
        "replicas": describe(run.replicas),
        "rows": run.rows,
        "accepted": run.accepted,
        "boletos_issued": run.boletos_issued,
        "emails_sent": run.emails_sent,
        "emails_in_maildir": run.emails_in_maildir,
        "seconds": {
            "upload": run.upload_s,
            "boletos": run.boletos_done_s,
            "emails": run.emails_done_s,
            "last_email_in_maildir": run.last_email_s,
        },
        "per_second": {
            "ingest_rows": run.ingest_rows_per_s,
            "boletos": run.boletos_per_s,
            "emails": run.emails_per_s,
        },
        "processes": [dataclasses.asdict(usage) for usage in run.processes],
        "per_cpu_second": {stage: rate for stage, (_, rate) in per_cpu_second(run).items()},
        "failures": run.failures,
        "log": str(run.log_path) if run.log_path else None,
        # Every change of the counters: enough to plot each stage's progress over time.
        "samples": [dataclasses.astuple(sample) for sample in run.samples],
        "sample_fields": [f.name for f in dataclasses.fields(run.samples[0])]
        if run.samples
        else [],
    }
