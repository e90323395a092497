"""One upload is one trace: the three real services export their spans over OTLP/gRPC to a
receiver, and the Upload call, each debt's boleto and each debt's e-mail share a trace id,
through the outbox, NATS headers and the mailer's queue. The spans name ids, never a
debtor's name, e-mail address or CPF/CNPJ."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from boletos.platform import tracing
from boletos.platform.tracing import TraceSettings, Tracing
from boletos_testing.cpf import valid_cpf
from tests.support.boleto import running_boleto
from tests.support.csvdata import Row, csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink
from tests.support.personal_data import leaks
from tests.support.traces import ReceivedSpan, otlp_receiver
from tests.support.waiting import wait_for

UPLOAD_METHOD = "/boletos.v1.IngestService/Upload"


@dataclass
class Receiver:
    spans: list[ReceivedSpan]
    tracing: Tracing


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """The process's provider exports to the receiver; the services, started in this
    process, join it, as three services of one process share it."""
    with otlp_receiver() as (endpoint, collector):
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "200")
        traced = tracing.start("boletos", TraceSettings.from_env(os.environ))
        assert traced is not None
        try:
            yield Receiver(collector.spans, traced)
        finally:
            traced.close()


def debtors(count: int) -> list[Row]:
    """Names, e-mail addresses and CPFs distinct enough that finding one in a span is no
    chance: a generated row's four-digit id turns up in a random trace id now and then."""
    return [
        row.changed(
            name=f"{row.name.split()[0]}ízia Cavalcanti de Rastro{n:02d}",
            email=f"rastro{n:02d}.cavalcanti@correio.example",
            government_id=valid_cpf(529_982_247 + 7_919 * n),
        )
        for n, row in enumerate(valid_rows(count, seed=31))
    ]


async def _upload_until_mailed(
    receiver: Receiver,
    rows: list[Row],
    databases: tuple[str, str, str],
    nats_url: str,
    *,
    refused: str = "",
    rejected: Sequence[str] = (),
) -> str:
    """Uploads the rows (and the `rejected` lines, which ingest refuses) until every e-mail
    is sent, or refused for good when addressed to `refused`."""
    ingest_db, boleto_db, mailer_db = databases
    sink = Sink(reply=lambda rcpt: "550 5.1.1 no such user" if rcpt == refused else None)
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(ingest_db, nats_url) as ingest,
            running_boleto(boleto_db, nats_url) as boleto,
            running_mailer(mailer_db, nats_url, boleto.address, smtp.port) as _mailer,
        ):
            summary = await upload(ingest.stub, csv_bytes([*rows, *rejected]))
            progress = await settled(ingest.stub, summary.upload_id)
            failed = sum(1 for row in rows if row.email == refused)
            assert (progress.emails_sent, progress.emails_failed) == (len(rows) - failed, failed)
            assert summary.rejected == len(rejected)
            receiver.tracing.flush()
            await wait_for(lambda: len(_named(receiver.spans, "mailer.send")) >= len(rows))
    return summary.upload_id


def _named(spans: list[ReceivedSpan], name: str) -> list[ReceivedSpan]:
    return [s for s in list(spans) if s.name == name]


async def test_one_upload_is_one_trace_from_the_call_to_each_email(
    receiver: Receiver, databases: tuple[str, str, str], nats_server
) -> None:
    rows = debtors(4)
    upload_id = await _upload_until_mailed(receiver, rows, databases, nats_server.url)
    spans = list(receiver.spans)

    (call,) = [s for s in _named(spans, UPLOAD_METHOD) if s.kind == "server"]
    trace_id = call.trace_id
    in_trace = [s for s in spans if s.trace_id == trace_id]
    by_id = {s.span_id: s for s in in_trace}
    for row in rows:
        ids = {"upload_id": upload_id, "debt_id": row.debt_id}
        for name in ("boleto.issue", "mailer.send"):
            found = [s for s in _named(in_trace, name) if ids.items() <= s.attributes.items()]
            assert found, f"no {name} span for debt {row.debt_id} in the upload's trace"
            # Each descends from the Upload call, span by span.
            span = found[0]
            while span.parent_span_id in by_id and span is not call:
                span = by_id[span.parent_span_id]
            assert span is call, f"{name} of {row.debt_id} does not descend from the Upload call"
    sent = [s for s in _named(in_trace, "mailer.send") if s.attributes.get("status") == "sent"]
    assert len(sent) == len(rows)

    # The batches are traces of their own, linked to the upload's.
    batches = [s for s in spans if s.name.endswith(" batch") and s.trace_id != trace_id]
    assert any(trace_id in s.link_trace_ids for s in batches)
    # So is each claim of the mailer's queue, linked to the traces of the e-mails it sends.
    assert any(trace_id in s.link_trace_ids for s in _named(spans, "mailer.deliver_batch"))
    # The mailer's PDF fetch is a client span, and the boleto service's answer its child.
    pdf_calls = _named(spans, "/boletos.v1.BoletoService/BatchGetBoletoPdfs")
    clients = {s.span_id for s in pdf_calls if s.kind == "client"}
    servers = [s for s in pdf_calls if s.kind == "server"]
    assert clients and servers and all(s.parent_span_id in clients for s in servers)
    # Health checks are not traced.
    assert not [s for s in spans if "grpc.health" in s.name]


async def test_no_span_holds_a_debtors_personal_data(
    receiver: Receiver, tmp_path: Path, nats_server
) -> None:
    rows = debtors(6)
    good, bad = rows[:5], rows[5]
    # Refused by ingest, the first for its address, the second for its amount.
    rejected = [
        bad.changed(email="sem.arroba.correio.example").line(),
        bad.changed(amount="-10", debt_id=f"{bad.debt_id[:-1]}0").line(),
    ]
    databases = tuple(f"sqlite:///{tmp_path / name}.db" for name in ("ingest", "boleto", "mailer"))
    await _upload_until_mailed(
        receiver,
        good,
        databases,  # type: ignore[arg-type]
        nats_server.url,
        refused=good[1].email,
        rejected=rejected,
    )
    spans = list(receiver.spans)
    assert [s.attributes.get("status") for s in _named(spans, "mailer.send")].count("failed") == 1
    assert len(_named(spans, "boleto.issue")) >= len(good)
    assert leaks(rows, [span.text() for span in spans]) == []
