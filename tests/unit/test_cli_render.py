"""What the CLI draws fits an 80-column terminal, and never cuts an id people must copy."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from boletos.platform.logs import ConsoleFormatter
from boletos.v1 import ingest_pb2
from boletos_cli import render
from boletos_cli.commands.deliveries import deliveries_table
from boletos_cli.commands.stack import what_now
from boletos_cli.commands.upload import shown_name, upload_columns
from boletos_cli.follow import follow_columns, update_bars
from boletos_cli.stack.layout import StackLayout

UPLOAD_ID = "6876820d-b337-4a6f-82c7-24e7bef36ffc"
DEBT_ID = "8291a4c4-3b1e-4c3f-9e6b-5a7f6d9c2e10"


def drawn(thing: object, width: int = 80) -> list[str]:
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(thing)
    return console.export_text().splitlines()


def assert_fits(lines: list[str], *whole: str, width: int = 80) -> None:
    assert max(len(line) for line in lines) <= width, "\n".join(lines)
    text = "\n".join(lines)
    for value in whole:
        assert value in text, f"{value} was cut or wrapped:\n{text}"


def summary(i: int = 0) -> ingest_pb2.UploadSummary:
    message = ingest_pb2.UploadSummary(
        upload_id=UPLOAD_ID[:-1] + str(i),
        file_name="a-rather-long-file-name-from-the-bank-2026-11-29.csv",
        state=ingest_pb2.UPLOAD_STATE_INTERRUPTED,
        rows=1_100_000,
        accepted=1_099_998,
        rejected=2,
    )
    message.created_at.GetCurrentTime()
    return message


def test_the_uploads_table_fits_80_columns_and_grows_when_there_is_room() -> None:
    uploads = [summary(i) for i in range(3)]
    narrow = drawn(render.uploads_table(uploads, 80))
    assert_fits(narrow, *(u.upload_id for u in uploads))
    wide = drawn(render.uploads_table(uploads, 160), width=160)
    assert_fits(wide, *(u.upload_id for u in uploads), width=160)
    assert "file" in wide[2] and "file" not in narrow[2]


def test_summary_errors_and_progress_fit_80_columns() -> None:
    message = summary()
    message.first_errors.add(
        line=123456,
        column="debtAmount",
        code=ingest_pb2.ROW_ERROR_CODE_AMOUNT_NOT_POSITIVE,
        message="debtAmount '-5' must be above zero, and this message goes on to need wrapping",
    )
    assert_fits(drawn(render.summary_table(message)), UPLOAD_ID[:-1] + "0")
    assert_fits(drawn(render.errors_table(list(message.first_errors))), "AMOUNT_NOT_POSITIVE")
    progress = ingest_pb2.UploadProgress(accepted=1_100_000, boletos_issued=1_100_000)
    assert_fits(drawn(render.progress_table(progress)))


def test_the_deliveries_table_fits_80_columns_with_whole_ids() -> None:
    rows = [
        {
            "line": 1_100_001,
            "debt_id": DEBT_ID,
            "status": "failed",
            "recipient": "j***@example.com",
            "attempts": 8,
            "smtp_code": 550,
            "last_error": "RCPT TO: 550 5.1.1 mailbox unavailable, and the server says more",
        }
    ]
    assert_fits(drawn(deliveries_table(UPLOAD_ID, rows, 80)), DEBT_ID, "550")
    assert "j***@example.com" in "\n".join(drawn(deliveries_table(UPLOAD_ID, rows, 160), 160))


@pytest.mark.parametrize("columns", [upload_columns, follow_columns])
def test_the_bars_fit_80_columns_at_a_million_rows(columns) -> None:
    console = Console(width=80, file=io.StringIO(), color_system=None, record=True)
    bars = Progress(*columns(), console=console, auto_refresh=False)
    if columns is upload_columns:
        name = shown_name(Path("a-rather-long-file-name-from-the-bank.csv"))
        bars.add_task(name, total=105_000_000, completed=104_000_000, rows=1_099_999)
    else:
        boletos = bars.add_task("boletos", total=None, detail="")
        emails = bars.add_task("e-mails", total=None, detail="")
        update_bars(
            bars,
            boletos,
            emails,
            ingest_pb2.UploadProgress(
                accepted=1_100_000,
                boletos_issued=1_099_000,
                boletos_failed=1_000,
                emails_sent=1_090_000,
                emails_failed=9_000,
            ),
        )
    console.print(bars.make_tasks_table(bars.tasks))
    lines = console.export_text().splitlines()
    assert_fits(lines)
    if columns is follow_columns:
        assert "1,000 failed" in lines[0] and "9,000 failed" in lines[1]


def test_what_now_fits_80_columns_with_the_samples_ids(tmp_path: Path) -> None:
    layout = StackLayout(data_dir=Path(".stack"))
    lines = drawn(what_now(layout, UPLOAD_ID, DEBT_ID))
    assert_fits(lines, f"boletos status {UPLOAD_ID}", f"boletos pdf {DEBT_ID} -o boleto.pdf")


def test_console_logs_show_nested_settings_as_dotted_keys() -> None:
    record = logging.LogRecord("ingest", logging.INFO, __file__, 1, "service.config", None, None)
    record.notify = {"email_to": ["example.com"], "smtp_port": 1025, "smtp_password": ""}
    line = ConsoleFormatter().format(record)
    assert "notify.email_to=example.com notify.smtp_port=1025 notify.smtp_password=-" in line
    assert "{" not in line and "[" not in line
