"""Traces: off unless asked for, a server span per RPC continuing the caller's client span,
health checks untraced, and log lines that name the span they were written in."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from boletos.platform import logs, runtime, trace_context, tracing
from boletos.platform.access.transport import ClientTls, channel
from boletos.platform.env import ConfigError
from boletos.platform.grpc_server import GrpcServer
from boletos.platform.tracing import TraceSettings
from ingest_service.config import Settings
from ingest_service.store.engine import HISTORY
from tests.support import access
from tests.support.traces import in_memory_spans


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with in_memory_spans() as exporter:
        yield exporter


@pytest.mark.parametrize(
    ("env", "exporter", "protocol"),
    [
        ({}, "", "grpc"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, "otlp", "grpc"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, "otlp", "grpc"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console", "grpc"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"},
            "none",
            "grpc",
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_SDK_DISABLED": "true"},
            "",
            "grpc",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            },
            "otlp",
            "http/protobuf",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
            },
            "otlp",
            "grpc",
        ),
    ],
)
def test_traces_are_on_only_when_an_exporter_is_asked_for(
    env: dict[str, str], exporter: str, protocol: str
) -> None:
    settings = TraceSettings.from_env(env)
    assert (settings.exporter, settings.protocol) == (exporter, protocol)
    assert settings.enabled == (exporter in ("otlp", "console"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_TRACES_EXPORTER", "zipkin"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "maybe"),
    ],
)
def test_a_setting_the_service_cannot_use_is_named(name: str, value: str) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", name: value}
    with pytest.raises(ConfigError, match=name):
        TraceSettings.from_env(env)


def test_the_service_names_its_spans_unless_otel_service_name_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    started = tracing.start("boleto_service", TraceSettings("console"))
    assert started is not None
    try:
        assert tracing.installed() is started.provider
        assert started.provider.resource.attributes["service.name"] == "boleto_service"
        # A second service of the same process joins the provider and leaves it running.
        joined = tracing.start("mailer_service", TraceSettings("console"))
        assert joined is not None and joined.provider is started.provider
        joined.close()
        assert tracing.installed() is started.provider
    finally:
        started.close()
    assert tracing.installed() is None

    monkeypatch.setenv("OTEL_SERVICE_NAME", "boletos-emissao")
    named = tracing.start(
        "boleto_service",
        TraceSettings.from_env(
            {"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "boletos-emissao"}
        ),
    )
    assert named is not None
    try:
        assert named.provider.resource.attributes["service.name"] == "boletos-emissao"
    finally:
        named.close()


def test_off_means_no_provider_and_no_interceptors() -> None:
    assert tracing.start("ingest_service", TraceSettings()) is None
    assert tracing.installed() is None
    assert tracing.server_interceptors() == []
    assert tracing.client_interceptors() == []


async def _say(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    logs.get_logger("test").info("test.said")
    return request


def _echo_server() -> GrpcServer:
    server = GrpcServer(
        "127.0.0.1:0",
        ["test.Echo"],
        tracing.server_interceptors(),
        tls=None,
        serve_reflection=False,
    )
    handler = grpc.unary_unary_rpc_method_handler(_say)
    server.server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("test.Echo", {"Say": handler})]
    )
    return server


async def test_a_call_is_a_client_span_and_its_server_span_a_child(
    spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    server = _echo_server()
    await server.start()
    try:
        async with channel(f"127.0.0.1:{server.port}", ClientTls(insecure=True)) as ch:
            with caplog.at_level(logging.INFO):
                assert await ch.unary_unary("/test.Echo/Say")(b"oi") == b"oi"
            health = health_pb2_grpc.HealthStub(ch)
            await health.Check(health_pb2.HealthCheckRequest())
    finally:
        await server.stop(0)

    finished = spans.get_finished_spans()
    server_spans = [s for s in finished if s.kind == SpanKind.SERVER]
    client_spans = [s for s in finished if s.kind == SpanKind.CLIENT]
    assert [s.name for s in server_spans] == ["/test.Echo/Say"]
    (served,) = server_spans
    (called,) = [s for s in client_spans if s.name == "/test.Echo/Say"]
    assert served.parent is not None and served.parent.span_id == called.context.span_id
    assert served.context.trace_id == called.context.trace_id
    # The health check's client span exists (the client cannot tell); the server keeps none.
    (said,) = [r for r in caplog.records if r.getMessage() == "test.said"]
    assert said.trace_id == format_trace_id(served.context.trace_id)  # type: ignore[attr-defined]
    assert said.span_id == format_span_id(served.context.span_id)  # type: ignore[attr-defined]


def test_a_line_outside_any_span_has_no_trace_fields(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logs.get_logger("test").info("test.alone")
    assert not hasattr(caplog.records[0], "trace_id")


def test_a_failed_span_names_the_exception_type_and_never_its_message(
    spans: InMemorySpanExporter,
) -> None:
    with pytest.raises(ValueError), tracing.span("boleto.issue"):
        raise ValueError("duplicate key (email)=(lisa@example.com)")
    (failed,) = spans.get_finished_spans()
    assert failed.status.status_code == StatusCode.ERROR
    assert failed.status.description == "ValueError"
    assert failed.events == ()


def test_a_service_refuses_a_trace_setting_it_cannot_use_at_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")

    async def never(rt: runtime.ServiceRuntime, settings: Settings) -> None:
        raise AssertionError("started with an unusable setting")

    code = runtime.main(
        "ingest_service", lambda: Settings.from_env(access.minimal_env()), never, HISTORY, []
    )
    assert code == runtime.EXIT_CONFIG
    assert "OTEL_EXPORTER_OTLP_PROTOCOL" in capsys.readouterr().err


def test_an_exception_on_a_span_leaves_with_its_type_only() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from boletos.platform.trace_scrubbing import ScrubbingExporter

    kept = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ScrubbingExporter(kept)))
    with provider.get_tracer("t").start_as_current_span("write") as span:
        span.add_event("progress", {"rows": 3})
        try:
            raise ValueError("duplicate key: Maria Silva 123.456.789-09 maria@example.com")
        except ValueError as exc:
            span.record_exception(exc)
    provider.shutdown()
    (exported,) = kept.get_finished_spans()
    progress, exception = exported.events
    assert dict(progress.attributes or {}) == {"rows": 3}
    assert dict(exception.attributes or {}) == {
        "exception.type": "ValueError",
        "exception.escaped": "False",
    }
    assert "Maria" not in repr([dict(e.attributes or {}) for e in exported.events])


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_without_traces_a_span_carries_the_trace_it_is_in_on() -> None:
    # A service that collects no traces still hands its callers' traces on: what it writes
    # in a span names the trace the span was started in, with or without a parent given.
    assert tracing.installed() is None
    outer = trace_context.extract({"traceparent": TRACEPARENT})
    with tracing.span("outer", parent=outer):
        assert trace_context.current_headers() == {"traceparent": TRACEPARENT}
        with tracing.span("boleto.issue", attributes={"debt_id": "d-1"}) as inner:
            inner.set_attribute("outcome", "issued")
            assert trace_context.current_headers() == {"traceparent": TRACEPARENT}
    with tracing.span("alone"):
        assert trace_context.current_headers() == {}
    with pytest.raises(ValueError), tracing.span("failing"):
        raise ValueError("raised through an untraced span")
