"""``python -m boletos_cli.stack.trace_catcher --port P --out FILE``: an OTLP/gRPC receiver
that appends every span the local stack's services export to FILE, one JSON object a line,
so a person can follow an upload with `grep TRACE_ID FILE` and no collector installed.
Compose and production send their spans to a real collector instead."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from collections.abc import Iterable
from concurrent import futures
from pathlib import Path
from typing import IO, Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def _value(value: AnyValue) -> object:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, which) if which else None


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, object]:
    return {kv.key: _value(kv.value) for kv in pairs}


def span_line(service: str, span: Span) -> dict[str, Any]:
    """One span as a line of the file: ids in hex, times in Unix nanoseconds."""
    return {
        "service": service,
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex(),
        "name": span.name,
        "kind": KINDS.get(span.kind, str(span.kind)),
        "start_ns": span.start_time_unix_nano,
        "end_ns": span.end_time_unix_nano,
        "attributes": _attributes(span.attributes),
        "events": [{"name": e.name, "attributes": _attributes(e.attributes)} for e in span.events],
        "links": [{"trace_id": k.trace_id.hex(), "span_id": k.span_id.hex()} for k in span.links],
        "status": {"code": span.status.code, "message": span.status.message},
    }


def span_lines(request: trace_service_pb2.ExportTraceServiceRequest) -> list[dict[str, Any]]:
    lines = []
    for resource_spans in request.resource_spans:
        service = str(_attributes(resource_spans.resource.attributes).get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            lines += [span_line(service, span) for span in scope_spans.spans]
    return lines


class JsonlWriter(trace_service_pb2_grpc.TraceServiceServicer):
    """Appends each export's spans, whole lines at a time, from any of the server's threads."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._lock = threading.Lock()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in span_lines(request))
        with self._lock:
            self._out.write(text)
            self._out.flush()
        return trace_service_pb2.ExportTraceServiceResponse()


def serve(out: IO[str], host: str, port: int) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(JsonlWriter(out), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port}")
    server.start()
    return server, bound


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m boletos_cli.stack.trace_catcher")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # Ids only, no personal data, but the stack's data directory is its owner's alone.
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        server, port = serve(out, args.host, args.port)
        print(f"trace catcher on {args.host}:{port}, spans in {args.out}", flush=True)
        stop.wait()
        # The services stopped first; what they flushed on the way out is in by now.
        server.stop(2).wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
