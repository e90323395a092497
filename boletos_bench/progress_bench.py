"""What following the pipeline costs the ingest service: its CPU per debt while it records
the boletos and e-mails the other services report, as they report them.

A file is uploaded (off the clock), then its debts come back as the boleto service and the
mailer announce them: BoletosIssued in the boleto service's large batches, EmailsSent in the
mailer's small ones (the outcomes of one commit, a few e-mails each) at a steady rate, since
a mailer sends them as its SMTP connections finish. The clock and the CPU count run from the
first event to the upload settled; the ingest service's CPU while nothing arrives, over the
same time, is measured too, and the report read at the end must be complete.

    python -m boletos_bench.progress_bench --debts 20000 --stores sqlite,postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import nats
from nats.js import JetStreamContext

from boletos.platform import nats_streams as streams
from boletos.platform.outbox import Pending, as_message, merged
from boletos.v1 import events_pb2, ingest_pb2, ingest_pb2_grpc
from boletos_bench.events import EventWatcher
from boletos_bench.ingest_bench import (
    STORES,
    BenchError,
    Options,
    database_for,
    upload,
    wait_serving,
)
from boletos_bench.machine import machine_state
from boletos_bench.procs import cpu_seconds
from boletos_bench.secured import bench_access
from boletos_testing.datagen import write_csv
from boletos_testing.ports import free_port
from boletos_testing.processes import NatsServer, ServiceProcess
from mailer_service.app import REPORT_EVERY_SECONDS

# The boleto service announces what it issued for each DebtsImported it took: up to 1,000.
ISSUED_PER_EVENT = 1000


@dataclass(frozen=True)
class Phase:
    name: str
    debts: int
    wall_s: float
    cpu_s: float

    @property
    def cpu_us_per_debt(self) -> float:
        return self.cpu_s / self.debts * 1e6 if self.debts else 0.0


@dataclass(frozen=True)
class ProgressRun:
    phases: list[Phase]
    idle_cpu_s_per_s: float
    report_lines: int

    @property
    def cpu_us_per_debt(self) -> float:
        debts = self.phases[0].debts
        return sum(p.cpu_s for p in self.phases) / debts * 1e6 if debts else 0.0


def _debts_of(watcher: EventWatcher, since: int) -> list[tuple[str, str]]:
    """(debt_id, upload_id) of every debt the upload announced, in file order."""
    found: list[tuple[str, str]] = []
    for received in watcher.received[since:]:
        event = events_pb2.DebtsImported.FromString(received.data)
        found.extend((d.debt_id, event.upload_id) for d in event.debts)
    return found


def _issued(batch: Sequence[tuple[str, str]], first_number: int) -> bytes:
    return events_pb2.BoletosIssued(
        boletos=[
            events_pb2.IssuedBoleto(
                debt_id=debt_id,
                upload_id=upload_id,
                nosso_numero=f"{first_number + i:017d}",
                amount_cents=12345,
                due_date="2027-01-10",
            )
            for i, (debt_id, upload_id) in enumerate(batch)
        ]
    ).SerializeToString()


def _sent(batch: Sequence[tuple[str, str]]) -> bytes:
    return events_pb2.EmailsSent(
        emails=[
            events_pb2.SentEmail(debt_id=d, upload_id=u, message_id=f"<{d}@bench>")
            for d, u in batch
        ]
    ).SerializeToString()


async def _publish(js: JetStreamContext, subject: str, payload: bytes) -> None:
    await js.publish(subject, payload, headers={"Nats-Msg-Id": str(uuid.uuid4())})


async def _settled(
    stub: ingest_pb2_grpc.IngestServiceStub, upload_id: str, field: str, want: int, within: float
) -> None:
    """Once the upload's progress, as WatchUpload reports it, counts `want` in `field`."""
    call = stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=upload_id), timeout=within)
    try:
        async for snapshot in call:
            if getattr(snapshot.progress, field) >= want:
                return
    finally:
        call.cancel()
    raise BenchError(f"the watch ended before {field} reached {want}")


async def _phase(
    name: str,
    service: ServiceProcess,
    debts: int,
    publish: asyncio.Task[None],
    settled: asyncio.Future[None],
) -> Phase:
    cpu_before = cpu_seconds(service.pid) or 0.0
    started = time.perf_counter()
    await publish
    await settled
    wall = time.perf_counter() - started
    return Phase(name, debts, wall, (cpu_seconds(service.pid) or 0.0) - cpu_before)


async def run_store(
    store: str,
    debts: int,
    email_batch: int,
    emails_per_s: float,
    report_every: float,
    workdir: Path,
    idle_seconds: float = 5.0,
) -> ProgressRun:
    server = NatsServer(workdir / "nats").start()
    access = bench_access(workdir)
    address = f"127.0.0.1:{free_port()}"
    try:
        with database_for(store, workdir) as url:
            service = ServiceProcess(
                "ingest_service",
                {**access.service_env(), "GRPC_LISTEN_ADDR": address, "DATABASE_URL": url,
                 "NATS_URL": server.url, "LOG_LEVEL": "WARNING"},
                workdir / "ingest.log",
            ).start()  # fmt: skip
            try:
                return await _measure(service, server, access.channel(address), debts,
                                      email_batch, emails_per_s, report_every, workdir,
                                      idle_seconds)  # fmt: skip
            finally:
                service.stop()
    finally:
        server.stop()


async def _measure(
    service: ServiceProcess,
    server: NatsServer,
    channel: grpc.aio.Channel,
    debts: int,
    email_batch: int,
    emails_per_s: float,
    report_every: float,
    workdir: Path,
    idle_seconds: float,
) -> ProgressRun:
    watcher = EventWatcher(server.url)
    await watcher.start()
    nc = await nats.connect(server.url, name="progress-bench")
    try:
        js = nc.jetstream()
        await wait_serving(channel, service, 60)
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        csv_path = workdir / "debts.csv"
        write_csv(csv_path, debts, seed=7)
        mark = watcher.mark()
        summary, _t0, _t1 = await upload(channel, csv_path, f"bench-{uuid.uuid4()}", Options())
        if await watcher.wait_for_debts(mark, summary.accepted, 300) is None:
            raise BenchError("the upload's events never all arrived")
        announced = _debts_of(watcher, mark)
        upload_id = summary.upload_id

        # The service's own background work (lag gauges, the outbox, leases) over a while with
        # nothing arriving: what the phases would cost it anyway.
        idle_before, idle_started = cpu_seconds(service.pid) or 0.0, time.perf_counter()
        await asyncio.sleep(idle_seconds)
        idle = ((cpu_seconds(service.pid) or 0.0) - idle_before) / (
            time.perf_counter() - idle_started
        )

        async def issue() -> None:
            for start in range(0, len(announced), ISSUED_PER_EVENT):
                batch = announced[start : start + ISSUED_PER_EVENT]
                await _publish(js, streams.SUBJECT_BOLETOS_ISSUED, _issued(batch, start))

        async def mail() -> None:
            # Each commit of the mailer writes one event of `email_batch` outcomes; its relay
            # publishes what gathered over `report_every` seconds, merged as it merges them.
            if emails_per_s:
                tick = report_every or email_batch / emails_per_s
                per_tick = max(1, round(emails_per_s * tick))
            else:  # as fast as NATS takes them: everything in one tick, no pause
                tick, per_tick = 0.0, len(announced)
            next_at = time.perf_counter()
            for start in range(0, len(announced), per_tick):
                due = announced[start : start + per_tick]
                events = [
                    Pending(0, streams.SUBJECT_EMAILS_SENT, str(uuid.uuid4()), _sent(part))
                    for part in (due[i : i + email_batch] for i in range(0, len(due), email_batch))
                ]
                runs = merged(events) if report_every else [[e] for e in events]
                for run in runs:
                    message = as_message(run)
                    await js.publish(message.subject, message.payload, headers=message.headers())
                next_at += tick
                if (wait := next_at - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)

        n = len(announced)
        issued = await _phase(
            "boletos issued", service, n, asyncio.create_task(issue()),
            asyncio.ensure_future(_settled(stub, upload_id, "boletos_issued", n, 600)),
        )  # fmt: skip
        sent = await _phase(
            "e-mails sent", service, n, asyncio.create_task(mail()),
            asyncio.ensure_future(_settled(stub, upload_id, "emails_sent", n, 3600)),
        )  # fmt: skip
        lines = 0
        report = stub.GetUploadReport(ingest_pb2.GetUploadReportRequest(upload_id=upload_id))
        async for page in report:
            for line in page.lines:
                if line.nosso_numero and line.email_status == ingest_pb2.EMAIL_STATUS_SENT:
                    lines += 1
        if lines != n:
            raise BenchError(f"the report shows {lines} debts mailed with their boleto, not {n}")
        return ProgressRun([issued, sent], idle, lines)
    finally:
        await nc.drain()
        await watcher.close()
        await channel.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m boletos_bench.progress_bench")
    parser.add_argument("--debts", type=int, default=20_000)
    parser.add_argument("--stores", default="sqlite", help=f"comma-separated: {', '.join(STORES)}")
    parser.add_argument(
        "--email-batch",
        type=int,
        default=2,
        help="e-mails per commit of the mailer, each an EmailsSent event (default 2)",
    )
    parser.add_argument(
        "--report-every",
        type=float,
        default=REPORT_EVERY_SECONDS,
        help="seconds the mailer's relay gathers its events before publishing them merged; "
        f"0 publishes each alone, as it did before (default {REPORT_EVERY_SECONDS:g})",
    )
    parser.add_argument(
        "--emails-per-s",
        type=float,
        default=500.0,
        help="rate of the e-mail events; 0 sends them as fast as NATS takes them (default 500)",
    )
    args = parser.parse_args(argv)
    print("; ".join(f"{k}: {v}" for k, v in machine_state().items()))
    failed = False
    for store in [s.strip() for s in args.stores.split(",") if s.strip()]:
        with tempfile.TemporaryDirectory(prefix="progress-bench-") as tmp:
            try:
                run = asyncio.run(
                    run_store(
                        store,
                        args.debts,
                        args.email_batch,
                        args.emails_per_s,
                        args.report_every,
                        Path(tmp),
                    )  # fmt: skip
                )
            except BenchError as exc:
                print(f"{store}: FAILED: {exc}", file=sys.stderr)
                failed = True
                continue
        print(f"{store}: {args.debts} debts, e-mails {args.email_batch} per commit at "
              f"{args.emails_per_s:g}/s, published every {args.report_every:g} s; "
              f"idle {run.idle_cpu_s_per_s * 1000:.1f} CPU ms/s")  # fmt: skip
        for phase in run.phases:
            print(f"  {phase.name:>15}: {phase.wall_s:7.2f} s, {phase.cpu_s:6.2f} CPU s, "
                  f"{phase.cpu_us_per_debt:7.1f} us CPU per debt")  # fmt: skip
        print(f"  {'both':>15}: {run.cpu_us_per_debt:7.1f} us CPU per debt; "
              f"report complete ({run.report_lines} lines)")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
