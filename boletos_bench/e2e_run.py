"""One end-to-end run: the local stack exactly as ``boletos stack`` starts it (same layout,
same supervisor), a file uploaded through the CLI's own upload code, and the pipeline
followed through the ingest service's counters until every debt is settled.

The clock starts as the first byte of the file is sent. Stage times come from the counters
WatchUpload streams (ingest polls its store every 0.5 s, so they are that coarse); the end
is the modification time of the newest message in the SMTP catcher's Maildir.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from rich.console import Console

from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from boletos_bench.procs import cpu_times, peak_rss_bytes
from boletos_cli import channels
from boletos_cli.channels import open_channel
from boletos_cli.commands.stack import stack_access
from boletos_cli.commands.upload import UploadOptions, send_file
from boletos_cli.stack import postgres
from boletos_cli.stack.layout import SERVICES, StackError, StackLayout
from boletos_cli.stack.supervisor import Stack
from boletos_testing.stack_ports import free_base_port

INGEST = next(spec for spec in SERVICES if spec.name == "ingest")
START_TIMEOUT = 60.0
LIST_POLL_SECONDS = 0.2
# "boleto-2 | 12:00:01 INFO boleto   service.stopped issued=412 failed=0"
_STOPPED = re.compile(r"^\s*(?P<name>[\w-]+) \| .*\bservice\.stopped\b(?P<fields>.*)$")


class BenchError(Exception):
    """The run could not be completed or measured; the message says why."""


@dataclass(frozen=True)
class Sample:
    """The ingest service's counters for the upload, seconds after the first byte."""

    t: float
    rows: int
    accepted: int
    boletos_issued: int
    boletos_failed: int
    emails_sent: int
    emails_failed: int


@dataclass
class ProcessUsage:
    name: str
    pid: int
    peak_rss_bytes: int | None
    cpu_s: float | None
    # The part of cpu_s spent in the kernel on its behalf.
    system_s: float | None
    # What it reported doing when it stopped (issued=..., sent=...).
    work: dict[str, int] = field(default_factory=dict)


@dataclass
class E2eRun:
    replicas: dict[str, int]
    rows: int
    accepted: int = 0
    upload_s: float = 0.0
    boletos_done_s: float | None = None
    emails_done_s: float | None = None
    last_email_s: float | None = None
    emails_in_maildir: int = 0
    boletos_issued: int = 0
    emails_sent: int = 0
    samples: list[Sample] = field(default_factory=list)
    processes: list[ProcessUsage] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    log_path: Path | None = None

    @property
    def ingest_rows_per_s(self) -> float | None:
        return self.rows / self.upload_s if self.upload_s else None

    @property
    def boletos_per_s(self) -> float | None:
        return _stage_rate(self.samples, lambda s: s.boletos_issued + s.boletos_failed)

    @property
    def emails_per_s(self) -> float | None:
        return _stage_rate(self.samples, lambda s: s.emails_sent + s.emails_failed)


def _stage_rate(samples: list[Sample], count: Callable[[Sample], int]) -> float | None:
    """Items per second while the stage was seen working: from the first sample where its
    count had moved to the first where it reached its final value."""
    if not samples:
        return None
    final = count(samples[-1])
    started = next((s for s in samples if count(s) > 0), None)
    ended = next((s for s in samples if count(s) == final), None)
    if started is None or ended is None or ended.t <= started.t:
        return None
    return (final - count(started)) / (ended.t - started.t)


@dataclass(frozen=True)
class StackShape:
    """What the stack runs on besides its replicas: NATS nodes, and the stores' server."""

    nats_cluster: int = 1
    # An administrative PostgreSQL URL; None keeps SQLite files.
    postgres: str | None = None


def run_e2e(
    csv_path: Path,
    rows: int,
    replicas: dict[str, int],
    data_dir: Path,
    env: dict[str, str],
    console: Console,
    stall_seconds: float,
    shape: StackShape | None = None,
    keep: bool = False,
) -> E2eRun:
    """Start a fresh stack in data_dir, push the file through it, measure, stop it; its
    PostgreSQL databases are dropped afterwards unless `keep`."""
    shape = shape or StackShape()
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    try:
        layout = StackLayout(
            data_dir,
            free_base_port(replicas, shape.nats_cluster),
            replicas,
            nats_cluster=shape.nats_cluster,
            postgres=shape.postgres,
        )
    except StackError as exc:
        raise BenchError(str(exc)) from exc
    try:
        return _run(csv_path, rows, replicas, layout, env, console, stall_seconds)
    finally:
        if not keep and shape.postgres is not None:
            _drop_databases(layout, console)


def _drop_databases(layout: StackLayout, console: Console) -> None:
    names = list(layout.postgres_databases().values())
    try:
        postgres.drop_databases(postgres.admin_url(str(layout.postgres)), names)
    except StackError as exc:
        # The measurement stands; the databases are left for an administrator to drop.
        console.print(f"could not drop {', '.join(names)}: {exc}", style="yellow", markup=False)


def _run(
    csv_path: Path,
    rows: int,
    replicas: dict[str, int],
    layout: StackLayout,
    env: dict[str, str],
    console: Console,
    stall_seconds: float,
) -> E2eRun:
    data_dir = layout.data_dir
    log_path = data_dir.parent / f"{data_dir.name}.log"
    result = E2eRun(replicas=replicas, rows=rows, log_path=log_path)
    with log_path.open("w", encoding="utf-8") as log_file:
        log = Console(file=log_file, width=200, force_terminal=False, color_system=None)
        stack = Stack(layout, log, log, start_timeout=START_TIMEOUT, env=env)
        upload = UploadOptions(path=csv_path)
        size = csv_path.stat().st_size
        measured = False

        async def measure() -> None:
            nonlocal measured
            try:
                await _measure(stack, upload, size, result, console, stall_seconds)
                measured = True
            finally:
                stack.request_stop()

        code = asyncio.run(stack.run(measure))
    if code == 0 and not measured:
        # The stack stopped cleanly before the measurement ended: only Ctrl-C does that.
        raise KeyboardInterrupt
    log_text = log_path.read_text(errors="replace")
    if code != 0:
        # The supervisor's own verdict ("stack: ingest exited with code 1 while starting").
        reason = next((line for line in log_text.splitlines() if line.startswith("stack: ")), "")
        result.failures.append(f"the stack stopped with code {code}: {reason or log_path}")
    result.failures.extend(_check(result))
    work = _stopped_reports(log_text)
    for usage in result.processes:
        usage.work = work.get(usage.name, {})
    return result


async def _measure(
    stack: Stack,
    upload: UploadOptions,
    size: int,
    result: E2eRun,
    console: Console,
    stall_seconds: float,
) -> None:
    layout = stack.layout
    address = layout.service_address(INGEST)
    # The stack made its CA and admin key as it started; the environment's are not its own.
    channels.configure(stack_access(layout))
    async with open_channel(address) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        started = time.perf_counter()
        started_wall = time.time()
        watching = asyncio.create_task(_watch(stub, started, result.samples, stall_seconds))
        try:
            summary = await send_file(stub, upload, size, console)
            result.upload_s = time.perf_counter() - started
            result.accepted = summary.accepted
            if summary.accepted == 0:
                raise BenchError(f"no debt accepted: {summary.rejection_reason or summary}")
            with console.status("boletos and e-mails…") as status:
                while not watching.done():
                    if result.samples:
                        last = result.samples[-1]
                        status.update(
                            f"boletos {last.boletos_issued:,} · e-mails {last.emails_sent:,} "
                            f"of {summary.accepted:,}"
                        )
                    await asyncio.wait({watching}, timeout=1)
            await watching
        except grpc.aio.AioRpcError as exc:
            raise BenchError(f"ingest at {address}: {exc.code().name}: {exc.details()}") from exc
        finally:
            watching.cancel()
    # Read while every process is still up: VmHWM goes with the process.
    for name, child in stack.children.items():
        if child.pid is not None:
            times = cpu_times(child.pid)
            result.processes.append(
                ProcessUsage(
                    name,
                    child.pid,
                    peak_rss_bytes(child.pid),
                    None if times is None else sum(times),
                    None if times is None else times[1],
                )
            )
    last = result.samples[-1]
    result.boletos_issued = last.boletos_issued
    result.emails_sent = last.emails_sent
    result.boletos_done_s = next(
        (s.t for s in result.samples if s.boletos_issued + s.boletos_failed == last.accepted),
        None,
    )
    result.emails_done_s = last.t
    count, newest = await asyncio.to_thread(_maildir_state, layout.maildir / "new")
    result.emails_in_maildir = count
    result.last_email_s = None if newest is None else newest - started_wall


async def _watch(
    stub: ingest_pb2_grpc.IngestServiceStub,
    started: float,
    samples: list[Sample],
    stall_seconds: float,
) -> None:
    """Record every change of the upload's counters until it is settled."""
    # The upload's id only comes back with its response; this stack has no other upload.
    while True:
        listed = await stub.ListUploads(ingest_pb2.ListUploadsRequest(page_size=1), timeout=10)
        if listed.uploads:
            upload_id = listed.uploads[0].upload_id
            break
        await asyncio.sleep(LIST_POLL_SECONDS)
    while True:
        call = stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=upload_id))
        try:
            while True:
                try:
                    message = await asyncio.wait_for(call.read(), stall_seconds)
                except TimeoutError:
                    raise BenchError(
                        f"nothing moved for {stall_seconds:g}s; last counters: "
                        f"{samples[-1] if samples else 'none'}"
                    ) from None
                if message is grpc.aio.EOF:
                    break  # the service ended the stream early; follow it again
                p = message.progress
                samples.append(
                    Sample(
                        t=time.perf_counter() - started,
                        rows=p.rows,
                        accepted=p.accepted,
                        boletos_issued=p.boletos_issued,
                        boletos_failed=p.boletos_failed,
                        emails_sent=p.emails_sent,
                        emails_failed=p.emails_failed,
                    )
                )
                if p.settled and p.state != ingest_pb2.UPLOAD_STATE_RECEIVING:
                    return
        finally:
            call.cancel()


def _maildir_state(new: Path) -> tuple[int, float | None]:
    """How many messages the catcher kept, and when it wrote the last one."""
    count, newest = 0, None
    with os.scandir(new) as entries:
        for entry in entries:
            count += 1
            mtime = entry.stat().st_mtime
            newest = mtime if newest is None or mtime > newest else newest
    return count, newest


def _check(result: E2eRun) -> list[str]:
    if not result.samples:
        return ["no progress was ever reported"]
    failures = []
    if result.boletos_issued != result.accepted:
        failures.append(f"{result.boletos_issued:,} boletos for {result.accepted:,} debts")
    if result.emails_sent != result.accepted:
        failures.append(f"{result.emails_sent:,} e-mails sent for {result.accepted:,} debts")
    if result.emails_in_maildir != result.accepted:
        failures.append(
            f"{result.emails_in_maildir:,} messages in the Maildir for {result.accepted:,} debts"
        )
    return failures


def _stopped_reports(log: str) -> dict[str, dict[str, int]]:
    reports: dict[str, dict[str, int]] = {}
    for line in log.splitlines():
        match = _STOPPED.match(line)
        if match is None:
            continue
        fields = dict(part.split("=", 1) for part in match["fields"].split() if "=" in part)
        reports[match["name"]] = {k: int(v) for k, v in fields.items() if v.isdigit()}
    return reports
