"""One service process, run the same way for every service.

A service's composition root builds its parts on a ServiceRuntime (store engines, NATS, the
outbox relay, workers, the gRPC servicer); the runtime then serves until told to stop and
shuts down in one order for everyone:

1. health says NOT_SERVING, so load balancers and probes look elsewhere;
2. workers stop taking work and finish what they hold, while the gRPC server lets the calls
   in flight end, all within SHUTDOWN_GRACE_SECONDS;
3. the outbox relay publishes what those last commits produced;
4. background tasks are cancelled and resources closed, newest first.

A stop that arrives while the service is still starting (NATS unreachable, say) abandons the
start and closes whatever was opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any, Protocol, TypeVar

import grpc
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from sqlalchemy.engine import Engine

from boletos.platform import database, heap, logs, metrics, migrations, nats_streams, tracing
from boletos.platform.access.directory import KeyDirectory
from boletos.platform.access.interceptor import AccessInterceptor, Authenticator
from boletos.platform.access.keys import parse
from boletos.platform.access.roles import Role
from boletos.platform.access.tokens import TokenVerifier
from boletos.platform.grpc_server import GrpcServer
from boletos.platform.migrations import History, SchemaOutdated
from boletos.platform.nats_permissions import KEY_WRITER, grant_of
from boletos.platform.outbox import OutboxRelay, OutboxStore
from boletos.platform.settings import ConfigError, ServiceSettings, process_env

# Exit codes of a service process; 78 is EX_CONFIG of sysexits.h.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 64
EXIT_CONFIG = 78

# How often a service that may not write the key bucket looks for the keys of its key files.
KEY_AWAIT_SECONDS = 1.0
# The last commits' events get this long to reach NATS before the connection closes.
FINAL_PUBLISH_SECONDS = 10.0

S = TypeVar("S", bound=ServiceSettings)


class Worker(Protocol):
    """Something that takes work until stop() and then finishes what it holds."""

    def stop(self) -> None: ...

    async def run(self) -> None: ...


Closer = Callable[[], Awaitable[object] | object]


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, name: str) -> None:
        self.settings = settings
        self.name = name
        # Lines about the process as a whole go under the service's own logger name.
        self.log = logs.get_logger(name.removesuffix("_service"))
        self._server: GrpcServer | None = None
        self._relay: OutboxRelay | None = None
        self._workers: list[tuple[Worker, asyncio.Task[None]]] = []
        # Stopped after the workers, once their last events are published.
        self._background: list[tuple[Worker, asyncio.Task[None]]] = []
        self._closers: list[Closer] = []
        self._summary: Callable[[], Mapping[str, object]] = dict
        self._nats: NatsClient | None = None
        # The API keys callers may present; opened with the NATS connection.
        self.keys: KeyDirectory | None = None

    # -- building ----------------------------------------------------------------------

    def engine(self, engine: Engine) -> Engine:
        """An engine of the service's store, disposed of at the end."""
        self.on_close(engine.dispose)
        return engine

    def schema(self, engine: Engine, history: History) -> None:
        """Checks the store is at the schema the code expects, or upgrades it when
        DB_AUTO_MIGRATE says so; raises SchemaOutdated otherwise."""
        migrations.ensure(engine, history, auto_migrate=self.settings.db_auto_migrate)

    async def jetstream(self) -> JetStreamContext:
        """The NATS connection, with the pipeline's streams declared."""
        settings = self.settings
        nc = await nats_streams.connect(settings.nats_url, name=self.name, auth=settings.nats_auth)
        # Every publish was acknowledged already; draining would wait on idle pull consumers.
        self.on_close(nc.close)
        self._nats = nc
        js = nc.jetstream()
        replicas = self.settings.nats_stream_replicas
        # With NATS users, each service makes and tunes only its own stream (and ingest the
        # key bucket); what it reads from the others is waited for.
        grant = grant_of(settings.nats_auth.user)
        await nats_streams.ensure_streams(
            js, replicas, settings.nats_stream_max_debts, grant.declares if grant else None
        )
        self.keys = await KeyDirectory.open(
            js, replicas, declare=grant is None or grant.writes_keys
        )
        await self._import_keys(self.keys)
        self.run_background(self.keys, "api-keys")
        return js

    async def _import_keys(self, keys: KeyDirectory) -> None:
        """The key files' keys: added to the bucket by the service whose NATS user may write
        it; any other waits until that one has, so it never serves refusing them."""
        user = self.settings.nats_auth.user
        writes = not user or user == KEY_WRITER
        for key, name, role in self.settings.access.seed_keys:
            if not writes:
                await self._await_key(keys, key, role)
            # A key already known (revoked, say) is left as it is.
            elif await keys.ensure(key, name, role):
                self.log.info("access.key_imported", role=role.value)

    async def _await_key(self, keys: KeyDirectory, key: str, role: Role) -> None:
        key_id, _ = parse(key)
        await keys.reload()
        while keys.get(key_id) is None:
            self.log.info("access.key_awaited", role=role.value, importer=KEY_WRITER)
            await asyncio.sleep(KEY_AWAIT_SECONDS)
            await keys.reload()

    @property
    def nats(self) -> NatsClient:
        """The connection jetstream() opened, for core NATS subscriptions."""
        if self._nats is None:
            raise RuntimeError("call jetstream() first")
        return self._nats

    def outbox(
        self, store: OutboxStore, js: JetStreamContext, lists_every: float | None = None
    ) -> Callable[[], None]:
        """Runs the outbox relay (`lists_every`: see OutboxRelay); returns the wake-up call
        for code that just committed events, safe to call from any thread."""
        retention = dt.timedelta(hours=self.settings.outbox_retention_hours)
        relay = self._relay = OutboxRelay(store, js, retention=retention, lists_every=lists_every)
        self.run_background(relay, "outbox-relay")
        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(relay.wake)

        return wake

    def grpc(
        self, *services: tuple[str, Callable[[Any, grpc.aio.Server], None], object]
    ) -> GrpcServer:
        """Serves each (full service name, add_..._to_server, servicer) on the one port."""
        access = self.settings.access
        tokens = TokenVerifier(access.jwt) if access.jwt else None
        gate = AccessInterceptor(
            Authenticator(self.keys, tokens), stream_limits=access.stream_limits
        )
        server = self._server = GrpcServer(
            self.settings.grpc_listen_addr,
            [name for name, _, _ in services],
            # The span outermost, so a call the gate refuses is traced with its status too.
            [*tracing.server_interceptors(), metrics.RpcMetrics(), gate],
            tls=access.tls,
            serve_reflection=access.reflection,
            health_listen_addr=self.settings.health_listen_addr,
        )
        for _, register, servicer in services:
            server.add(register, servicer)
        return server

    def run_worker(self, worker: Worker, name: str) -> None:
        """A worker runs until the shutdown asks it to stop, then gets the grace period."""
        self._workers.append((worker, asyncio.create_task(worker.run(), name=name)))

    def run_background(self, worker: Worker, name: str) -> None:
        """Runs until everything else has stopped: through the drain, until the close."""
        self._background.append((worker, asyncio.create_task(worker.run(), name=name)))

    def track_lag(self, js: JetStreamContext, consumers: Iterable[tuple[str, str]]) -> None:
        self.run_background(metrics.ConsumerLag(js, consumers), "consumer-lag")

    def on_close(self, closer: Closer) -> None:
        """Run at the very end, after everything registered later."""
        self._closers.append(closer)

    def summary(self, describe: Callable[[], Mapping[str, object]]) -> None:
        """What the service.stopped line reports (counts of work done, say)."""
        self._summary = describe

    def described(self) -> Mapping[str, object]:
        return self._summary()

    # -- running -----------------------------------------------------------------------

    async def serve(self, stop: asyncio.Event) -> None:
        server = self._server
        if server is None:
            raise RuntimeError(f"{self.name} registered no gRPC servicer")
        if self.settings.metrics_addr:
            endpoint = metrics.MetricsEndpoint(self.settings.metrics_addr)
            self.on_close(endpoint.close)
        await server.start()
        self.log.info("service.started", listen=self.settings.grpc_listen_addr, port=server.port)
        await stop.wait()
        await self._shutdown(server)

    async def _shutdown(self, server: GrpcServer) -> None:
        grace = self.settings.shutdown_grace_seconds
        started = time.monotonic()
        self.log.info("service.stopping", grace_seconds=grace)
        await server.not_serving()
        for worker, _task in self._workers:
            worker.stop()
        running = {task.get_name(): task for _worker, task in self._workers}
        draining = asyncio.gather(
            server.stop(grace),
            *(asyncio.shield(task) for task in running.values()),
            return_exceptions=True,
        )
        try:
            await asyncio.wait_for(draining, grace + 1)
        except TimeoutError:
            late = [name for name, task in running.items() if not task.done()]
            self.log.warning("service.drain_timed_out", grace_seconds=grace, still_running=late)
        self.log.info("service.drained", seconds=round(time.monotonic() - started, 2))
        if self._relay is not None:
            try:
                await asyncio.wait_for(self._relay.publish_pending(), FINAL_PUBLISH_SECONDS)
            except Exception as exc:  # noqa: BLE001 - what stays pending goes out on the next start
                self.log.warning("service.final_publish_failed", error=repr(exc))

    async def close(self) -> None:
        for worker, _task in [*self._workers, *self._background]:
            worker.stop()
        tasks = [task for _worker, task in [*self._workers, *self._background]]
        await _end(tasks, self.log)
        while self._closers:
            closer = self._closers.pop()
            try:
                closing = closer()
                if inspect.isawaitable(closing):
                    await closing
            except Exception as exc:  # noqa: BLE001 - close the rest whatever one does
                self.log.warning("service.close_failed", error=repr(exc))


# A stopped task gets this long to end on its own, then is cancelled, more than once if need
# be: a library that swallows one cancellation (nats-py does, mid-flush) must not keep a
# service from stopping.
STOPPED_TASK_SECONDS = 2.0
CANCEL_ROUNDS = 3


async def _end(tasks: list[asyncio.Task[None]], log: logs.EventLogger) -> None:
    pending = {task for task in tasks if not task.done()}
    if pending:
        _done, pending = await asyncio.wait(pending, timeout=STOPPED_TASK_SECONDS)
    for _round in range(CANCEL_ROUNDS):
        if not pending:
            break
        for task in pending:
            task.cancel()
        _done, pending = await asyncio.wait(pending, timeout=STOPPED_TASK_SECONDS)
    for task in pending:
        log.error("service.task_stuck", task=task.get_name())
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("service.task_failed", task=task.get_name(), error=repr(task.exception()))


async def run_service(
    settings: S,
    stop: asyncio.Event,
    name: str,
    bootstrap: Callable[[ServiceRuntime, S], Coroutine[Any, Any, None]],
    traces: tracing.TraceSettings | None = None,
) -> None:
    """Builds the service with `bootstrap` (its composition root), serves until `stop` is
    set, shuts down in order. `traces` None reads the OTEL_* environment."""
    runtime = ServiceRuntime(settings, name)
    if traces is None:
        traces = tracing.TraceSettings.from_env(process_env())
    traced = tracing.start(name, traces)
    if traced is not None:
        # Closed last: the spans of the shutdown itself are exported too.
        runtime.on_close(traced.close)
    try:
        starting = asyncio.create_task(bootstrap(runtime, settings), name="start")
        stopped = asyncio.create_task(stop.wait(), name="stop-signal")
        await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            runtime.log.info("service.stopped", reason="stopped while starting")
            return
        starting.result()
        heap.freeze_startup_objects()
        await runtime.serve(stop)
    finally:
        await runtime.close()
    runtime.log.info("service.stopped", **runtime.described())


def main(
    name: str,
    settings_from_env: Callable[[], S],
    bootstrap: Callable[[ServiceRuntime, S], Coroutine[Any, Any, None]],
    history: History,
    argv: list[str] | None = None,
) -> int:
    """`python -m <service>`: settings from the environment, logs, signals, then run;
    `python -m <service> migrate` upgrades the store's schema and exits.

    A setting the service cannot use ends it at once with one line naming the variable, and
    so does a store whose schema is older than the code."""
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["migrate"]):
        print(f"usage: python -m {name} [migrate]", file=sys.stderr)
        return EXIT_USAGE
    if args == ["migrate"]:
        return _migrate(name, history)
    try:
        settings = settings_from_env()
        traces = tracing.TraceSettings.from_env(process_env())
    except ConfigError as exc:
        print(f"{name}: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logs.configure(settings.log_format, settings.log_level)
    log = logs.get_logger(name.removesuffix("_service"))
    log.info("service.config", **settings.masked())

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_service(settings, stop, name, bootstrap, traces)

    try:
        asyncio.run(serve())
    except SchemaOutdated as exc:
        log.error("service.schema_outdated", error=str(exc))
        return EXIT_CONFIG
    except OSError as exc:
        # A port in use, a store that cannot be opened: nothing a traceback would add to.
        log.error("service.failed", error=str(exc))
        return EXIT_FAILED
    return EXIT_OK


def _migrate(name: str, history: History) -> int:
    store = name.removesuffix("_service")
    try:
        settings = ServiceSettings.read_store(process_env(), database=store)
    except ConfigError as exc:
        print(f"{name}: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logs.configure(settings["log_format"], settings["log_level"])
    log = logs.get_logger(store)
    engine = database.create_engine(settings["database_url"], pool_size=1)
    try:
        before, after = migrations.upgrade(engine, history)
    except Exception as exc:  # noqa: BLE001 - reported in one line, the store untouched
        log.error("schema.migrate_failed", error=str(exc).splitlines()[0])
        return EXIT_FAILED
    finally:
        engine.dispose()
    log.info("schema.migrated", revision_before=before or "none", revision=after)
    return EXIT_OK
