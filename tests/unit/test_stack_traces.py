"""``boletos stack --traces``: the services export to the stack's own OTLP receiver, on a
port no other part of the stack takes, and the receiver writes each span as a JSON line."""

from __future__ import annotations

import io
import json
from pathlib import Path

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from boletos_cli.stack.layout import SERVICES, StackLayout
from boletos_cli.stack.trace_catcher import serve

INGEST = SERVICES[0]


def test_with_traces_every_service_exports_to_the_stacks_receiver(tmp_path: Path) -> None:
    layout = StackLayout(
        data_dir=tmp_path,
        replicas={spec.name: 8 for spec in SERVICES},
        nats_cluster=5,
        traces=True,
    )
    ports = layout.reserved_ports()
    assert ports["trace catcher"] == layout.base_port + 14
    assert len(set(ports.values())) == len(ports), "two parts of the stack share a port"
    for spec in SERVICES:
        env = layout.service_env(layout.replicas_of(spec)[0], {})
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://127.0.0.1:{layout.base_port + 14}"
        assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    assert layout.traces_file == tmp_path / "traces.jsonl"


def test_without_traces_the_services_export_nothing(tmp_path: Path) -> None:
    layout = StackLayout(data_dir=tmp_path)
    assert "trace catcher" not in layout.reserved_ports()
    env = layout.service_env(layout.replicas_of(INGEST)[0], {})
    assert not any(name.startswith("OTEL_") for name in env)


def test_the_receiver_writes_each_span_as_a_line() -> None:
    out = io.StringIO()
    server, port = serve(out, "127.0.0.1", 0)
    provider = TracerProvider(resource=Resource.create({"service.name": "boleto_service"}))
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}", insecure=True)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        tracer = provider.get_tracer("test")
        with tracer.start_as_current_span("process ingest.debts.imported") as parent:
            with tracer.start_as_current_span("boleto.issue", attributes={"debt_id": "d-1"}):
                pass
    finally:
        provider.shutdown()
        server.stop(0)

    child, root = (json.loads(line) for line in out.getvalue().splitlines())
    assert (child["name"], root["name"]) == ("boleto.issue", "process ingest.debts.imported")
    assert child["service"] == "boleto_service"
    assert child["attributes"] == {"debt_id": "d-1"}
    assert child["trace_id"] == root["trace_id"] == f"{parent.get_span_context().trace_id:032x}"
    assert child["parent_span_id"] == root["span_id"]
    assert (child["kind"], root["parent_span_id"]) == ("internal", "")
