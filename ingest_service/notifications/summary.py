"""Composes operator notifications: the same facts as text for people and JSON for
machines, with what to do about anything that needs a person. Pure: no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from boletos.v1 import events_pb2
from ingest_service.domain.report import Failure

MAX_FAILURES_SHOWN = 10
# nats-server keeps a stream's messages this long (see boletos.platform.nats_streams).
STREAM_MAX_AGE_DAYS = 7


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "text/csv"


@dataclass(frozen=True)
class Notice:
    """One notification, ready for any channel."""

    # Stable across retries: webhooks receive it as Idempotency-Key.
    key: str
    subject: str
    text: str
    payload: Mapping[str, object]
    attachment: Attachment | None = None
    actions: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Report:
    """The upload's report as the e-mail may carry it."""

    attachment: Attachment | None
    lines: int
    too_large: bool = False


def upload_notice(
    event: events_pb2.UploadCompleted, failures: Sequence[Failure], report: Report | None
) -> Notice:
    uid = event.upload_id
    name = _one_line(event.file_name) or "(no name)"
    refused = bool(event.rejection_reason)
    actions = _upload_actions(event, failures)
    if refused:
        subject = f"[boletos] upload {name} refused: {_one_line(event.rejection_reason)}"
    elif actions:
        subject = f"[boletos] upload {name} settled; action needed"
    else:
        subject = f"[boletos] upload {name} settled: {event.emails_sent} e-mails sent"
    lines = [
        f"Upload {uid} ({name}) "
        + (f"was refused: {_one_line(event.rejection_reason)}" if refused else "has settled."),
        "",
        *_counts(event),
    ]
    if actions:
        lines += ["", "What needs a person:", *(f"* {a}" for a in actions)]
    lines += ["", *_report_lines(uid, report)]
    payload: dict[str, object] = {
        "event": "upload.completed",
        "upload_id": uid,
        "file_name": event.file_name,
        "client_request_id": event.client_request_id,
        "state": "refused" if refused else "settled",
        "rejection_reason": event.rejection_reason,
        "created_at": _iso(event.created_at),
        "completed_at": _iso(event.completed_at),
        **{name: getattr(event, name) for name in _COUNT_FIELDS},
        "failures": [
            {"line": f.line, "debt_id": f.debt_id, "stage": f.stage, "reason": f.reason}
            for f in failures[:MAX_FAILURES_SHOWN]
        ],
        "actions": actions,
        "report_command": _report_command(uid),
        "text": "\n".join(lines),
    }
    return Notice(
        key=f"upload-completed:{uid}",
        subject=subject,
        text="\n".join(lines) + "\n",
        payload=payload,
        attachment=report.attachment if report else None,
        actions=tuple(actions),
    )


def max_deliveries_notice(advisory: Mapping[str, object]) -> Notice:
    """A JetStream consumer gave up on a message ($JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES)."""
    stream = str(advisory.get("stream", "?"))
    consumer = str(advisory.get("consumer", "?"))
    seq = int(advisory.get("stream_seq", 0) or 0)  # type: ignore[call-overload]
    deliveries = int(advisory.get("deliveries", 0) or 0)  # type: ignore[call-overload]
    actions = [
        f"Inspect the message: nats stream get {stream} {seq}",
        f"Find why {consumer} could not process it in that service's logs, and fix the cause.",
        "Then publish the message again on its subject: the services are idempotent per "
        "debt, so a second copy does no harm. Until then it is left in the stream, for "
        f"{STREAM_MAX_AGE_DAYS} days at most.",
    ]
    lines = [
        f"Consumer {consumer} of stream {stream} gave up on message {seq} after "
        f"{deliveries} deliveries: what it carries has not been processed.",
        "",
        "What to do:",
        *(f"{i}. {a}" for i, a in enumerate(actions, 1)),
    ]
    return Notice(
        key=f"max-deliveries:{stream}:{consumer}:{seq}",
        subject=f"[boletos] {consumer} gave up on message {seq} of {stream}",
        text="\n".join(lines) + "\n",
        payload={
            "event": "jetstream.max_deliveries",
            "stream": stream,
            "consumer": consumer,
            "stream_seq": seq,
            "deliveries": deliveries,
            "actions": actions,
            "text": "\n".join(lines),
        },
        actions=tuple(actions),
    )


_COUNT_FIELDS = (
    "rows",
    "accepted",
    "duplicates",
    "conflicts",
    "rejected",
    "boletos_issued",
    "boletos_failed",
    "emails_sent",
    "emails_failed",
)


def _counts(e: events_pb2.UploadCompleted) -> list[str]:
    return [
        f"Rows read        {e.rows:>9,}",
        f"  accepted       {e.accepted:>9,}",
        f"  duplicates     {e.duplicates:>9,}",
        f"  conflicts      {e.conflicts:>9,}",
        f"  rejected       {e.rejected:>9,}",
        f"Boletos issued   {e.boletos_issued:>9,}   failed {e.boletos_failed:,}",
        f"E-mails sent     {e.emails_sent:>9,}   failed {e.emails_failed:,}",
    ]


def _upload_actions(e: events_pb2.UploadCompleted, failures: Sequence[Failure]) -> list[str]:
    uid = e.upload_id
    actions = []
    if e.rejection_reason:
        actions.append("Fix the file's header (see the reason above) and upload it again.")
    if e.emails_failed:
        actions.append(
            f"{_n(e.emails_failed, 'e-mail')} failed permanently"
            + _examples([f for f in failures if f.stage == "email"], e.emails_failed)
            + " Fix the cause (usually the debtor's address, at the source or with the "
            f"receiving provider), then send them again: boletos retry {uid} "
            "(MailerService.RetryFailed); each goes once more, with its original Message-ID."
        )
    if e.boletos_failed:
        actions.append(
            f"{_n(e.boletos_failed, 'debt')} got no boleto"
            + _examples([f for f in failures if f.stage == "boleto"], e.boletos_failed)
            + " They cannot be charged as they are: correct them at the source and send "
            "them in a new file under new debtIds (a known debtId with other content is "
            "refused as a conflict)."
        )
    if e.rejected or e.conflicts:
        actions.append(
            f"{_n(e.rejected, 'row')} rejected and {e.conflicts:,} conflicting with a debt "
            "already known: the report's error column says why. Fix those rows and send them "
            "in a new file."
        )
    return actions


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _examples(failures: Sequence[Failure], total: int) -> str:
    if not failures:
        return "."
    shown = failures[:MAX_FAILURES_SHOWN]
    head = "; the first:" if len(shown) < total else ":"
    rows = "".join(f"\n    line {f.line}, debt {f.debt_id}: {_one_line(f.reason)}" for f in shown)
    return f"{head}{rows}\n "


def _report_lines(upload_id: str, report: Report | None) -> list[str]:
    fetch = f"  {_report_command(upload_id)}"
    if report is None:
        return ["The report (one line per row of the file) is there for the asking:", fetch]
    if report.too_large:
        return [
            f"The report ({report.lines:,} lines) is too large to attach; fetch it with:",
            fetch,
        ]
    assert report.attachment is not None
    return [
        f"The report, one line per row of the file, is attached as {report.attachment.filename};"
        " fetch it again with:",
        fetch,
    ]


def _report_command(upload_id: str) -> str:
    return f"boletos report {upload_id} -o report-{upload_id}.csv"


def _iso(stamp: object) -> str:
    if not stamp.seconds and not stamp.nanos:  # type: ignore[attr-defined]
        return ""
    value = stamp.ToDatetime(tzinfo=dt.UTC)  # type: ignore[attr-defined]
    return value.isoformat().replace("+00:00", "Z")


def _one_line(text: str) -> str:
    """Client-supplied text on one line, so it can go in a subject or a list."""
    return " ".join(text.split())
