"""Events from NATS are untrusted input: hand-crafted hostile ones, published to a real
nats-server, are refused one by one with a reason, acked, and never applied, while the good
ones beside them go through."""

from __future__ import annotations

import functools
import uuid
from typing import Any

import nats
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY

from boleto_service.messaging.debts_consumer import DURABLE as BOLETO_DURABLE
from boletos.platform.nats_streams import SUBJECT_BOLETOS_PAID, SUBJECT_DEBTS_IMPORTED
from boletos.v1 import boleto_pb2, events_pb2, ingest_pb2, ingest_pb2_grpc
from ingest_service.messaging.payments_consumer import SPEC as PAYMENTS
from ingest_service.messaging.progress_consumer import ROUTES
from tests.support.boleto import announced, running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, upload
from tests.support.waiting import wait_until

UPLOAD = str(uuid.uuid4())


def _debt(**fields: Any) -> events_pb2.ImportedDebt:
    good: dict[str, Any] = {
        "debt_id": str(uuid.uuid4()),
        "name": "Fulano de Tal",
        "government_id": "52998224725",
        "email": "fulano@example.com",
        "amount_cents": 12_345,
        "due_date": "2030-01-15",
        "line": 2,
        "government_id_kind": events_pb2.GOVERNMENT_ID_KIND_CPF,
    }
    return events_pb2.ImportedDebt(**(good | fields))


# (the hostile debt, the field its refusal names)
HOSTILE = [
    (_debt(amount_cents=0), "amount_cents"),
    (_debt(amount_cents=-500), "amount_cents"),
    (_debt(amount_cents=10_000_000_000), "amount_cents"),
    (_debt(due_date="15/01/2030"), "due_date"),
    (_debt(government_id="529.982.247-25"), "government_id"),
    (_debt(email="a@example.com\r\nBcc: everyone@example.com"), "email"),
    (_debt(name="x" * 5000), "name"),
    (_debt(discount_cents=500, discount_until="soon"), "discount"),
]


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels or None) or 0.0


async def _settled(js: nats.js.JetStreamContext, stream: str, durable: str) -> bool:
    """The consumer acked every message on its subject: nothing loops, nothing waits."""
    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        return False
    return info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 0


async def test_malformed_debts_are_refused_each_with_a_reason(database_url, nats_server):
    good = _debt()
    unkeyed = [_debt(debt_id=""), _debt(debt_id="not-a-uuid"), _debt(debt_id=good.debt_id.upper())]
    before = _sample("boletos_debts_malformed_total", field="debt_id")
    async with running_boleto(database_url, nats_server.url) as boleto:
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            event = events_pb2.DebtsImported(
                upload_id=UPLOAD, debts=[good, *(d for d, _f in HOSTILE), *unkeyed]
            )
            await js.publish(SUBJECT_DEBTS_IMPORTED, event.SerializeToString())
            # A whole event naming no upload: its ids would go into rows and message ids.
            stray = events_pb2.DebtsImported(upload_id="x" * 100, batch_seq=1, debts=[_debt()])
            await js.publish(SUBJECT_DEBTS_IMPORTED, stray.SerializeToString())
            await wait_until(lambda: _settled(js, "INGEST", BOLETO_DURABLE), within=60)
        finally:
            await nc.close()
        issued = await announced(nats_server.url, "boleto.boletos.issued", 1, within=60)
        failed = await announced(nats_server.url, "boleto.boletos.failed", len(HOSTILE), within=60)
        assert [b.debt_id for b in issued] == [good.debt_id]
        reasons = {f.debt_id: f.reason for f in failed}
        assert set(reasons) == {d.debt_id for d, _f in HOSTILE}
        for debt, field in HOSTILE:
            assert reasons[debt.debt_id].startswith(field)
            # The reason names the rule, never the value.
            assert debt.email not in reasons[debt.debt_id]
        assert (await boleto.stub.GetBoleto(_get(good.debt_id))).boleto.debt_id == good.debt_id
    assert _sample("boletos_debts_malformed_total", field="debt_id") - before == len(unkeyed)


def _get(debt_id: str) -> boleto_pb2.GetBoletoRequest:
    return boleto_pb2.GetBoletoRequest(debt_id=debt_id)


def _paid(debt_id: str, uid: str, cents: int) -> events_pb2.PaidBoleto:
    return events_pb2.PaidBoleto(
        debt_id=debt_id, upload_id=uid, paid_cents=cents, paid_on="2030-01-10"
    )


async def _paid_cents(stub: ingest_pb2_grpc.IngestServiceStub, uid: str) -> dict[str, int]:
    request = ingest_pb2.GetUploadReportRequest(upload_id=uid)
    return {
        line.debt_id: line.paid_cents
        async for batch in stub.GetUploadReport(request)
        for line in batch.lines
    }


async def test_a_payment_of_nothing_is_refused_and_the_real_one_still_counts(
    database_url, nats_server, caplog
):
    rows = valid_rows(3, seed=91)
    before = _sample("boletos_ingest_payments_refused_total")
    async with running_ingest(database_url, nats_server.url) as svc:
        summary = await upload(svc.stub, csv_bytes(rows))
        uid = summary.upload_id
        hostile = [
            _paid(rows[0].debt_id, uid, 0),
            _paid(rows[1].debt_id, uid, -100),
            _paid(rows[2].debt_id, uid, 2**62),
        ]
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            await js.publish(
                SUBJECT_BOLETOS_PAID, events_pb2.BoletosPaid(boletos=hostile).SerializeToString()
            )
            await wait_until(lambda: _settled(js, PAYMENTS.stream, PAYMENTS.durable), within=60)
            assert await _paid_cents(svc.stub, uid) == {r.debt_id: 0 for r in rows}

            # The debt's real payment, after the refused ones, is the one that counts.
            real = events_pb2.BoletosPaid(boletos=[_paid(rows[0].debt_id, uid, 4_321)])
            await js.publish(SUBJECT_BOLETOS_PAID, real.SerializeToString())

            async def counted() -> bool:
                return (await _paid_cents(svc.stub, uid))[rows[0].debt_id] > 0

            await wait_until(counted, within=60)
            assert await _paid_cents(svc.stub, uid) == {
                rows[0].debt_id: 4_321,
                rows[1].debt_id: 0,
                rows[2].debt_id: 0,
            }
        finally:
            await nc.close()
    assert _sample("boletos_ingest_payments_refused_total") - before == 3
    refused = [r for r in caplog.records if r.getMessage() == "payments.refused"]
    assert sorted(getattr(r, "debt_id", "") for r in refused) == sorted(r.debt_id for r in rows)
    assert {getattr(r, "upload_id", "") for r in refused} == {uid}


ISSUED_AND_FAILED = [r.spec.durable for r in ROUTES if r.stream == "BOLETO"]


async def _progress(stub: ingest_pb2_grpc.IngestServiceStub, uid: str) -> tuple[int, int]:
    watch = stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=uid))
    got = (await watch.read()).progress
    watch.cancel()
    return got.boletos_issued, got.boletos_failed


async def test_progress_for_another_uploads_debts_or_made_up_ids_moves_nothing(
    database_url, nats_server
):
    refused_before = _sample("boletos_events_refused_total", event="boleto.boletos.issued")
    async with running_ingest(database_url, nats_server.url) as svc:
        mine = valid_rows(2, seed=71)
        theirs = valid_rows(2, seed=72)
        a = (await upload(svc.stub, csv_bytes(mine))).upload_id
        b = (await upload(svc.stub, csv_bytes(theirs))).upload_id
        forged = [
            # Upload A's debt, claimed for upload B: B's counts would move for a debt not its.
            events_pb2.IssuedBoleto(debt_id=mine[0].debt_id, upload_id=b, nosso_numero="1"),
            # An upload nobody made.
            events_pb2.IssuedBoleto(debt_id=mine[1].debt_id, upload_id=str(uuid.uuid4())),
            # Ids this service never writes.
            events_pb2.IssuedBoleto(debt_id="x" * 200, upload_id=a),
            events_pb2.IssuedBoleto(debt_id=mine[0].debt_id.upper(), upload_id=a),
            events_pb2.IssuedBoleto(debt_id=mine[0].debt_id, upload_id=""),
            events_pb2.IssuedBoleto(debt_id=mine[1].debt_id, upload_id=a, nosso_numero="9" * 600),
        ]
        genuine = events_pb2.IssuedBoleto(debt_id=theirs[0].debt_id, upload_id=b, nosso_numero="2")
        failed = events_pb2.FailedBoleto(debt_id=mine[1].debt_id, upload_id=b, reason="forged")
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            issued = events_pb2.BoletosIssued(boletos=[*forged, genuine])
            await js.publish("boleto.boletos.issued", issued.SerializeToString())
            no_boleto = events_pb2.BoletosFailed(failures=[failed])
            await js.publish("boleto.boletos.failed", no_boleto.SerializeToString())

            async def genuine_counted() -> bool:
                return await _progress(svc.stub, b) == (1, 0)

            await wait_until(genuine_counted, within=60)
            for durable in ISSUED_AND_FAILED:
                await wait_until(functools.partial(_settled, js, "BOLETO", durable), within=60)
        finally:
            await nc.close()
        assert await _progress(svc.stub, a) == (0, 0)
        assert await _progress(svc.stub, b) == (1, 0)
        report = await _report(svc.stub, a)
        assert all(not line.error for line in report), "a forged failure was kept"
    assert _sample("boletos_events_refused_total", event="boleto.boletos.issued") == (
        refused_before + 4
    )


async def _report(stub: ingest_pb2_grpc.IngestServiceStub, uid: str) -> list[Any]:
    request = ingest_pb2.GetUploadReportRequest(upload_id=uid)
    return [line async for batch in stub.GetUploadReport(request) for line in batch.lines]
