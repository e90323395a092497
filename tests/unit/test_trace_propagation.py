"""A trace across NATS: the outbox keeps the context an event was written in and publishes it
as headers; a consumer handles a batch in a span linked to each message's trace and each
message in a span continuing it; the boleto service's per-debt spans carry ids only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from boleto_service.config import Settings
from boleto_service.domain.issuing import BoletoIssuer
from boleto_service.service.issuing import Built, IssueBoletos
from boletos.platform import trace_context, tracing
from boletos.platform.consumer import ConsumerSpec, Delivery, PullConsumer
from boletos.platform.database import raw_cursor, writing
from boletos.platform.logs import get_logger
from boletos.platform.outbox import OutboxRelay, OutboxStore, insert_events, outbox_table
from boletos.v1 import events_pb2
from tests.support import access
from tests.support.boleto import imported_debt
from tests.support.traces import in_memory_spans

UPLOAD = "0b9a1f3e-5c2d-4e8f-9a7b-6c5d4e3f2a1b"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with in_memory_spans() as exporter:
        yield exporter


def test_a_context_survives_a_row_and_headers(spans: InMemorySpanExporter) -> None:
    assert trace_context.current_text() is None
    with tracing.span("upload") as span:
        text = trace_context.current_text()
    headers = trace_context.headers_of(text)
    assert set(headers) == {"traceparent"}
    context = trace_context.extract(headers)
    assert context is not None
    carried = trace.get_current_span(context).get_span_context()
    assert (carried.trace_id, carried.span_id) == (
        span.get_span_context().trace_id,
        span.get_span_context().span_id,
    )


@pytest.mark.parametrize(
    "text", [None, "", "not json", "[1]", '{"traceparent": 5}', '{"traceparent": "00-zz"}']
)
def test_a_missing_or_unreadable_context_is_none(text: str | None) -> None:
    assert trace_context.from_text(text) is None


@dataclass
class _Ack:
    duplicate: bool = False


@dataclass
class _Js:
    published: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> _Ack:
        self.published.append((subject, payload, headers))
        return _Ack()


async def test_the_relay_publishes_the_context_an_event_was_written_in(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    metadata = sa.MetaData()
    table = outbox_table(metadata)
    metadata.create_all(engine)
    with tracing.span("upload") as span, writing(engine) as conn:
        insert_events(raw_cursor(conn), "sqlite", [("a.b", "traced-1", b"1")])
    with writing(engine) as conn:
        insert_events(raw_cursor(conn), "sqlite", [("a.b", "untraced-1", b"2")])

    js = _Js()
    relay = OutboxRelay(OutboxStore(engine, table), js)  # type: ignore[arg-type]
    assert await relay.publish_pending() == 2

    traced, untraced = js.published
    parent = trace_context.extract(traced[2])
    assert parent is not None
    carried = trace.get_current_span(parent).get_span_context()
    assert carried.span_id == span.get_span_context().span_id
    assert traced[2]["Nats-Msg-Id"] == "traced-1"
    assert untraced[2] == {"Nats-Msg-Id": "untraced-1"}


@dataclass
class _Sequence:
    stream: int


@dataclass
class _Metadata:
    sequence: _Sequence
    num_delivered: int


@dataclass
class _Msg:
    data: bytes
    headers: dict[str, str] | None
    metadata: _Metadata
    subject: str = "test.things"
    replies: list[str] = field(default_factory=list)

    async def ack_sync(self) -> None:
        self.replies.append("ack")

    async def nak(self, delay: float = 0) -> None:
        self.replies.append("nak")

    async def term(self) -> None:
        self.replies.append("term")

    async def in_progress(self) -> None:
        pass


def _message(seq: int, headers: dict[str, str] | None, delivered: int = 1) -> _Msg:
    return _Msg(str(seq).encode(), headers, _Metadata(_Sequence(seq), delivered))


def _headers_of_new_trace(name: str) -> tuple[dict[str, str], int]:
    with tracing.span(name) as span:
        return trace_context.current_headers(), span.get_span_context().trace_id


async def test_a_batch_is_linked_to_each_trace_and_each_message_continues_its_own(
    spans: InMemorySpanExporter,
) -> None:
    first, first_trace = _headers_of_new_trace("upload 1")
    second, second_trace = _headers_of_new_trace("upload 2")
    seen: list[tuple[int, int]] = []

    async def handle(deliveries: Sequence[Delivery[bytes]]) -> None:
        current = trace.get_current_span().get_span_context()
        seen.extend((current.trace_id, d.attempt) for d in deliveries)

    spec = ConsumerSpec(stream="TEST", subject="test.things", durable="test-consumer")
    consumer = PullConsumer(None, spec, bytes, handle, get_logger("test"))  # type: ignore[arg-type]
    # The second is a redelivery: the same headers, so the same trace.
    msgs = [_message(1, first), _message(2, second, delivered=2), _message(3, None)]
    await consumer._dispatch(msgs)  # type: ignore[arg-type]

    assert [m.replies for m in msgs] == [["ack"], ["ack"], ["ack"]]
    (batch,) = [s for s in spans.get_finished_spans() if s.name == "test-consumer batch"]
    assert batch.kind == SpanKind.CONSUMER
    assert {link.context.trace_id for link in batch.links} == {first_trace, second_trace}
    assert batch.attributes is not None
    assert batch.attributes["messaging.batch.message_count"] == 3
    # A message without a context is handled in the batch's trace.
    assert seen == [(first_trace, 1), (second_trace, 2), (batch.context.trace_id, 1)]
    handled = [s for s in spans.get_finished_spans() if s.name == "process test.things"]
    assert [s.context.trace_id for s in handled] == [
        first_trace,
        second_trace,
        batch.context.trace_id,
    ]
    assert all(s.links[0].context.span_id == batch.context.span_id for s in handled[:2])


def _debt(**fields: object) -> events_pb2.ImportedDebt:
    return imported_debt(name="Lisa Wright", due_date="2027-05-01", **fields)


@dataclass
class _Ledger:
    stored: list[Built] = field(default_factory=list)

    def issue_batch(
        self,
        debt_ids: Sequence[str],
        build: Callable[[list[str], int, int], Built],
        check_first: bool = True,
        counter: str = "nosso_numero",
        counter_start: int = 1,
    ) -> tuple[int, int]:
        built = build(list(debt_ids), 1, counter_start)
        self.stored.append(built)
        return len(built[0]), len(built[1])


def test_each_debt_is_issued_in_a_span_naming_its_ids_only(spans: InMemorySpanExporter) -> None:
    good = _debt()
    bad = _debt(debt_id="1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", amount_cents=0)
    event = events_pb2.DebtsImported(upload_id=UPLOAD, batch_seq=1, debts=[good, bad])
    settings = Settings.from_env(access.minimal_env())
    issuers = {"default": BoletoIssuer(settings.beneficiary, settings.overdue)}
    issue = IssueBoletos(_Ledger(), issuers, today=lambda: dt.date(2026, 11, 26))
    with tracing.span("process boleto.debts") as parent:
        assert issue(event) == (1, 1)

    issued = [s for s in spans.get_finished_spans() if s.name == "boleto.issue"]
    assert [dict(s.attributes or {}) for s in issued] == [
        {"upload_id": UPLOAD, "debt_id": good.debt_id, "outcome": "issued"},
        {"upload_id": UPLOAD, "debt_id": bad.debt_id, "outcome": "refused"},
    ]
    assert all(s.parent is not None for s in issued)
    assert {s.parent.span_id for s in issued if s.parent} == {parent.get_span_context().span_id}
