"""Spans as they leave the process: an exception recorded on a span keeps its type and loses
its message and traceback. gRPC's instrumentation records every exception a servicer lets
escape, and an exception's message can quote the data at hand (a database error quotes the
row it could not write: a name, a CPF, an e-mail address). The services' own spans record
only the type; this holds the rule for the instrumentation's too."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

# What an exception event may keep (OpenTelemetry's semantic conventions name the rest).
KEPT = frozenset({"exception.type", "exception.escaped"})


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    if not any(event.name == "exception" for event in span.events):
        return span
    events = [
        Event(
            event.name,
            {k: v for k, v in (event.attributes or {}).items() if k in KEPT},
            event.timestamp,
        )
        if event.name == "exception"
        else event
        for event in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class ScrubbingExporter(SpanExporter):
    """Hands `inner` each span scrubbed."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)
