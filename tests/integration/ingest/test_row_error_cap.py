"""Row errors per upload are capped: past the cap each rejected row is still counted, by code,
and nothing more is stored; the summary and `boletos errors` say so."""

from __future__ import annotations

from boletos.v1 import ingest_pb2
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, upload


async def test_errors_past_the_cap_are_counted_not_stored(database_url, nats_server) -> None:
    good = valid_rows(20, seed=5)
    bad_amount = [r.changed(amount="abc") for r in valid_rows(150, seed=6)]
    bad_email = [r.changed(email="nobody") for r in valid_rows(60, seed=7)]
    rows = [*good, *bad_amount, *bad_email]
    async with running_ingest(database_url, nats_server.url, INGEST_MAX_ROW_ERRORS="100") as svc:
        summary = await upload(svc.stub, csv_bytes(rows))
        assert (summary.accepted, summary.rejected) == (20, 210)
        assert summary.errors_listed == 100
        unlisted = {ingest_pb2.RowErrorCode.Name(c.code): c.count for c in summary.errors_unlisted}
        # The first 100 errors in line order are the amounts: 50 of them and 60 e-mails past.
        assert unlisted == {"ROW_ERROR_CODE_AMOUNT_INVALID": 50, "ROW_ERROR_CODE_EMAIL_INVALID": 60}
        listed = [
            e
            async for batch in svc.stub.ListRowErrors(
                ingest_pb2.ListRowErrorsRequest(upload_id=summary.upload_id)
            )
            for e in batch.row_errors
        ]
        assert len(listed) == 100
        assert [e.line for e in listed] == list(range(22, 122))
        again = await svc.stub.GetUpload(ingest_pb2.GetUploadRequest(upload_id=summary.upload_id))
        assert again.summary.errors_unlisted == summary.errors_unlisted
