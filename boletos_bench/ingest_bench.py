"""Benchmarks the ingest service end to end: upload a file, wait for its events, send it again.

Every store gets a fresh nats-server and a fresh database, so runs never see each other's
state. The service runs as ``python -m ingest_service``, exactly as it is deployed.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from boletos_bench.events import EventWatcher
from boletos_bench.procs import cpu_seconds, peak_rss_bytes, reset_peak_rss
from boletos_bench.secured import bench_access
from boletos_testing.ports import free_port
from boletos_testing.processes import NatsServer, ServiceProcess

SERVICE_MODULE = "ingest_service"
SERVICE_NAME = "boletos.v1.IngestService"
DEFAULT_ADMIN_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
STORES = ("sqlite", "postgres")


class BenchError(RuntimeError):
    """The benchmark could not run (as opposed to a run whose checks failed)."""


@dataclass(frozen=True)
class Options:
    chunk_bytes: int = 64 * 1024
    start_timeout: float = 60.0
    upload_timeout: float = 900.0
    events_timeout: float = 300.0
    # How long to keep listening after the expected events arrived (or, on a re-send, after
    # the response) for events that should not exist.
    settle_seconds: float = 3.0
    # JetStream's sync_interval for the private nats-server; None keeps the server default.
    nats_sync_interval: str | None = None


@dataclass
class RunResult:
    store: str
    run: str
    rows: int
    wall_s: float
    events_s: float | None
    peak_rss_bytes: int | None
    rss_is_per_run: bool
    cpu_s: float | None
    summary: ingest_pb2.UploadSummary
    new_messages: int
    new_debts: int
    failures: list[str] = field(default_factory=list)

    @property
    def rows_per_s(self) -> float:
        return self.summary.rows / self.wall_s if self.wall_s > 0 else 0.0


def service_available() -> bool:
    return importlib.util.find_spec(f"{SERVICE_MODULE}.__main__") is not None


# ---------------------------------------------------------------------------- databases


@contextlib.contextmanager
def sqlite_database(workdir: Path) -> Iterator[str]:
    yield f"sqlite:///{workdir / 'store.db'}"


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the admin URL's server, dropped afterwards."""
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"boletos_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        raise BenchError(
            f"PostgreSQL not reachable at {sa.engine.make_url(admin_url)!r}: {exc.orig}; "
            "set BOLETOS_BENCH_POSTGRES_URL or leave postgres out of --stores"
        ) from None
    try:
        url = sa.engine.make_url(admin_url).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def database_for(store: str, workdir: Path) -> contextlib.AbstractContextManager[str]:
    if store == "sqlite":
        return sqlite_database(workdir)
    if store == "postgres":
        admin_url = os.environ.get("BOLETOS_BENCH_POSTGRES_URL") or DEFAULT_ADMIN_POSTGRES
        return postgres_database(admin_url)
    raise BenchError(f"unknown store {store!r}; choose from {', '.join(STORES)}")


# ---------------------------------------------------------------------------- the service


async def wait_serving(channel: grpc.aio.Channel, service: ServiceProcess, within: float) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        code = service.exit_code()
        if code is not None:
            raise BenchError(
                f"{SERVICE_MODULE} exited with code {code} while starting:\n{service.log_tail()}"
            )
        with contextlib.suppress(grpc.aio.AioRpcError):
            reply = await stub.Check(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=1.0
            )
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
        await asyncio.sleep(0.1)
    raise BenchError(f"{SERVICE_MODULE} not SERVING after {within:.0f}s:\n{service.log_tail()}")


async def _requests(
    path: Path, request_id: str, chunk_bytes: int, started: list[float]
) -> AsyncIterator[ingest_pb2.UploadRequest]:
    started.append(time.perf_counter())
    yield ingest_pb2.UploadRequest(
        header=ingest_pb2.UploadHeader(file_name=path.name, client_request_id=request_id)
    )
    sent = 0
    with path.open("rb") as f:
        while block := f.read(chunk_bytes):
            yield ingest_pb2.UploadRequest(chunk=block)
            sent += len(block)
    yield ingest_pb2.UploadRequest(end=ingest_pb2.UploadEnd(total_bytes=sent))


async def upload(
    channel: grpc.aio.Channel, path: Path, request_id: str, opts: Options
) -> tuple[ingest_pb2.UploadSummary, float, float]:
    """The upload's summary, and perf_counter times of its first byte and of the response."""
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    started: list[float] = []
    response = await stub.Upload(
        _requests(path, request_id, opts.chunk_bytes, started), timeout=opts.upload_timeout
    )
    return response.summary, started[0], time.perf_counter()


# ---------------------------------------------------------------------------- one store


async def _one_run(
    *,
    store: str,
    run: str,
    rows: int,
    csv_path: Path,
    channel: grpc.aio.Channel,
    service: ServiceProcess,
    watcher: EventWatcher,
    opts: Options,
    first: bool,
) -> RunResult:
    _check_alive(service, f"{store} {run}")
    rss_per_run = reset_peak_rss(service.pid)
    cpu_before = cpu_seconds(service.pid)
    mark = watcher.mark()
    stream_before = await watcher.stream_messages()

    try:
        summary, t0, t_resp = await upload(channel, csv_path, f"bench-{uuid.uuid4()}", opts)
    except grpc.aio.AioRpcError as exc:
        _check_alive(service, f"{store} {run}")
        raise BenchError(
            f"{store} {run}: Upload failed: {exc.code().name} {exc.details()}\n{service.log_tail()}"
        ) from None

    failures: list[str] = []
    events_s: float | None = None
    if first:
        reached = await watcher.wait_for_debts(mark, summary.accepted, opts.events_timeout)
        if reached is None:
            got = watcher.tally(mark).debts
            failures.append(
                f"only {got} of {summary.accepted} accepted debts were published "
                f"within {opts.events_timeout:.0f}s"
            )
        else:
            events_s = reached - t0
    await asyncio.sleep(opts.settle_seconds)

    _check_alive(service, f"{store} {run}")
    cpu_after = cpu_seconds(service.pid)
    tally = watcher.tally(mark, upload_id=summary.upload_id if first else None, verify=first)
    stream_after = await watcher.stream_messages()
    failures.extend(tally.problems)
    if stream_after - stream_before != tally.messages:
        failures.append(
            f"stream grew by {stream_after - stream_before} messages, "
            f"the watcher saw {tally.messages}"
        )

    failures.extend(_check_summary(summary, rows, first))
    if first and tally.debts != summary.accepted:
        failures.append(f"events carry {tally.debts} debts, {summary.accepted} were accepted")
    if not first and tally.messages:
        failures.append(f"re-send published {tally.messages} new events ({tally.debts} debts)")

    return RunResult(
        store=store,
        run=run,
        rows=rows,
        wall_s=t_resp - t0,
        events_s=events_s,
        peak_rss_bytes=peak_rss_bytes(service.pid),
        rss_is_per_run=rss_per_run,
        cpu_s=None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
        summary=summary,
        new_messages=tally.messages,
        new_debts=tally.debts,
        failures=failures,
    )


def _check_alive(service: ServiceProcess, when: str) -> None:
    code = service.exit_code()
    if code is None:
        return
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    raise BenchError(f"{when}: {SERVICE_MODULE} {how}:\n{service.log_tail()}")


def _check_summary(summary: ingest_pb2.UploadSummary, rows: int, first: bool) -> list[str]:
    failures = []
    if summary.state != ingest_pb2.UPLOAD_STATE_COMPLETED:
        failures.append(f"state {ingest_pb2.UploadState.Name(summary.state)}, not COMPLETED")
    if summary.rows != rows:
        failures.append(f"rows {summary.rows} != {rows}")
    expected_accepted, expected_duplicates = (rows, 0) if first else (0, rows)
    if summary.accepted != expected_accepted:
        failures.append(f"accepted {summary.accepted} != {expected_accepted}")
    if summary.duplicates != expected_duplicates:
        failures.append(f"duplicates {summary.duplicates} != {expected_duplicates}")
    if summary.rejected or summary.conflicts:
        failures.append(f"rejected {summary.rejected}, conflicts {summary.conflicts}")
    return failures


async def bench_store(
    store: str, csv_path: Path, rows: int, opts: Options, results: list[RunResult]
) -> None:
    """First upload and re-send of the same file against a fresh service on ``store``.

    Each run's result is appended as soon as it exists, so a later BenchError still leaves
    the earlier runs to report.
    """
    with tempfile.TemporaryDirectory(prefix=f"ingest-bench-{store}-") as tmp:
        workdir = Path(tmp)
        nats_server = NatsServer(workdir / "nats", sync_interval=opts.nats_sync_interval).start()
        try:
            with database_for(store, workdir) as database_url:
                port = free_port()
                access = bench_access(workdir)
                service = ServiceProcess(
                    SERVICE_MODULE,
                    {
                        **access.service_env(),
                        "GRPC_LISTEN_ADDR": f"127.0.0.1:{port}",
                        "DATABASE_URL": database_url,
                        "NATS_URL": nats_server.url,
                        "LOG_FORMAT": "json",
                        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
                    },
                    workdir / "ingest.log",
                ).start()
                try:
                    await _bench_service(
                        store,
                        csv_path,
                        rows,
                        opts,
                        service,
                        access.channel(f"127.0.0.1:{port}"),
                        nats_server.url,
                        results,
                    )
                finally:
                    service.stop()
        finally:
            nats_server.stop()


async def _bench_service(
    store: str,
    csv_path: Path,
    rows: int,
    opts: Options,
    service: ServiceProcess,
    channel: grpc.aio.Channel,
    nats_url: str,
    results: list[RunResult],
) -> None:
    watcher = EventWatcher(nats_url)
    async with channel:
        await wait_serving(channel, service, opts.start_timeout)
        await watcher.start()
        try:
            for run, first in (("first", True), ("re-send", False)):
                results.append(
                    await _one_run(
                        store=store,
                        run=run,
                        rows=rows,
                        csv_path=csv_path,
                        channel=channel,
                        service=service,
                        watcher=watcher,
                        opts=opts,
                        first=first,
                    )
                )
        finally:
            await watcher.close()
