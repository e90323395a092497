"""Uploads through the real service: counts, stored rows and the events on JetStream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2

from boletos.platform.errors import details_of
from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from tests.support.csvdata import HEADER, Row, csv_bytes, valid_rows
from tests.support.ingest import (
    imported_debts,
    requests,
    running_ingest,
    stream_message_count,
    upload,
)

COMPLETED = ingest_pb2.UPLOAD_STATE_COMPLETED


async def settle_outbox(nats_url: str, expected_messages: int, within: float = 20) -> int:
    """Waits until the stream holds the expected number of messages, then a little more to
    catch any extra one, and returns the count."""
    deadline = asyncio.get_running_loop().time() + within
    count = await stream_message_count(nats_url)
    while count < expected_messages and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        count = await stream_message_count(nats_url)
    await asyncio.sleep(1.5)
    return await stream_message_count(nats_url)


async def test_accepts_valid_rows_and_announces_each_once(database_url, nats_server):
    rows = valid_rows(2500)
    async with running_ingest(database_url, nats_server.url) as svc:
        summary = await upload(svc.stub, csv_bytes(rows), chunk_size=7000)
        assert summary.state == COMPLETED
        assert (summary.rows, summary.accepted, summary.duplicates) == (2500, 2500, 0)
        assert (summary.conflicts, summary.rejected) == (0, 0)

        debts = await imported_debts(nats_server.url, expected=2500)
        assert sorted(d.debt_id for d in debts) == sorted(r.debt_id for r in rows)
        by_id = {d.debt_id: d for d in debts}
        first = by_id[rows[0].debt_id]
        assert first.amount_cents == int(rows[0].amount) * 100
        assert first.line == 2
        assert first.email == rows[0].email
        # 1,000 debts per event
        assert await settle_outbox(nats_server.url, 3) == 3


async def test_resending_the_same_file_creates_and_publishes_nothing(database_url, nats_server):
    data = csv_bytes(valid_rows(1200))
    async with running_ingest(database_url, nats_server.url) as svc:
        first = await upload(svc.stub, data)
        assert first.accepted == 1200
        before = await settle_outbox(nats_server.url, 2)
        again = await upload(svc.stub, data)
        assert again.upload_id != first.upload_id
        assert (again.rows, again.accepted, again.duplicates, again.conflicts) == (1200, 0, 1200, 0)
        assert await settle_outbox(nats_server.url, before) == before == 2


async def test_duplicates_and_conflicts_within_and_across_files(database_url, nats_server):
    rows = valid_rows(30)
    twin = rows[3]
    changed = rows[4].changed(amount="999")
    first_file = csv_bytes([*rows, twin, changed])  # lines 32 and 33 repeat lines 5 and 6
    async with running_ingest(database_url, nats_server.url) as svc:
        summary = await upload(svc.stub, first_file)
        assert (summary.accepted, summary.duplicates, summary.conflicts) == (30, 1, 1)
        assert [(e.line, e.code) for e in summary.first_errors] == [
            (33, ingest_pb2.ROW_ERROR_CODE_DEBT_ID_CONFLICT)
        ]
        assert "line 6 of this upload" in summary.first_errors[0].message

        newcomer = valid_rows(1, seed=99)[0]
        second_file = csv_bytes([rows[0], rows[1].changed(email="other@example.com"), newcomer])
        second = await upload(svc.stub, second_file)
        assert (second.accepted, second.duplicates, second.conflicts) == (1, 1, 1)
        assert second.first_errors[0].line == 3
        assert summary.upload_id in second.first_errors[0].message

        debts = await imported_debts(nats_server.url, expected=31)
        assert len(debts) == 31
        assert {d.debt_id for d in debts} == {r.debt_id for r in rows} | {newcomer.debt_id}
        # The stored version is the first one seen, never overwritten.
        assert (
            next(d for d in debts if d.debt_id == rows[4].debt_id).amount_cents
            == int(rows[4].amount) * 100
        )


async def test_bad_rows_are_reported_and_good_rows_still_accepted(database_url, nats_server):
    good = valid_rows(150)
    bad = [f"Name {i},12a4,x{i}@example.com,10,2023-01-01,{good[0].debt_id}" for i in range(120)]
    lines: list[Row | str] = [*good[:50], *bad, *good[50:]]
    async with running_ingest(database_url, nats_server.url) as svc:
        summary = await upload(svc.stub, csv_bytes(lines))
        assert (summary.rows, summary.accepted, summary.rejected) == (270, 150, 120)
        assert len(summary.first_errors) == 100
        assert summary.first_errors[0].line == 52
        assert summary.first_errors[0].column == "governmentId"

        errors = []
        async for response in svc.stub.ListRowErrors(
            ingest_pb2.ListRowErrorsRequest(upload_id=summary.upload_id)
        ):
            errors.extend(response.row_errors)
        assert [e.line for e in errors] == list(range(52, 172))
        assert {e.code for e in errors} == {ingest_pb2.ROW_ERROR_CODE_GOVERNMENT_ID_INVALID}


async def test_a_bad_header_refuses_the_file_once(database_url, nats_server):
    data = csv_bytes(valid_rows(5), header="name,governmentId,email,amount,debtDueDate,debtId")
    async with running_ingest(database_url, nats_server.url) as svc:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await upload(svc.stub, data)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "missing column(s): debtAmount" in failure.value.details()
        assert "unknown column(s): amount" in failure.value.details()
        listed = await svc.stub.ListUploads(ingest_pb2.ListUploadsRequest())
        assert listed.uploads[0].state == ingest_pb2.UPLOAD_STATE_REJECTED


async def test_stream_must_start_with_a_header(database_url, nats_server):
    async with running_ingest(database_url, nats_server.url) as svc:

        async def headless() -> AsyncIterator[ingest_pb2.UploadRequest]:
            yield ingest_pb2.UploadRequest(chunk=csv_bytes(valid_rows(2)))

        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await svc.stub.Upload(headless())
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_cut_off_stream_keeps_whole_rows_and_a_resend_completes_it(database_url, nats_server):
    """A client that goes away mid-file: the upload turns INTERRUPTED at once (not when the
    idle timeout, set far beyond the wait here, would end it), keeps every row it had
    taken in and no half row, and sending the file again completes it exactly.

    What grpc had buffered but the service had not read when the call was cancelled is
    gone with the call; so the client cancels only once the service shows it has stored
    most of what was sent, and the test checks nothing stored is lost."""
    rows = valid_rows(3000)
    data = csv_bytes(rows)
    cut = len(data) // 2 + 17  # mid-row
    whole_rows_sent = data[:cut].count(b"\n") - 1
    async with running_ingest(
        database_url,
        nats_server.url,
        INGEST_BLOCK_BYTES="4096",
        INGEST_IDLE_TIMEOUT_SECONDS="600",
    ) as svc:

        async def partial() -> AsyncIterator[ingest_pb2.UploadRequest]:
            for request in requests(data[:cut], chunk_size=4096, end=False):
                yield request
            await asyncio.Event().wait()  # the client hangs, then goes away

        call = svc.stub.Upload(partial())
        stored = await _wait_for_rows(svc.stub, at_least=whole_rows_sent * 3 // 4)
        call.cancel()

        interrupted = await _wait_for_state(svc.stub, ingest_pb2.UPLOAD_STATE_INTERRUPTED)
        assert stored.rows <= interrupted.rows <= whole_rows_sent
        assert interrupted.accepted == interrupted.rows

        resent = await upload(svc.stub, data)
        assert resent.accepted == 3000 - interrupted.rows
        assert resent.duplicates == interrupted.rows

        debts = await imported_debts(nats_server.url, expected=3000)
        assert sorted(d.debt_id for d in debts) == sorted(r.debt_id for r in rows)


async def test_stream_without_end_message_is_interrupted_not_completed(database_url, nats_server):
    rows = valid_rows(40)
    data = csv_bytes(rows)
    cut = data.rindex(b"@")  # inside the last row's e-mail address
    async with running_ingest(database_url, nats_server.url) as svc:

        async def unfinished() -> AsyncIterator[ingest_pb2.UploadRequest]:
            for request in requests(data[:cut], chunk_size=100, end=False):
                yield request

        response = await svc.stub.Upload(unfinished())
        assert response.summary.state == ingest_pb2.UPLOAD_STATE_INTERRUPTED
        # The half-received last row is neither accepted nor reported as an error.
        assert (response.summary.rows, response.summary.accepted) == (39, 39)
        assert response.summary.rejected == 0


async def test_end_message_with_wrong_size_is_data_loss(database_url, nats_server):
    data = csv_bytes(valid_rows(10))
    async with running_ingest(database_url, nats_server.url) as svc:

        async def lying() -> AsyncIterator[ingest_pb2.UploadRequest]:
            for request in requests(data, end=False):
                yield request
            yield ingest_pb2.UploadRequest(end=ingest_pb2.UploadEnd(total_bytes=len(data) + 5))

        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await svc.stub.Upload(lying())
        assert failure.value.code() == grpc.StatusCode.DATA_LOSS


async def test_same_request_id_returns_the_completed_upload(database_url, nats_server):
    data = csv_bytes(valid_rows(10))
    async with running_ingest(database_url, nats_server.url) as svc:
        first = await upload(svc.stub, data, request_id="batch-2024-11-26")
        again = await upload(svc.stub, data, request_id="batch-2024-11-26")
        assert again.upload_id == first.upload_id
        assert again.accepted == 10
        listed = await svc.stub.ListUploads(ingest_pb2.ListUploadsRequest())
        assert len(listed.uploads) == 1

        # The same id with other bytes is a mistake to report, not the earlier upload.
        other = csv_bytes(valid_rows(11))
        with pytest.raises(grpc.aio.AioRpcError) as reused:
            await upload(svc.stub, other, request_id="batch-2024-11-26")
        assert reused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert first.upload_id in (reused.value.details() or "")
        (info, *_) = details_of(reused.value)
        assert isinstance(info, error_details_pb2.ErrorInfo)
        assert (info.reason, info.metadata["upload_id"]) == ("REQUEST_ID_REUSED", first.upload_id)
        listed = await svc.stub.ListUploads(ingest_pb2.ListUploadsRequest())
        assert len(listed.uploads) == 1


async def test_bom_crlf_and_reordered_columns(database_url, nats_server):
    rows = valid_rows(20)
    header = "debtID, email ,name,governmentId,debtAmount,debtDueDate"
    lines = [
        f"{r.debt_id.upper()},{r.email},{r.name} ,{r.government_id},{r.amount},{r.due}"
        for r in rows
    ]
    data = b"\xef\xbb\xbf" + csv_bytes(lines, header=header, newline="\r\n")
    async with running_ingest(database_url, nats_server.url) as svc:
        summary = await upload(svc.stub, data, chunk_size=33)
        assert (summary.rows, summary.accepted, summary.rejected) == (20, 20, 0)
        debts = await imported_debts(nats_server.url, expected=20)
        assert {d.debt_id for d in debts} == {r.debt_id for r in rows}
        assert {d.name for d in debts} == {r.name for r in rows}


async def test_get_and_list_uploads_and_unknown_ids(database_url, nats_server):
    async with running_ingest(database_url, nats_server.url) as svc:
        ids = [
            (await upload(svc.stub, csv_bytes(valid_rows(3, seed=s)))).upload_id for s in range(3)
        ]
        got = await svc.stub.GetUpload(ingest_pb2.GetUploadRequest(upload_id=ids[1]))
        assert got.summary.accepted == 3
        page = await svc.stub.ListUploads(ingest_pb2.ListUploadsRequest(page_size=2))
        assert [u.upload_id for u in page.uploads] == ids[:0:-1]
        rest = await svc.stub.ListUploads(
            ingest_pb2.ListUploadsRequest(page_size=2, page_token=page.next_page_token)
        )
        assert [u.upload_id for u in rest.uploads] == ids[:1]
        assert rest.next_page_token == ""
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await svc.stub.GetUpload(
                ingest_pb2.GetUploadRequest(upload_id="00000000-0000-4000-8000-000000000000")
            )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def _wait_for_rows(
    stub: ingest_pb2_grpc.IngestServiceStub, at_least: int, within: float = 30
) -> ingest_pb2.UploadSummary:
    """The receiving upload once the service has stored `at_least` rows of it."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        listed = await stub.ListUploads(ingest_pb2.ListUploadsRequest())
        if listed.uploads and listed.uploads[0].rows >= at_least:
            assert listed.uploads[0].state == ingest_pb2.UPLOAD_STATE_RECEIVING
            return listed.uploads[0]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the service never stored {at_least} rows: {listed.uploads[:1]}")
        await asyncio.sleep(0.1)


async def _wait_for_state(
    stub: ingest_pb2_grpc.IngestServiceStub,
    state: ingest_pb2.UploadState,
    within: float = 15,
) -> ingest_pb2.UploadSummary:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        listed = await stub.ListUploads(ingest_pb2.ListUploadsRequest())
        if listed.uploads and listed.uploads[0].state == state:
            return listed.uploads[0]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"upload never reached {state}: {listed.uploads[:1]}")
        await asyncio.sleep(0.1)


def test_header_constant_matches_contract() -> None:
    assert HEADER.split(",") == [
        "name",
        "governmentId",
        "email",
        "debtAmount",
        "debtDueDate",
        "debtId",
    ]
