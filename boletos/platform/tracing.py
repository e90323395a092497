"""Traces: one tracer provider per process, set up from the standard OTEL_* environment.

Off unless an exporter is asked for (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER) and OTEL_SDK_DISABLED is not
true: a service nobody collects traces from pays for no spans, no exporter and no extra
gRPC interceptors. The SDK itself reads the rest (the sampler, the endpoint, headers,
timeouts, the batch processor's limits, OTEL_RESOURCE_ATTRIBUTES).

The provider is held here rather than registered as OpenTelemetry's global one, which can
be set only once: a test runs several services in one process, one after the other.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, Link, Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import Attributes

from boletos.platform.env import ConfigError, env_flag, env_str

# The SDK, the exporters and the instrumentation are imported when traces are on: the
# command line shares this code and should not start slower for them.
if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

EXPORTERS = ("otlp", "console", "none")
PROTOCOLS = ("grpc", "http/protobuf")
# The instrumentation scope of the spans this repository's own code makes.
SCOPE = "boletos"


@dataclass(frozen=True)
class TraceSettings:
    """What the environment asks for; `exporter` empty means no traces."""

    exporter: str = ""
    protocol: str = "grpc"
    # OTEL_SERVICE_NAME, when set, names the service instead of its module.
    service_name: str = ""

    @property
    def enabled(self) -> bool:
        return self.exporter not in ("", "none")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TraceSettings:
        if env_str(env, "OTEL_SDK_DISABLED", "false").lower() == "true":
            return cls()
        endpoint = env_str(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "") or env_str(
            env, "OTEL_EXPORTER_OTLP_ENDPOINT", ""
        )
        # The SDK takes a list; one exporter is what a service needs.
        exporter = env_str(env, "OTEL_TRACES_EXPORTER", "otlp" if endpoint else "").lower()
        if exporter and exporter not in EXPORTERS:
            raise ConfigError(
                f"OTEL_TRACES_EXPORTER must be one of {', '.join(EXPORTERS)}, got {exporter!r}"
            )
        protocol = env_str(env, "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        protocol = env_str(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", protocol)
        if protocol not in PROTOCOLS:
            raise ConfigError(
                f"OTEL_EXPORTER_OTLP_PROTOCOL must be one of {', '.join(PROTOCOLS)}, "
                f"got {protocol!r}"
            )
        env_flag(env, "OTEL_EXPORTER_OTLP_INSECURE")  # a typo here is a ConfigError too
        return cls(exporter, protocol, env_str(env, "OTEL_SERVICE_NAME", ""))


_provider: TracerProvider | None = None
_tracer: trace.Tracer = trace.NoOpTracer()


def installed() -> TracerProvider | None:
    return _provider


def install(provider: TracerProvider) -> None:
    """Makes `provider` the process's; tests install one with an in-memory exporter."""
    global _provider, _tracer
    _provider = provider
    _tracer = provider.get_tracer(SCOPE)


def uninstall(provider: TracerProvider) -> None:
    global _provider, _tracer
    if _provider is provider:
        _provider = None
        _tracer = trace.NoOpTracer()


def _exporter(settings: TraceSettings) -> SpanExporter:
    if settings.exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if settings.protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpExporter,
        )

        return HttpExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
        OTLPSpanExporter as GrpcExporter,
    )

    return GrpcExporter()


class Tracing:
    """The process's provider while a service runs; close() flushes and, for the service
    that set it up, shuts it down."""

    def __init__(self, provider: TracerProvider, owned: bool) -> None:
        self.provider = provider
        self._owned = owned

    def flush(self) -> None:
        self.provider.force_flush()

    def close(self) -> None:
        if not self._owned:
            self.flush()
            return
        uninstall(self.provider)
        # Exports what the batch processor still holds, within its own timeout.
        self.provider.shutdown()


def start(service: str, settings: TraceSettings) -> Tracing | None:
    """Sets the process's provider up for `service`, or joins the one already there (another
    service of the same process, or a test's); None when traces are off."""
    if _provider is not None:
        return Tracing(_provider, owned=False)
    if not settings.enabled:
        return None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from boletos.platform.trace_scrubbing import ScrubbingExporter

    # Resource.create adds OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; a name given
    # here would win over the latter.
    attributes = {} if settings.service_name else {SERVICE_NAME: service}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(ScrubbingExporter(_exporter(settings))))
    install(provider)
    return Tracing(provider, owned=True)


def tracer() -> trace.Tracer:
    """The tracer of the installed provider; without one, OpenTelemetry's no-op, whose spans
    still carry a context they were started in (across a service that does not trace)."""
    return _tracer


def span(
    name: str,
    *,
    parent: Context | None = None,
    links: Sequence[Link] = (),
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Attributes = None,
) -> AbstractContextManager[Span]:
    """A span made current for the block; `parent` None continues the current context.

    An exception leaving the block marks the span failed with the exception's type alone:
    its message may quote what a debtor wrote (a database error quotes the row), and spans
    carry no personal data."""
    if _provider is None and parent is None:
        # Without a provider the span would be a no-op one carrying the current context,
        # which stays current anyway: a span per boleto cost a tenth of issuing.
        return _UNTRACED
    return _span(name, parent, links, kind, attributes)


_UNTRACED = nullcontext(INVALID_SPAN)


@contextmanager
def _span(
    name: str,
    parent: Context | None,
    links: Sequence[Link],
    kind: SpanKind,
    attributes: Attributes,
) -> Iterator[Span]:
    with tracer().start_as_current_span(
        name,
        context=parent,
        kind=kind,
        links=links,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as exc:
            current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


# Health checks are probes every few seconds, and reflection a tool's question: neither is
# a request anyone follows across services.
UNTRACED_SERVICE_PREFIXES = ("grpc.health.", "grpc.reflection.")


def traced_call(details: grpc.HandlerCallDetails) -> bool:
    method: str = details.method or ""
    return not method.lstrip("/").startswith(UNTRACED_SERVICE_PREFIXES)


def server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    """A server span for each RPC, continuing the caller's trace; none while traces are off."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import (
        aio_server_interceptor,
    )

    interceptor: grpc.aio.ServerInterceptor = aio_server_interceptor(  # type: ignore[no-untyped-call]
        tracer_provider=_provider, filter_=traced_call
    )
    return [interceptor]


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """A client span for each call, its context sent along in the call's metadata."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import (
        aio_client_interceptors,
    )

    interceptors: list[grpc.aio.ClientInterceptor] = aio_client_interceptors(  # type: ignore[no-untyped-call]
        tracer_provider=_provider
    )
    return interceptors
