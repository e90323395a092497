"""A trace's context where it must outlive the call that made it: in a row (the outbox, a
queued e-mail) and in a NATS message's headers, as W3C `traceparent` and `tracestate`.

The stored form is the headers themselves as JSON, so the relay publishes them as read.
Only these two headers are kept: baggage could carry whatever a caller put in it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_W3C = TraceContextTextMapPropagator()
FIELDS = ("traceparent", "tracestate")


def current_headers() -> dict[str, str]:
    """traceparent (and tracestate) of the current span; empty outside any trace."""
    if not trace.get_current_span().get_span_context().is_valid:
        return {}
    headers: dict[str, str] = {}
    _W3C.inject(headers)
    return {k: v for k, v in headers.items() if k in FIELDS}


def current_text() -> str | None:
    """The current context as stored with a row; None outside any trace."""
    headers = current_headers()
    return json.dumps(headers, separators=(",", ":")) if headers else None


def headers_of(text: str | None) -> dict[str, str]:
    """The headers a stored context stands for; a row written without one, or with
    something unreadable, has none."""
    if not text:
        return {}
    try:
        stored = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(stored, dict):
        return {}
    return {k: v for k, v in stored.items() if k in FIELDS and isinstance(v, str)}


def extract(headers: Mapping[str, str] | None) -> Context | None:
    """The context headers carry, or None when they carry none (or a malformed one)."""
    if not headers:
        return None
    carried = {k.lower(): v for k, v in headers.items() if k.lower() in FIELDS}
    if "traceparent" not in carried:
        return None
    context = _W3C.extract(carried)
    if not trace.get_current_span(context).get_span_context().is_valid:
        return None
    return context


def from_text(text: str | None) -> Context | None:
    return extract(headers_of(text))


def link_to(context: Context | None) -> list[Link]:
    """A link to the span a context names, for a span serving many traces at once."""
    if context is None:
        return []
    return [Link(trace.get_current_span(context).get_span_context())]
