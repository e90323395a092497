"""Text people read (a debtor's name, an upload's file name) is refused, neutralized or shown
escaped before it reaches a log line, a terminal or an e-mail's To header."""

from __future__ import annotations

import email
import email.policy
import io
import re

import pytest
from rich.console import Console
from rich.table import Table

from boletos.v1 import ingest_pb2
from boletos_cli import render
from ingest_service.api.servicer import FILE_NAME_MAX_CHARS, shown_file_name
from ingest_service.domain.errors import ErrorCode
from ingest_service.domain.header import parse_header
from ingest_service.domain.lines import Block
from ingest_service.domain.validation import RowValidator, ValidatedBlock
from mailer_service.domain.headers import format_mailbox, header_line
from tests.support.csvdata import RULES

# Each would forge a console log line, colour or move the cursor of a terminal, or make the
# text read other than it is stored.
HOSTILE = {
    "line feed": "ok\n12:00:00 INFO ingest upload.finished",
    "carriage return": "ok\rforged",
    "ANSI colour": "a\x1b[31mred\x1b[0m",
    "C1 CSI": "a\x9b31mred",
    "NUL": "Ana\x00Maria",
    "bell": "Ana\x07",
    "DEL": "Ana\x7f",
    "right-to-left override": "\u202eexe.txt",
    "left-to-right embedding": "\u202aAna",
    "first strong isolate": "Ana\u2068X\u2069",
    "line separator": "Ana\u2028Maria",
}
DANGEROUS = set("\n\r\x1b\x9b\x00\x07\x7f\u202e\u202a\u2068\u2069\u2028")


# -- a debtor's name --------------------------------------------------------------------------

HEADER = "name,governmentId,email,debtAmount,debtDueDate,debtId"


def _validate(name: str, rows: int = 1) -> ValidatedBlock:
    """Through the service's validator: enough clean rows around the row under test put the
    block on the fast path, one alone on the careful path."""
    clean = [
        f"Filler {i},11144477735,f{i}@example.com,1.00,2026-01-31,{i:08d}-0000-4000-8000-{i:012d}"
        for i in range(1, rows)
    ]
    line = f'"{name}",11144477735,ana@example.com,10.50,2026-01-31,' + (
        "1adb6ccf-ff16-467f-bea7-5f05d494280f"
    )
    data = "\n".join([*clean, line]).encode()
    validator = RowValidator(parse_header(HEADER.encode()), RULES, 1024)
    return validator.validate(Block(2, data))


@pytest.mark.parametrize("rows", [1, 20], ids=["alone", "in a long block"])
@pytest.mark.parametrize(
    "name",
    ["Ana\x00Maria", "\u202eairaM anA", "Ana\x1b[31mMaria", "Ana\u2066X", "Ana\tMaria", "Ana\x7f"],
)
def test_a_name_that_would_act_instead_of_showing_is_refused(name: str, rows: int) -> None:
    result = _validate(name, rows)
    assert len(result.valid) == rows - 1
    (error,) = result.errors
    assert (error.column, error.code) == ("name", ErrorCode.UNPRINTABLE_CHARACTER)
    # The reason names the problem, never the name.
    assert "Ana" not in error.message and "airaM" not in error.message


def test_a_line_break_in_a_name_keeps_its_own_reason() -> None:
    (error,) = _validate("Ana\nMaria").errors
    assert error.code == ErrorCode.LINE_BREAK_IN_VALUE


@pytest.mark.parametrize("name", ["José da Silva", "Zoë O'Brien-Müller", "محمد", "李雷"])
def test_names_in_any_script_are_accepted(name: str) -> None:
    (valid,) = _validate(name).valid
    assert valid.name == name


# -- an upload's file name, as the ingest service stores it -----------------------------------


@pytest.mark.parametrize("raw", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_stored_file_name_carries_nothing_a_log_or_terminal_acts_on(raw: str) -> None:
    stored = shown_file_name(raw)
    assert not DANGEROUS & set(stored)
    assert "\ufffd" in stored and len(stored) == len(raw)


def test_a_plain_file_name_is_stored_as_given_and_a_long_one_cut() -> None:
    assert shown_file_name("débitos março [v2].csv") == "débitos março [v2].csv"
    assert shown_file_name("a" * 600) == "a" * FILE_NAME_MAX_CHARS


# -- the CLI ------------------------------------------------------------------------------------


def _printed(table: Table) -> str:
    out = io.StringIO()
    # A terminal that takes colour: the only escape sequences are rich's own styling.
    Console(file=out, force_terminal=True, color_system=None, width=200).print(table)
    return out.getvalue()


@pytest.mark.parametrize("raw", HOSTILE.values(), ids=HOSTILE.keys())
def test_status_shows_a_hostile_file_name_escaped_on_one_line(raw: str) -> None:
    summary = ingest_pb2.UploadSummary(upload_id="u-1", file_name=raw)
    for table in (render.summary_table(summary), render.uploads_table([summary], width=200)):
        printed = _printed(table)
        assert not DANGEROUS & set(printed.replace("\n", ""))
        # Folded to the column's width maybe, but every acting character is there, escaped.
        escapes = re.findall(r"\\[xu][0-9a-f]+", render.shown(raw))
        assert escapes and all(e in printed for e in escapes), printed


def test_untrusted_text_is_never_read_as_markup() -> None:
    table = Table()
    table.add_column()
    table.add_row(render.untrusted("[bold red]Ana[/] [link=https://evil.example]x[/link]"))
    assert "[bold red]Ana[/] [link=https://evil.example]x[/link]" in _printed(table)


def test_shown_writes_each_acting_character_as_python_would() -> None:
    assert render.shown("a\x1bb\u202ec\nd\x9b") == "a\\x1bb\\u202ec\\x0ad\\x9b"
    assert render.shown("José [v2].csv") == "José [v2].csv"


# -- the e-mail's To header ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Ana\x00Maria", "\u202eairaM anA", "Ana\u061cMaria", "Ana\x1b[31mMaria"]
)
def test_the_to_display_name_drops_what_a_refused_row_would_have_carried(name: str) -> None:
    value = format_mailbox("To", name, "ana@example.com")
    parsed = email.message_from_bytes(
        header_line("To", value) + b"\r\n", policy=email.policy.default
    )
    (address,) = parsed["To"].addresses
    assert address.addr_spec == "ana@example.com"
    assert not set(address.display_name) & (DANGEROUS | {"\u061c"})
    assert "Ana" in address.display_name or "anA" in address.display_name
