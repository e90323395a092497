"""Spans for tests: an in-memory provider installed as the process's, and an OTLP/gRPC
receiver that keeps what services export to it."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from boletos.platform import tracing
from boletos.platform.trace_scrubbing import ScrubbingExporter
from boletos_cli.stack.trace_catcher import span_lines


@contextlib.contextmanager
def in_memory_spans() -> Iterator[InMemorySpanExporter]:
    """Every span the code ends while the block runs, kept in order, scrubbed as a service
    exports them."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ScrubbingExporter(exporter)))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.uninstall(provider)
        provider.shutdown()


@dataclass(frozen=True)
class ReceivedSpan:
    """A span as a collector got it, as the local stack's trace catcher writes it: ids in
    hex, the kind by name, attributes as Python values."""

    line: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.line["name"])

    @property
    def kind(self) -> str:
        return str(self.line["kind"])

    @property
    def trace_id(self) -> str:
        return str(self.line["trace_id"])

    @property
    def span_id(self) -> str:
        return str(self.line["span_id"])

    @property
    def parent_span_id(self) -> str:
        return str(self.line["parent_span_id"])

    @property
    def attributes(self) -> dict[str, object]:
        return dict(self.line["attributes"])

    @property
    def link_trace_ids(self) -> set[str]:
        return {link["trace_id"] for link in self.line["links"]}

    def text(self) -> str:
        """Everything the span says, in one line: what a search for personal data reads."""
        return json.dumps(self.line, default=str, ensure_ascii=False)


class _Collector(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        received = [ReceivedSpan(line) for line in span_lines(request)]
        with self._lock:
            self.spans.extend(received)
        return trace_service_pb2.ExportTraceServiceResponse()


@contextlib.contextmanager
def otlp_receiver() -> Iterator[tuple[str, _Collector]]:
    """An OTLP/gRPC endpoint (http://127.0.0.1:PORT) and what was exported to it. A thread
    pool serves it, so an exporter flushing from the event loop's thread is answered."""
    collector = _Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"http://127.0.0.1:{port}", collector
    finally:
        server.stop(0)
