"""The billing side of the CLI without a server: amounts from centavos, the remessa checksum
check, what the retorno summary means for the exit code, and tables that fit 80 columns."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.progress import Progress

from boletos.platform import errors
from boletos.v1 import boleto_pb2, ingest_pb2, mailer_pb2
from boletos_cli import render
from boletos_cli.commands import deliveries, remessa, report, retorno
from boletos_cli.commands.boleto import bank_status_name, boleto_dict, boleto_table
from boletos_cli.commands.stack import what_now
from boletos_cli.follow import follow_columns, update_bars
from boletos_cli.money import amount_text, reais_digits, reais_text
from boletos_cli.stack.layout import SERVICES, StackLayout

UPLOAD_ID = "6876820d-b337-4a6f-82c7-24e7bef36ffc"
DEBT_ID = "8291a4c4-3b1e-4c3f-9e6b-5a7f6d9c2e10"
CONTENT = b"0010000" + b" " * 233 + b"\r\n"
SHA256 = hashlib.sha256(CONTENT).hexdigest()


def drawn(thing: object, width: int = 80) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(thing)
    return console.export_text()


def assert_fits(text: str, *whole: str, width: int = 80) -> None:
    assert max(len(line) for line in text.splitlines()) <= width, text
    for value in whole:
        assert value in text, f"{value} was cut or wrapped:\n{text}"


# --- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "decimal", "reais"),
    [
        (0, "0.00", "R$ 0,00"),
        (5, "0.05", "R$ 0,05"),
        (100, "1.00", "R$ 1,00"),
        (781100, "7811.00", "R$ 7.811,00"),
        (123_456_789, "1234567.89", "R$ 1.234.567,89"),
        (-1050, "-10.50", "-R$ 10,50"),
        # Past what a float holds exactly: integer arithmetic all the way.
        (9_007_199_254_740_993, "90071992547409.93", "R$ 90.071.992.547.409,93"),
    ],
)
def test_amounts_come_exactly_from_centavos(cents: int, decimal: str, reais: str) -> None:
    assert amount_text(cents) == decimal
    assert reais_text(cents) == reais
    assert reais_digits(cents) == reais.replace("R$ ", "")


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_printed_amounts_read_back_to_the_same_centavos(cents: int) -> None:
    assert int(amount_text(cents).replace(".", "")) == cents
    assert int(reais_digits(cents).replace(".", "").replace(",", "")) == cents


# --- remessa --------------------------------------------------------------------------------


def described(**overrides: object) -> boleto_pb2.Remessa:
    fields: dict[str, object] = {
        "remessa_id": "001-1234-56789-000042",
        "bank_code": "001",
        "nsa": 42,
        "titles": 1,
        "amount_cents": 781100,
        "file_name": "CB000042.REM",
        "size_bytes": len(CONTENT),
        "sha256": SHA256,
    }
    fields.update(overrides)
    return boleto_pb2.Remessa(**fields)  # type: ignore[arg-type]


def test_a_remessa_whose_bytes_match_passes() -> None:
    assert remessa.mismatch(described(), len(CONTENT), SHA256) is None
    # The service may spell the digest in capitals.
    assert remessa.mismatch(described(sha256=SHA256.upper()), len(CONTENT), SHA256) is None


def test_a_remessa_with_other_bytes_is_caught_and_both_digests_are_named() -> None:
    other = hashlib.sha256(CONTENT + b"x").hexdigest()
    problem = remessa.mismatch(described(), len(CONTENT) + 1, other)
    assert problem is not None and SHA256 in problem and other in problem


def test_a_remessa_of_the_wrong_size_is_caught_even_with_its_digest() -> None:
    problem = remessa.mismatch(described(size_bytes=len(CONTENT) + 1), len(CONTENT), SHA256)
    assert problem is not None and "242 bytes" in problem and "243 bytes" in problem


def test_a_remessa_without_a_digest_is_never_passed_on_unchecked() -> None:
    problem = remessa.mismatch(described(sha256=""), len(CONTENT), SHA256)
    assert problem is not None and "no SHA-256" in problem


def test_the_confirmation_is_one_line_with_size_and_digest() -> None:
    line = remessa.confirmation("001-1234-56789-000042", "out.rem", 1_234_567, SHA256)
    assert "\n" not in line and "1,234,567 bytes" in line and SHA256 in line


def test_the_remessa_table_fits_80_columns_at_a_days_volume() -> None:
    big = described(
        remessa_id="001-1234-56789-999999",
        nsa=999_999,
        titles=1_100_000,
        amount_cents=99_999_999_999,
        file_name="COBRANCA-BANCO-DO-BRASIL-2026-11-30-000042.REM",
    )
    big.created_at.GetCurrentTime()
    narrow = drawn(remessa.remessas_table("Remessas", [big, described()], 80))
    assert_fits(narrow, "001-1234-56789-999999", "999.999.999,99", "1,100,000", "999999")
    assert ".REM" not in narrow
    wide = drawn(remessa.remessas_table("Remessas", [big], 160), 160)
    assert_fits(wide, "COBRANCA-BANCO", width=160)


def test_remessa_json_keeps_counts_and_centavos_as_numbers() -> None:
    document = remessa.remessa_dict(described(titles=2**40))
    assert document["titles"] == 2**40 and document["amount_cents"] == 781100
    assert document["amount"] == "7811.00" and document["created_at"] is None


# --- retorno --------------------------------------------------------------------------------


def summary(problems: int = 0, **counts: object) -> boleto_pb2.RetornoSummary:
    message = boleto_pb2.RetornoSummary(
        retorno_id="f" * 64,
        file_name="IEDCBR01-RETORNO-DO-BANCO-COM-UM-NOME-BEM-COMPRIDO-2026-11-30.RET",
        bank_code="341",
        **counts,  # type: ignore[arg-type]
    )
    for n in range(problems):
        message.problems.add(line=n + 1, reason=f"line {n + 1}: nosso número names no boleto")
    return message


def test_a_retorno_with_problems_exits_3_and_without_0() -> None:
    assert retorno.exit_code(summary()) == 0
    assert retorno.exit_code(summary(already_processed=True, repeated_occurrences=9)) == 0
    # Mismatched amounts are recorded and flagged, but every line was used.
    assert retorno.exit_code(summary(amount_mismatches=4)) == 0
    assert retorno.exit_code(summary(problems=1)) == retorno.EXIT_PROBLEMS == 3


def test_the_retorno_summary_fits_80_columns_with_its_whole_id() -> None:
    message = summary(
        occurrences=2_200_000,
        registered=1_100_000,
        paid=1_099_999,
        paid_cents=99_999_999_999,
        amount_mismatches=12_345,
        repeated_occurrences=1_000_000,
        problems=1,
    )
    assert_fits(drawn(retorno.summary_table(message)), "f" * 64, "R$ 999.999.999,99")


def test_every_problem_line_is_listed_whole() -> None:
    message = summary(problems=3)
    message.problems.add(line=0, reason="trailer: 3 lots counted, 2 found " * 4)
    text = drawn(retorno.problems_table(list(message.problems)))
    assert_fits(text)
    for n in (1, 2, 3):
        assert f"line {n}: nosso número names no boleto" in text
    # A problem about the whole file has no line number.
    assert "file" in text


def rpc_error(code: grpc.StatusCode, reason: str | None) -> grpc.aio.AioRpcError:
    """A failed call as the channel raises it, with an ErrorInfo of `reason` if given."""
    message = "retorno refused, nothing in it applied or recorded: line 9: a  reason"
    details = [errors.error_info(reason)] if reason else []
    status = errors.status_with(code, message, *details)
    return grpc.aio.AioRpcError(
        code, grpc.aio.Metadata(), grpc.aio.Metadata(*status.trailing_metadata), message
    )


@pytest.mark.parametrize(
    ("code", "reason", "refused"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, "RETORNO_COUNTS_DISAGREE", True),
        (grpc.StatusCode.FAILED_PRECONDITION, "RETORNO_BANK_NOT_SERVED", True),
        # A reason code this client does not know yet is still a refusal of the file.
        (grpc.StatusCode.INVALID_ARGUMENT, "RETORNO_SOMETHING_NEW", True),
        # About the call, not the file: the CLI's own mistake or the service's state.
        (grpc.StatusCode.INVALID_ARGUMENT, "HEADER_FIRST", False),
        (grpc.StatusCode.INVALID_ARGUMENT, None, False),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "RETORNO_TOO_LARGE", False),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "RETORNO_IDLE", False),
        (grpc.StatusCode.UNAVAILABLE, None, False),
    ],
)
def test_which_retorno_errors_are_a_refusal_of_the_file(
    code: grpc.StatusCode, reason: str | None, refused: bool
) -> None:
    found = retorno.refusal("CB.RET", rpc_error(code, reason))
    assert (found is not None) == refused
    if found is not None:
        assert str(found) == (
            "CB.RET: retorno refused, nothing in it applied or recorded: line 9: a reason "
            f"[{reason}]"
        )


def test_retorno_json_of_an_empty_summary() -> None:
    document = retorno.summary_dict(boleto_pb2.RetornoSummary())
    assert document["problems"] == [] and document["paid_amount"] == "0.00"
    assert document["already_processed"] is False


# --- boleto, progress, report, deliveries ---------------------------------------------------


def test_bank_status_names() -> None:
    assert bank_status_name(boleto_pb2.BANK_STATUS_WRITTEN_OFF) == "written_off"
    # An older server sends none; a newer one may send a status this client does not know.
    assert bank_status_name(0) == ""
    assert bank_status_name(99) == "99"


def test_the_boleto_table_fits_80_columns_with_the_banks_rejection() -> None:
    boleto = boleto_pb2.Boleto(
        debt_id=DEBT_ID,
        amount_cents=781100,
        bank_status=boleto_pb2.BANK_STATUS_REJECTED,
        remessa_id="001-1234-56789-000042",
        rejection_reason="48 CEP inválido; 45 nome do pagador não informado; " * 3,
    )
    text = drawn(boleto_table(boleto))
    assert_fits(text, DEBT_ID, "001-1234-56789-000042", "rejected")
    assert "paid" not in text


def test_an_unpaid_boleto_has_no_paid_amount_in_json() -> None:
    document = boleto_dict(boleto_pb2.Boleto(bank_status=boleto_pb2.BANK_STATUS_REGISTERED))
    assert document["bank_status"] == "registered"
    assert (document["paid_amount"], document["paid_cents"], document["paid_on"]) == (None, 0, "")
    assert document["paid_amount_differs"] is False


def test_the_progress_table_shows_payments_only_once_there_are_any() -> None:
    unpaid = drawn(render.progress_table(ingest_pb2.UploadProgress(accepted=10)))
    assert "paid" not in unpaid
    paid = ingest_pb2.UploadProgress(
        accepted=1_100_000, boletos_paid=1_000_000, paid_cents=99_999_999_999
    )
    assert_fits(drawn(render.progress_table(paid)), "1000000", "R$ 999.999.999,99")
    assert render.progress_dict(paid)["paid_cents"] == 99_999_999_999


@pytest.mark.parametrize("paid_count", [0, 1_099_999])
def test_the_paid_bar_fits_80_columns_and_shows_only_with_payments(paid_count: int) -> None:
    console = Console(width=80, file=io.StringIO(), color_system=None, record=True)
    bars = Progress(*follow_columns(), console=console, auto_refresh=False)
    boletos = bars.add_task("boletos", total=None, detail="")
    emails = bars.add_task("e-mails", total=None, detail="")
    paid = bars.add_task("paid", total=None, detail="", visible=False)
    progress = ingest_pb2.UploadProgress(
        accepted=1_100_000,
        boletos_issued=1_100_000,
        emails_sent=1_100_000,
        boletos_paid=paid_count,
        paid_cents=99_999_999_999,
    )
    update_bars(bars, boletos, emails, progress, paid)
    console.print(bars.make_tasks_table([t for t in bars.tasks if t.visible]))
    text = console.export_text()
    assert_fits(text)
    if paid_count:
        assert "1,099,999/1,100,000 · R$ 999.999.999,99" in text
    else:
        assert "paid" not in text


def test_report_lines_carry_the_payment_at_the_end() -> None:
    assert report.REPORT_CSV_HEADER[-2:] == ("paidAmount", "paidOn")
    paid = report.csv_row(ingest_pb2.ReportLine(line=2, paid_cents=5, paid_on="2025-06-09"))
    assert paid[-2:] == ("0.05", "2025-06-09")
    assert report.csv_row(ingest_pb2.ReportLine(line=3))[-2:] == ("", "")
    assert len(paid) == len(report.REPORT_CSV_HEADER)


def test_every_delivery_kind_has_a_word_and_back() -> None:
    kinds = {v for v in mailer_pb2.DeliveryKind.values() if v}
    assert set(deliveries.KINDS.values()) == kinds
    for word, value in deliveries.KINDS.items():
        assert deliveries.kind_name(value) == word
    assert deliveries.kind_name(0) == "boleto"
    assert deliveries.kind_name(99) == "99"


def test_the_deliveries_table_names_its_kind_and_fits_80_columns() -> None:
    rows = [
        {
            "line": 1_100_001,
            "debt_id": DEBT_ID,
            "status": "failed",
            "recipient": "j***@example.com",
            "attempts": 8,
            "smtp_code": 550,
            "last_error": "RCPT TO: 550 5.1.1 mailbox unavailable",
        }
    ]
    text = drawn(deliveries.deliveries_table(UPLOAD_ID, rows, 80, "overdue"))
    assert_fits(text, DEBT_ID, f"overdue deliveries of upload {UPLOAD_ID}")


# --- the local stack --------------------------------------------------------------------------


def test_the_stacks_boleto_service_writes_a_remessa_per_upload_into_its_data_dir(
    tmp_path: Path,
) -> None:
    layout = StackLayout(data_dir=tmp_path / "stack")
    by_name = {spec.name: layout.replicas_of(spec)[0] for spec in SERVICES}

    env = layout.service_env(by_name["boleto"], {})

    assert env["REMESSA_DIR"] == str((tmp_path / "stack" / "remessas").resolve())
    assert env["REMESSA_PER"] == "upload"
    assert env["REMESSA_QUIET_SECONDS"] == "10"
    for other in ("ingest", "mailer"):
        assert "REMESSA_DIR" not in layout.service_env(by_name[other], {})


def test_the_boleto_service_accepts_the_stacks_remessa_settings(tmp_path: Path) -> None:
    # The stack's own example beneficiary must be complete enough to write a remessa, or
    # `make run` would stop at the boleto service's start.
    from boleto_service.config import Settings
    from boletos.provision import ensure_secrets

    layout = StackLayout(data_dir=tmp_path)
    ensure_secrets(layout.secrets.directory, services=[spec.name for spec in SERVICES])

    settings = Settings.from_env(layout.service_env(layout.replicas_of(SERVICES[1])[0], {}))

    assert settings.remessa.directory == str((tmp_path / "remessas").resolve())
    assert settings.remessa.quiet_seconds == 10


def test_a_beneficiary_of_the_users_own_gets_no_example_numbers(tmp_path: Path) -> None:
    layout = StackLayout(data_dir=tmp_path)
    env = layout.service_env(layout.replicas_of(SERVICES[1])[0], {"BENEFICIARY_AGENCIA": "4321"})
    assert "BENEFICIARY_AGENCIA_DV" not in env and "BENEFICIARY_VARIACAO_CARTEIRA" not in env


def test_the_environment_may_choose_another_remessa_schedule(tmp_path: Path) -> None:
    layout = StackLayout(data_dir=tmp_path, replicas={"boleto": 2})
    envs = [
        layout.service_env(replica, {"REMESSA_PER": "day"})
        for replica in layout.replicas_of(SERVICES[1])
    ]
    assert [env["REMESSA_PER"] for env in envs] == ["day", "day"]
    # Replicas share one directory, as they share one store.
    assert envs[0]["REMESSA_DIR"] == envs[1]["REMESSA_DIR"]


def test_what_now_points_at_the_remessas_and_fits_80_columns() -> None:
    text = drawn(what_now(StackLayout(data_dir=Path(".stack")), UPLOAD_ID, DEBT_ID))
    assert_fits(text, "boletos remessa list", f"boletos boleto {DEBT_ID}", ".stack/remessas")
