"""Gathers what an upload's notification tells: its first failures and, for channels that
carry files, its report as CSV (unless it outgrows what an e-mail can carry)."""

from __future__ import annotations

import csv
import io

from boletos.report_columns import REPORT_CSV_HEADER
from boletos.v1 import events_pb2
from ingest_service.domain.report import csv_row
from ingest_service.domain.upload import Upload
from ingest_service.notifications.summary import (
    MAX_FAILURES_SHOWN,
    Attachment,
    Notice,
    Report,
    upload_notice,
)
from ingest_service.store.repository import IngestStore


def build_upload_notice(
    store: IngestStore,
    event: events_pb2.UploadCompleted,
    with_report: bool,
    report_max_bytes: int,
) -> Notice:
    """Reads the store; run it off the event loop."""
    upload = store.get_upload(event.upload_id)
    if upload is None:  # announced by this store, so only a wiped database gets here
        return upload_notice(event, [], None)
    failures = store.first_failures(upload.upload_no, MAX_FAILURES_SHOWN)
    report = report_csv(store, upload, report_max_bytes) if with_report else None
    return upload_notice(event, failures, report)


def report_csv(store: IngestStore, upload: Upload, max_bytes: int) -> Report:
    sink = io.StringIO()
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(REPORT_CSV_HEADER)
    lines = 0
    for batch in store.iter_report(upload.upload_no):
        writer.writerows(csv_row(line) for line in batch)
        lines += len(batch)
        if sink.tell() > max_bytes:
            return Report(None, upload.rows, too_large=True)
    content = sink.getvalue().encode()
    return Report(Attachment(f"report-{upload.upload_id}.csv", content), lines)
