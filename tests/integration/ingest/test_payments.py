"""Payments the boleto service announces (BoletosPaid) reach WatchUpload, the upload's report
and the metrics: once per debt, however often the same payment is heard of."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Sequence

import nats
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY

from boletos.platform.nats_streams import (
    SUBJECT_BOLETOS_ISSUED,
    SUBJECT_BOLETOS_PAID,
    SUBJECT_EMAILS_SENT,
)
from boletos.v1 import events_pb2, ingest_pb2, ingest_pb2_grpc
from ingest_service.domain.payments import ReadPayments, read_payments
from ingest_service.domain.upload import BlockCounts
from ingest_service.messaging.payments_consumer import SPEC
from ingest_service.service.events import upload_completed
from ingest_service.store.engine import create_engine, upgrade_schema
from ingest_service.store.repository import IngestStore
from tests.support.csvdata import Row, csv_bytes, valid_rows
from tests.support.ingest import running_ingest, upload
from tests.support.waiting import wait_until

METRICS = (
    "boletos_ingest_debts_paid_total",
    "boletos_ingest_paid_cents_total",
    "boletos_ingest_payments_unmatched_total",
)


def _metrics() -> tuple[float, ...]:
    return tuple(REGISTRY.get_sample_value(name) or 0.0 for name in METRICS)


def _paid(row: Row, uid: str, paid_cents: int, paid_on: str) -> events_pb2.PaidBoleto:
    charged = int(row.amount) * 100
    return events_pb2.PaidBoleto(
        debt_id=row.debt_id,
        upload_id=uid,
        amount_cents=charged,
        paid_cents=paid_cents,
        fee_cents=150,
        paid_on=paid_on,
        amount_differs=paid_cents != charged,
    )


async def _report(
    stub: ingest_pb2_grpc.IngestServiceStub, upload_id: str
) -> list[ingest_pb2.ReportLine]:
    lines: list[ingest_pb2.ReportLine] = []
    async for batch in stub.GetUploadReport(ingest_pb2.GetUploadReportRequest(upload_id=upload_id)):
        lines.extend(batch.lines)
    return lines


async def _everything_acked(js: nats.js.JetStreamContext) -> bool:
    """The payments consumer settled every message on its subject: whatever they changed is
    committed."""
    try:
        info = await js.consumer_info(SPEC.stream, SPEC.durable)
    except NotFoundError:
        return False  # not bound yet
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_payments_reach_watch_report_and_metrics_once_per_debt(
    database_url, nats_server, caplog
):
    caplog.set_level(logging.INFO, logger="payments")
    rows = valid_rows(8, seed=43)
    # Line 10 repeats line 2: a duplicate row shows its debt's payment as it shows its boleto.
    data = csv_bytes([*rows, rows[0]])
    stranger = str(uuid.uuid4())
    charged = {r.debt_id: int(r.amount) * 100 for r in rows}
    expected = {
        rows[0].debt_id: (charged[rows[0].debt_id], "2026-11-30"),
        rows[1].debt_id: (charged[rows[1].debt_id] - 1_234, "2026-12-01"),
        rows[2].debt_id: (charged[rows[2].debt_id] + 987, "2026-12-02"),
        rows[3].debt_id: (charged[rows[3].debt_id], "2026-12-03"),
    }
    before = _metrics()
    async with running_ingest(database_url, nats_server.url) as svc:
        summary = await upload(svc.stub, data)
        uid = summary.upload_id
        assert (summary.accepted, summary.duplicates) == (8, 1)
        first = [
            _paid(rows[0], uid, charged[rows[0].debt_id], "2026-11-30"),
            # Paid short and paid over: counted for what was paid.
            _paid(rows[1], uid, charged[rows[1].debt_id] - 1_234, "2026-12-01"),
            _paid(rows[2], uid, charged[rows[2].debt_id] + 987, "2026-12-02"),
        ]

        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            await js.publish(
                SUBJECT_BOLETOS_ISSUED,
                events_pb2.BoletosIssued(
                    boletos=[
                        events_pb2.IssuedBoleto(
                            debt_id=r.debt_id, upload_id=uid, nosso_numero=f"{i:011d}"
                        )
                        for i, r in enumerate(rows, 1)
                    ]
                ).SerializeToString(),
            )
            watch = svc.stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=uid))
            progress = (await watch.read()).progress
            assert (progress.boletos_paid, progress.paid_cents) == (0, 0)

            paid = events_pb2.BoletosPaid(boletos=first).SerializeToString()
            await js.publish(SUBJECT_BOLETOS_PAID, paid)
            # The same event again, as a redelivery or a retorno processed twice sends it.
            await js.publish(SUBJECT_BOLETOS_PAID, paid)
            await js.publish(
                SUBJECT_BOLETOS_PAID,
                events_pb2.BoletosPaid(
                    boletos=[
                        # Another word on a debt already paid: the first payment stands.
                        _paid(rows[0], uid, 1, "2027-01-15"),
                        _paid(rows[3], uid, charged[rows[3].debt_id], "2026-12-03"),
                        _paid(rows[3], uid, charged[rows[3].debt_id], "2026-12-03"),
                        events_pb2.PaidBoleto(
                            debt_id=stranger, upload_id=uid, paid_cents=5_000, paid_on="2026-12-03"
                        ),
                        events_pb2.PaidBoleto(debt_id="not-an-id", paid_cents=5_000),
                    ]
                ).SerializeToString(),
            )
            await wait_until(lambda: _everything_acked(js), within=30)

            # The open watch moves with the payments, before the upload has settled.
            async with asyncio.timeout(30):
                while progress.boletos_paid < 4:
                    progress = (await watch.read()).progress
            assert progress.boletos_paid == 4
            assert progress.paid_cents == sum(cents for cents, _day in expected.values())
            assert not progress.settled

            await js.publish(
                SUBJECT_EMAILS_SENT,
                events_pb2.EmailsSent(
                    emails=[events_pb2.SentEmail(debt_id=r.debt_id, upload_id=uid) for r in rows]
                ).SerializeToString(),
            )
            async with asyncio.timeout(30):
                while not progress.settled:
                    progress = (await watch.read()).progress
        finally:
            await nc.close()
        assert (progress.boletos_issued, progress.emails_sent) == (8, 8)
        assert progress.boletos_paid == 4
        assert progress.paid_cents == sum(cents for cents, _day in expected.values())

        # Settled and paid: a new watch still shows the payments.
        async for response in svc.stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=uid)):
            assert response.progress == progress

        lines = await _report(svc.stub, uid)
        shown = {(r.line, r.debt_id): (r.paid_cents, r.paid_on) for r in lines}
        assert shown == {
            (i + 2, r.debt_id): expected.get(r.debt_id, (0, "")) for i, r in enumerate(rows)
        } | {(10, rows[0].debt_id): expected[rows[0].debt_id]}
        by_line = {r.line: r for r in lines}
        assert by_line[10].outcome == ingest_pb2.ROW_OUTCOME_DUPLICATE
        assert by_line[2].boleto_status == ingest_pb2.BOLETO_STATUS_ISSUED

    after = _metrics()
    assert after[0] - before[0] == 4
    assert after[1] - before[1] == sum(cents for cents, _day in expected.values())
    assert after[2] - before[2] == 2  # the stranger and the unreadable id

    unknown = [r for r in caplog.records if r.getMessage() == "payments.unknown_debts"]
    assert [getattr(r, "debt_ids", None) for r in unknown] == [[stranger]]
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for row in rows:
        assert row.name not in logged
        assert row.email not in logged
        assert f"'{row.government_id}'" not in logged


def _store_with_debts(database_url: str, count: int) -> tuple[IngestStore, str, list[str]]:
    """A store holding one upload's accepted debts, stored the way a block write does."""
    engine = create_engine(database_url)
    upgrade_schema(engine)
    store = IngestStore(engine, upload_completed)
    up = store.create_upload("f.csv", "")
    ids = [str(uuid.uuid4()) for _ in range(count)]
    tx = store.begin_blocks()
    for start in range(0, count, 50_000):
        part = ids[start : start + 50_000]
        tx.debts.store_block(
            up.upload_no, [(uuid.UUID(d).bytes, 7, start + i + 2) for i, d in enumerate(part)]
        )
    tx.add_counts(up.upload_no, BlockCounts(rows=count, accepted=count))
    tx.commit()
    return store, up.upload_id, ids


def _payments(ids: Sequence[str]) -> list[tuple[str, int, str]]:
    """A payment for each debt, each of its own amount."""
    return [(d, 100 + i, "2026-12-01") for i, d in enumerate(ids)]


def test_replicas_recording_the_same_payments_at_once_count_each_debt_once(database_url):
    store, uid, ids = _store_with_debts(database_url, 600)
    other = IngestStore(create_engine(database_url), upload_completed)
    # Overlapping batches in opposite orders: each replica writes what the other has not.
    every = _payments(ids)
    batches = [read_payments(every[:400]), read_payments(every[200:][::-1])]
    start = threading.Barrier(2)
    results = []

    def replica(s: IngestStore, batch: ReadPayments) -> None:
        start.wait()
        results.append(s.record_payments(batch.payments))

    threads = [
        threading.Thread(target=replica, args=(s, b))
        for s, b in zip((store, other), batches, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2
    assert sum(r.debts for r in results) == 600
    assert sum(r.already_paid for r in results) == 200
    got = store.get_upload(uid)
    assert got is not None
    assert got.boletos_paid == 600
    assert got.paid_cents == sum(r.cents for r in results) == sum(c for _d, c, _on in every)

    # Everything again, as a retorno processed a second time: nothing moves.
    again = store.record_payments(read_payments(_payments(ids)).payments)
    assert (again.debts, again.already_paid, again.unknown) == (0, 600, [])
    assert store.get_upload(uid) == got
    store.engine.dispose()
    other.engine.dispose()


def test_a_debt_the_store_does_not_know_is_named_and_counts_nothing(database_url):
    store, uid, ids = _store_with_debts(database_url, 3)
    stranger = uuid.uuid4()
    done = store.record_payments(
        read_payments([*_payments(ids[:2]), (str(stranger), 500, "2026-12-01")]).payments
    )
    assert (done.debts, done.cents, done.unknown) == (2, 201, [stranger.bytes])
    got = store.get_upload(uid)
    assert got is not None and (got.boletos_paid, got.paid_cents) == (2, 201)
    store.engine.dispose()


def test_cost_per_paid_debt(database_url, capsys):
    """Not a pass/fail bound: prints what recording a payment costs, for sizing a day of
    retornos. Run with -s to see it."""
    count = 20_000
    store, uid, ids = _store_with_debts(database_url, count)
    payments = read_payments(_payments(ids)).payments
    started = time.perf_counter()
    for start in range(0, count, 1000):
        store.record_payments(payments[start : start + 1000])
    first = time.perf_counter() - started
    started = time.perf_counter()
    store.record_payments(payments)
    repeat = time.perf_counter() - started
    got = store.get_upload(uid)
    assert got is not None and got.boletos_paid == count
    with capsys.disabled():
        print(
            f"\n{store.engine.dialect.name}: {first / count * 1e6:.1f} us per paid debt "
            f"(batches of 1000), {repeat / count * 1e6:.1f} us per payment heard again"
        )
    store.engine.dispose()
