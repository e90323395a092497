"""A file sent through the gateway is one trace with the caller's: the gateway's server span
continues the request's traceparent and the ingest service's Upload span sits under it. The
span is named by the route's template, never by a URL (which can hold a debtor's link)."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.trace import SpanKind

from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.gateway import client, running_gateway
from tests.support.ingest import running_ingest
from tests.support.processes import NatsServer
from tests.support.traces import in_memory_spans

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"


async def test_an_upload_through_the_gateway_continues_the_callers_trace(tmp_path: Path) -> None:
    nats = NatsServer(tmp_path / "nats").start()
    try:
        with in_memory_spans() as exporter:
            async with (
                running_ingest(f"sqlite:///{tmp_path / 'ingest.db'}", nats.url) as ingest,
                running_gateway(ingest.address, ingest.address, ingest.address) as url,
                client(url) as http,
            ):
                answer = await http.post(
                    "/v1/uploads",
                    files={"file": ("t.csv", csv_bytes(valid_rows(3, seed=61)))},
                    headers={"traceparent": TRACEPARENT},
                )
                assert answer.status_code == 201, answer.text
                await http.get("/p/1.k1.secret-looking-token.20990101.AAAA")
            spans = exporter.get_finished_spans()
    finally:
        nats.stop()
    [gateway] = [s for s in spans if s.name == "POST /v1/uploads"]
    assert gateway.kind == SpanKind.SERVER
    assert format(gateway.context.trace_id, "032x") == CALLER_TRACE
    assert (gateway.attributes or {})["http.response.status_code"] == 201
    [upload] = [
        s for s in spans if s.kind == SpanKind.SERVER and s.name.endswith("IngestService/Upload")
    ]
    assert upload.context.trace_id == gateway.context.trace_id
    # Under the gateway's span, through its gRPC client span.
    parents = {s.context.span_id: s.parent.span_id if s.parent else None for s in spans}
    ancestor = upload.parent.span_id if upload.parent else None
    while ancestor is not None and ancestor != gateway.context.span_id:
        ancestor = parents.get(ancestor)
    assert ancestor == gateway.context.span_id
    [page] = [s for s in spans if s.name == "GET /p/{token}"]
    assert "secret-looking-token" not in repr(page.attributes) + page.name
