"""Prometheus metrics shared by every service: the /metrics endpoint, RPC latency, consumer lag.

Each service counts its own work next to the code that does it; this module holds what all
of them have in common. Everything goes to prometheus_client's default registry.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
from nats.js import JetStreamContext
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from boletos.platform.logs import get_logger
from boletos.platform.rpc_handlers import behavior_of, finished_status, rebuilt
from boletos.platform.stopping import Stopping

log = get_logger("metrics")

# Uploads of a million rows and WatchUpload streams run for minutes, not milliseconds.
RPC_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

RPC_SECONDS = Histogram(
    "boletos_grpc_server_handling_seconds",
    "Seconds from the start of an RPC until its handler finished, streamed responses included.",
    ["service", "method", "code"],
    buckets=RPC_BUCKETS,
)
STREAM_BYTES = Gauge(
    "boletos_jetstream_stream_bytes",
    "Bytes a JetStream stream holds now.",
    ["stream"],
)
STREAM_MAX_BYTES = Gauge(
    "boletos_jetstream_stream_max_bytes",
    "The most bytes a JetStream stream may hold (NATS_STREAM_MAX_DEBTS sizes it); past it, "
    "publishing is refused.",
    ["stream"],
)
CONSUMER_LAG = Gauge(
    "boletos_jetstream_consumer_lag_messages",
    "Messages of a durable JetStream consumer not yet delivered or not yet acknowledged.",
    ["stream", "consumer"],
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "boletos_outbox_publish_failures_total",
    "Relay rounds that failed to publish the outbox (NATS down, a stream full, a refusal).",
)

# Fresh enough for a dashboard; a handful of broker requests per interval costs nothing.
LAG_INTERVAL_SECONDS = 5.0


class MetricsEndpoint:
    """Serves /metrics from a thread of its own, so scrapes are answered however busy the
    event loop is."""

    def __init__(self, addr: str) -> None:
        host, _, port = addr.rpartition(":")
        if not port.isdigit():
            raise ValueError(f"METRICS_ADDR must be host:port, got {addr!r}")
        self._httpd, self._thread = start_http_server(int(port), host.strip("[]") or "0.0.0.0")
        self.port: int = self._httpd.server_port
        log.info("metrics.serving", addr=addr, port=self.port)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


class RpcMetrics(grpc.aio.ServerInterceptor):
    """Times every RPC into RPC_SECONDS; a streamed response is timed to its last message."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        service, _, method = handler_call_details.method.lstrip("/").rpartition("/")
        return rebuilt(handler, _timed(service, method)(behavior_of(handler)))


def _timed(service: str, method: str) -> Callable[[Any], Any]:
    def observe(started: float, context: Any, exc: BaseException | None) -> None:
        code = finished_status(context, exc)
        RPC_SECONDS.labels(service, method, code).observe(time.perf_counter() - started)

    # grpc.aio picks how to drive a handler from its kind (async generator, coroutine, plain
    # function), so each wrapper must be of the same kind as what it wraps.
    def wrap(behavior):  # type: ignore[no-untyped-def]
        if inspect.isasyncgenfunction(behavior):

            async def streamed(request, context):  # type: ignore[no-untyped-def]
                started, failure = time.perf_counter(), None
                try:
                    async for response in behavior(request, context):
                        yield response
                except BaseException as exc:
                    failure = exc
                    raise
                finally:
                    observe(started, context, failure)

            return streamed

        if inspect.iscoroutinefunction(behavior):

            async def awaited(request, context):  # type: ignore[no-untyped-def]
                started, failure = time.perf_counter(), None
                try:
                    return await behavior(request, context)
                except BaseException as exc:
                    failure = exc
                    raise
                finally:
                    observe(started, context, failure)

            return awaited

        # Plain functions: in practice the generated base classes' UNIMPLEMENTED stubs.
        def called(request, context):  # type: ignore[no-untyped-def]
            started, failure, context = time.perf_counter(), None, _SyncContext(context)
            try:
                return behavior(request, context)
            except BaseException as exc:
                failure = exc
                raise
            finally:
                observe(started, context, failure)

        return called

    return wrap


class _SyncContext:
    """The context grpc gives plain-function handlers cannot say which code they set."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self._code: grpc.StatusCode | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code
        self._context.set_code(code)

    def abort(self, code: grpc.StatusCode, details: str = "") -> None:
        self._code = code
        self._context.abort(code, details)

    def code(self) -> grpc.StatusCode | None:
        return self._code


class ConsumerLag:
    """Keeps CONSUMER_LAG current for each (stream, durable) until stopped.

    Every replica sharing a durable reports the same number; aggregate with max, not sum.
    """

    def __init__(
        self,
        js: JetStreamContext,
        consumers: Iterable[tuple[str, str]],
        every: float = LAG_INTERVAL_SECONDS,
    ) -> None:
        self._js = js
        self._consumers = list(consumers)
        self._every = every
        self._stopping = Stopping()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            for stream, durable in self._consumers:
                try:
                    info = await self._js.consumer_info(stream, durable)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - not created yet, or a broker hiccup
                    log.debug(
                        "metrics.lag_unknown", stream=stream, consumer=durable, error=repr(exc)
                    )
                    continue
                lag = (info.num_pending or 0) + (info.num_ack_pending or 0)
                CONSUMER_LAG.labels(stream, durable).set(lag)
            for stream in dict.fromkeys(stream for stream, _ in self._consumers):
                await self._measure_stream(stream)
            await self._stopping.sleep(self._every)

    async def _measure_stream(self, stream: str) -> None:
        """How full the stream is: a full one refuses every publish (discard new)."""
        try:
            info = await self._js.stream_info(stream)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - not created yet, or a broker hiccup
            log.debug("metrics.stream_unknown", stream=stream, error=repr(exc))
            return
        STREAM_BYTES.labels(stream).set(info.state.bytes or 0)
        if info.config.max_bytes and info.config.max_bytes > 0:
            STREAM_MAX_BYTES.labels(stream).set(info.config.max_bytes)
