"""Turns ingest messages into plain dicts for --json and into rich tables for people."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from rich import box
from rich.console import Console, OverflowMethod
from rich.table import Table
from rich.text import Text

from boletos.platform.text import escaped
from boletos.v1 import ingest_pb2
from boletos_cli.money import reais_text

# A terminal shows this many row errors; the rest are one `boletos errors` away.
ERRORS_SHOWN = 20
PIPED_WIDTH = 160
# Tables fit a terminal of 80 columns; columns only worth having when there is room come in
# from this width on.
WIDE = 120
# Light rules and one space between columns: a 36-character id and a few counts fit in 80.
LISTING = box.SIMPLE_HEAD


def shown(value: str) -> str:
    """`value` with every character a terminal would act on escaped (see platform.text)."""
    return escaped(value)


def untrusted(value: str, style: str = "", overflow: OverflowMethod | None = None) -> Text:
    """A file name, a name, an address or a message quoting them, ready for a table: Text,
    never markup (brackets are data), and `shown`."""
    return Text(shown(value), style=style, overflow=overflow)


def state_name(state: int) -> str:
    return ingest_pb2.UploadState.Name(state).removeprefix("UPLOAD_STATE_")


def code_name(code: int) -> str:
    try:
        return ingest_pb2.RowErrorCode.Name(code).removeprefix("ROW_ERROR_CODE_")
    except ValueError:
        # A newer server may send codes this client does not know yet.
        return str(code)


def timestamp_text(ts: Timestamp, present: bool) -> str | None:
    if not present:
        return None
    return ts.ToDatetime().isoformat(timespec="milliseconds") + "Z"


def row_error_dict(error: ingest_pb2.RowError) -> dict[str, Any]:
    return {
        "line": error.line,
        "column": error.column,
        "code": code_name(error.code),
        "message": error.message,
    }


def summary_dict(summary: ingest_pb2.UploadSummary) -> dict[str, Any]:
    # Written out by hand: the proto3 JSON mapping turns uint64 into strings, which is
    # awkward for anyone piping this into jq.
    return {
        "upload_id": summary.upload_id,
        "file_name": summary.file_name,
        "client_request_id": summary.client_request_id,
        "state": state_name(summary.state),
        "rows": summary.rows,
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "conflicts": summary.conflicts,
        "rejected": summary.rejected,
        "rejection_reason": summary.rejection_reason,
        "bytes_received": summary.bytes_received,
        "created_at": timestamp_text(summary.created_at, summary.HasField("created_at")),
        "finished_at": timestamp_text(summary.finished_at, summary.HasField("finished_at")),
        "first_errors": [row_error_dict(e) for e in summary.first_errors],
    }


def progress_dict(progress: ingest_pb2.UploadProgress) -> dict[str, Any]:
    return {
        "upload_id": progress.upload_id,
        "state": state_name(progress.state),
        "rows": progress.rows,
        "accepted": progress.accepted,
        "boletos_issued": progress.boletos_issued,
        "boletos_failed": progress.boletos_failed,
        "emails_sent": progress.emails_sent,
        "emails_failed": progress.emails_failed,
        "settled": progress.settled,
        "boletos_paid": progress.boletos_paid,
        "paid_cents": progress.paid_cents,
    }


def consoles() -> tuple[Console, Console]:
    """Consoles for results (stdout) and for progress and errors (stderr)."""
    # Piped into a file or another program, tables keep room for full ids and messages
    # instead of folding to the 80 columns rich assumes without a terminal.
    piped = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
    return Console(width=PIPED_WIDTH if piped else None), Console(stderr=True)


def print_json(value: Any) -> None:
    # Straight to stdout, never through rich: machines read this and must get it verbatim.
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def summary_table(summary: ingest_pb2.UploadSummary) -> Table:
    table = Table(title="Upload", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(no_wrap=True)
    table.add_row("upload id", summary.upload_id)
    table.add_row("file", untrusted(summary.file_name))
    table.add_row("state", state_name(summary.state))
    table.add_row("rows", str(summary.rows))
    table.add_row("accepted", f"[green]{summary.accepted}[/]")
    table.add_row("duplicates", str(summary.duplicates))
    table.add_row("conflicts", _warn_if_any(summary.conflicts))
    table.add_row("rejected", _warn_if_any(summary.rejected))
    if summary.rejection_reason:
        table.add_row("rejection", untrusted(summary.rejection_reason, style="red"))
    return table


def _warn_if_any(count: int) -> str:
    return f"[red]{count}[/]" if count else "0"


def listing(title: str) -> Table:
    return Table(title=title, title_justify="left", box=LISTING, pad_edge=False)


def errors_table(errors: list[ingest_pb2.RowError]) -> Table:
    table = listing("Row errors")
    table.add_column("line", justify="right")
    table.add_column("column", max_width=14)
    table.add_column("code", style="red", no_wrap=True)
    table.add_column("message", ratio=1)
    for error in errors:
        # Text, not markup: messages quote user data, which may contain brackets.
        table.add_row(
            str(error.line),
            untrusted(error.column),
            code_name(error.code),
            untrusted(error.message),
        )
    return table


def print_summary(console: Console, summary: ingest_pb2.UploadSummary) -> None:
    console.print(summary_table(summary))
    shown = list(summary.first_errors[:ERRORS_SHOWN])
    if not shown:
        return
    console.print(errors_table(shown))
    not_accepted = summary.rejected + summary.conflicts
    if not_accepted > len(shown):
        console.print(
            f"{len(shown)} of {not_accepted} rows not accepted shown; "
            f"all of them: [bold]boletos errors {summary.upload_id}[/]"
        )
    note = unlisted_note(summary)
    if note:
        console.print(note, markup=False)


def unlisted_note(summary: ingest_pb2.UploadSummary) -> str:
    """Says that errors past the service's cap are counted, not listed; empty if none are."""
    if not summary.errors_unlisted:
        return ""
    counts = ", ".join(
        f"{ingest_pb2.RowErrorCode.Name(c.code).removeprefix('ROW_ERROR_CODE_')} x{c.count:,}"
        for c in summary.errors_unlisted
    )
    total = sum(c.count for c in summary.errors_unlisted)
    return (
        f"only the first {summary.errors_listed:,} row errors are listed; {total:,} more were "
        f"counted but not stored: {counts}"
    )


def progress_table(progress: ingest_pb2.UploadProgress) -> Table:
    title = "Pipeline (settled)" if progress.settled else "Pipeline (in progress)"
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("accepted", str(progress.accepted))
    table.add_row("boletos issued", str(progress.boletos_issued))
    table.add_row("boletos failed", _warn_if_any(progress.boletos_failed))
    table.add_row("e-mails sent", str(progress.emails_sent))
    table.add_row("e-mails failed", _warn_if_any(progress.emails_failed))
    if progress.boletos_paid:
        # Payments come days later, from the bank's retorno files: shown once there are any.
        table.add_row("boletos paid", f"[green]{progress.boletos_paid}[/]")
        table.add_row("amount paid", reais_text(progress.paid_cents))
    return table


def uploads_table(uploads: list[ingest_pb2.UploadSummary], width: int) -> Table:
    """Recent uploads; the file name and start time join the id and counts when the
    terminal is wide enough for them."""
    wide = width >= WIDE
    table = listing("Recent uploads")
    # Ids are what people copy into the next command: never cut or wrapped.
    table.add_column("upload id", no_wrap=True, min_width=36)
    if wide:
        table.add_column("file", overflow="ellipsis", max_width=30)
    table.add_column("state", no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    table.add_column("accepted", justify="right", no_wrap=True)
    table.add_column("rejected", justify="right", no_wrap=True)
    if wide:
        table.add_column("started", no_wrap=True)
    for summary in uploads:
        created = timestamp_text(summary.created_at, summary.HasField("created_at")) or ""
        cells: list[str | Text] = [summary.upload_id]
        if wide:
            cells.append(untrusted(summary.file_name))
        cells += [
            state_name(summary.state),
            str(summary.rows),
            str(summary.accepted),
            str(summary.rejected),
        ]
        if wide:
            cells.append(created[:16].replace("T", " "))
        table.add_row(*cells)
    return table
