"""GetUploadReport and ``boletos report``: one line per data row of the file, in line order,
with what the upload did with the row and what became of its boleto and e-mail."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from collections.abc import Mapping, Sequence

import nats

from boletos.platform.nats_streams import (
    SUBJECT_BOLETOS_FAILED,
    SUBJECT_BOLETOS_ISSUED,
    SUBJECT_EMAILS_FAILED,
    SUBJECT_EMAILS_SENT,
)
from boletos.v1 import events_pb2, ingest_pb2, ingest_pb2_grpc
from tests.support.csvdata import Row, csv_bytes, valid_rows
from tests.support.ingest import running_ingest, upload

CSV_HEADER = [
    "line",
    "debtId",
    "outcome",
    "boletoStatus",
    "nossoNumero",
    "emailStatus",
    "error",
    "paidAmount",
    "paidOn",
]


async def report(
    stub: ingest_pb2_grpc.IngestServiceStub, upload_id: str
) -> list[ingest_pb2.ReportLine]:
    lines: list[ingest_pb2.ReportLine] = []
    async for batch in stub.GetUploadReport(ingest_pb2.GetUploadReportRequest(upload_id=upload_id)):
        lines.extend(batch.lines)
    return lines


def outcome(line: ingest_pb2.ReportLine) -> str:
    return ingest_pb2.RowOutcome.Name(line.outcome).removeprefix("ROW_OUTCOME_").lower()


async def settled(
    stub: ingest_pb2_grpc.IngestServiceStub, upload_id: str, within: float = 30
) -> ingest_pb2.UploadProgress:
    async with asyncio.timeout(within):
        async for response in stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=upload_id)):
            if response.progress.settled:
                return response.progress
    raise AssertionError("the upload never settled")


async def cli(*args: str) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "boletos_cli", *args, stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, stdout
    return stdout


async def test_report_accounts_for_every_line_of_the_file(database_url, nats_server, tmp_path):
    rows = valid_rows(12, seed=31)
    lines: list[Row | str] = [
        rows[0],  # 2
        rows[1],  # 3
        rows[2].changed(email="not-an-address"),  # 4 rejected, its debtId still named
        rows[3],  # 5 e-mail will fail
        "",  # 6 blank: not a row
        rows[4],  # 7 boleto will fail
        rows[0],  # 8 the same row again: duplicate
        rows[1].changed(amount="777"),  # 9 same debtId, other content: conflict
        "only,three,values",  # 10 rejected, no debtId
        rows[5].changed(debt_id="not-a-uuid"),  # 11 rejected, no valid debtId
        *rows[6:],  # 12..17
    ]
    data = csv_bytes(lines)
    accepted = [rows[0], rows[1], rows[3], rows[4], *rows[6:]]
    nosso = {r.debt_id: f"{i:011d}" for i, r in enumerate(accepted, 1) if r is not rows[4]}
    expected = [
        (2, rows[0].debt_id, "accepted"),
        (3, rows[1].debt_id, "accepted"),
        (4, rows[2].debt_id, "rejected"),
        (5, rows[3].debt_id, "accepted"),
        (7, rows[4].debt_id, "accepted"),
        (8, rows[0].debt_id, "duplicate"),
        (9, rows[1].debt_id, "conflict"),
        (10, "", "rejected"),
        (11, "", "rejected"),
        *((12 + i, r.debt_id, "accepted") for i, r in enumerate(rows[6:])),
    ]
    async with running_ingest(database_url, nats_server.url) as svc:
        summary = await upload(svc.stub, data)
        uid = summary.upload_id
        assert (summary.rows, summary.accepted, summary.duplicates) == (15, 10, 1)
        assert (summary.conflicts, summary.rejected) == (1, 3)

        # Before the pipeline moves: every accepted debt waits for its boleto.
        before = await report(svc.stub, uid)
        assert [(r.line, r.debt_id, outcome(r)) for r in before] == expected
        assert {r.boleto_status for r in before if outcome(r) == "accepted"} == {
            ingest_pb2.BOLETO_STATUS_PENDING
        }

        await _pipeline_events(nats_server.url, uid, accepted, nosso, rows[4], rows[3])
        progress = await settled(svc.stub, uid)
        assert (progress.boletos_failed, progress.emails_sent, progress.emails_failed) == (1, 8, 1)

        after = await report(svc.stub, uid)
        assert [(r.line, r.debt_id, outcome(r)) for r in after] == expected
        by_line = {r.line: r for r in after}
        sent = by_line[2]
        assert sent.boleto_status == ingest_pb2.BOLETO_STATUS_ISSUED
        assert sent.nosso_numero == nosso[rows[0].debt_id]
        assert (sent.email_status, sent.error) == (ingest_pb2.EMAIL_STATUS_SENT, "")
        bounced = by_line[5]
        assert bounced.email_status == ingest_pb2.EMAIL_STATUS_FAILED
        assert bounced.nosso_numero == nosso[rows[3].debt_id]
        assert "550 5.1.1 mailbox unavailable" in bounced.error
        no_boleto = by_line[7]
        assert no_boleto.boleto_status == ingest_pb2.BOLETO_STATUS_FAILED
        assert (no_boleto.nosso_numero, no_boleto.email_status) == ("", 0)
        assert "due date" in no_boleto.error
        assert "email" in by_line[4].error and by_line[4].boleto_status == 0
        assert "already known with different content" in by_line[9].error
        assert "expected 6 values" in by_line[10].error
        assert "not a UUID" in by_line[11].error
        # A duplicate shows the debt it repeats: the same boleto, the same e-mail.
        assert by_line[8].nosso_numero == nosso[rows[0].debt_id]
        assert by_line[8].email_status == ingest_pb2.EMAIL_STATUS_SENT

        # The same report through the command line, to a file and to stdout.
        target = tmp_path / "report.csv"
        await cli("--ingest", svc.address, "report", uid, "-o", str(target))
        from_file = list(csv.reader(target.open(newline="", encoding="utf-8")))
        printed = await cli("--ingest", svc.address, "report", uid)
        from_stdout = list(csv.reader(io.StringIO(printed.decode())))
        assert from_file == from_stdout
        assert from_file[0] == CSV_HEADER
        assert len(from_file) - 1 == summary.rows
        assert from_file[1] == [
            "2",
            rows[0].debt_id,
            "accepted",
            "issued",
            nosso[rows[0].debt_id],
            "sent",
            "",
            "",  # not paid yet
            "",
        ]
        assert from_file[4][:6] == [
            "5",
            rows[3].debt_id,
            "accepted",
            "issued",
            nosso[rows[3].debt_id],
            "failed",
        ]
        assert from_file[5][:6] == ["7", rows[4].debt_id, "accepted", "failed", "", ""]
        assert [(int(r[0]), r[1], r[2]) for r in from_file[1:]] == expected
        assert not list(tmp_path.glob("*.partial"))

        # The same file again: every row stored before is now a duplicate.
        again = await upload(svc.stub, data)
        resent = await report(svc.stub, again.upload_id)
        assert [(r.line, r.debt_id, outcome(r)) for r in resent] == [
            (line, debt_id, "duplicate" if kind in ("accepted", "duplicate") else kind)
            for line, debt_id, kind in expected
        ]
        assert again.duplicates == sum(1 for r in resent if outcome(r) == "duplicate") == 11


async def _pipeline_events(
    nats_url: str,
    uid: str,
    accepted: Sequence[Row],
    nosso: Mapping[str, str],
    no_boleto: Row,
    bounced: Row,
) -> None:
    """What the boleto and mailer services would publish for this upload."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        issued = [r for r in accepted if r is not no_boleto]
        await js.publish(
            SUBJECT_BOLETOS_ISSUED,
            events_pb2.BoletosIssued(
                boletos=[
                    events_pb2.IssuedBoleto(
                        debt_id=r.debt_id, upload_id=uid, nosso_numero=nosso[r.debt_id]
                    )
                    for r in issued
                ]
            ).SerializeToString(),
        )
        await js.publish(
            SUBJECT_BOLETOS_FAILED,
            events_pb2.BoletosFailed(
                failures=[
                    events_pb2.FailedBoleto(
                        debt_id=no_boleto.debt_id,
                        upload_id=uid,
                        reason="due date outside the payable window",
                    )
                ]
            ).SerializeToString(),
        )
        await js.publish(
            SUBJECT_EMAILS_SENT,
            events_pb2.EmailsSent(
                emails=[
                    events_pb2.SentEmail(debt_id=r.debt_id, upload_id=uid)
                    for r in issued
                    if r is not bounced
                ]
            ).SerializeToString(),
        )
        await js.publish(
            SUBJECT_EMAILS_FAILED,
            events_pb2.EmailsFailed(
                emails=[
                    events_pb2.FailedEmail(
                        debt_id=bounced.debt_id,
                        upload_id=uid,
                        reason="RCPT refused: 550 5.1.1 mailbox unavailable",
                        smtp_code=550,
                    )
                ]
            ).SerializeToString(),
        )
    finally:
        await nc.close()


async def test_report_of_a_large_file_follows_the_file_across_blocks_and_pages(
    database_url, nats_server
):
    rows = valid_rows(2600, seed=32)
    lines: list[Row] = []
    expected = []
    stored: set[str] = set()
    for i, row in enumerate(rows):
        line = len(lines) + 2
        if i % 97 == 5:
            lines.append(row.changed(due="2023-02-30"))
            expected.append((line, row.debt_id, "rejected"))
            continue
        if i % 151 == 7:
            row = rows[i - 3]  # a repeat of a row a few lines up
        lines.append(row)
        expected.append((line, row.debt_id, "duplicate" if row.debt_id in stored else "accepted"))
        stored.add(row.debt_id)
    data = csv_bytes(lines)
    async with running_ingest(database_url, nats_server.url, INGEST_BLOCK_BYTES="4096") as svc:
        first = await upload(svc.stub, data, chunk_size=5000)
        got = await report(svc.stub, first.upload_id)
        assert [(r.line, r.debt_id, outcome(r)) for r in got] == expected

        again = await upload(svc.stub, data, chunk_size=5000)
        got = await report(svc.stub, again.upload_id)
        assert [(r.line, r.debt_id, outcome(r)) for r in got] == [
            (line, debt_id, "rejected" if kind == "rejected" else "duplicate")
            for line, debt_id, kind in expected
        ]
