"""From an imported debt to a boleto record, without I/O."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from boleto_service.config import Settings
from boleto_service.domain.boleto import Boleto, Refusal
from boleto_service.domain.issuing import BoletoIssuer
from boleto_service.service.issuing import (
    failed_event,
    issue,
    issued_event,
)
from boletos.platform.brasilia import local_day
from boletos.platform.settings import ConfigError
from boletos.v1 import events_pb2
from tests.support import access
from tests.support.boleto import imported_debt as debt

TODAY = dt.date(2026, 11, 26)


def issuer(**env: str) -> BoletoIssuer:
    settings = Settings.from_env({**access.minimal_env(), **env})
    return BoletoIssuer(settings.beneficiary, settings.overdue)


def test_overdue_debt_is_redated_and_charged_per_policy() -> None:
    record = issue(
        issuer(OVERDUE_FINE_PERCENT="2", OVERDUE_MONTHLY_INTEREST_PERCENT="1"),
        "u-1",
        debt(),
        sequence=42,
        today=TODAY,
    )
    assert isinstance(record, Boleto)
    charges = record.charges
    assert record.due_date == TODAY + dt.timedelta(days=5)
    assert charges.original_due_date == dt.date(2023, 5, 1)
    assert charges.principal_cents == 781100
    assert charges.fine_cents == 15622  # 2 % of R$ 7.811,00
    assert charges.interest_cents > 0
    assert record.amount_cents == (
        charges.principal_cents + charges.fine_cents + charges.interest_cents
    )
    assert int(record.numbers.barcode[9:19]) == record.amount_cents
    assert record.numbers.nosso_numero.endswith("42")
    assert (record.line, record.upload_id, record.payer.government_id) == (7, "u-1", "4821")


def test_debt_not_yet_due_keeps_its_date_and_amount() -> None:
    record = issue(issuer(), "u-1", debt(due_date="2027-01-10"), sequence=1, today=TODAY)
    assert isinstance(record, Boleto)
    assert (record.due_date, record.amount_cents) == (dt.date(2027, 1, 10), 781100)


def test_due_date_beyond_the_payable_window_is_a_failure_with_a_reason() -> None:
    outcome = issue(issuer(), "u-1", debt(due_date="2049-01-01"), sequence=1, today=TODAY)
    assert isinstance(outcome, Refusal)
    assert outcome.debt_id == debt().debt_id
    assert outcome.reason


def test_events_carry_what_the_mailer_and_progress_need() -> None:
    record = issue(issuer(), "u-1", debt(), sequence=3, today=TODAY)
    assert isinstance(record, Boleto)
    message = events_pb2.BoletosIssued.FromString(issued_event([record]))
    (boleto,) = message.boletos
    assert (boleto.debt_id, boleto.upload_id, boleto.email, boleto.line) == (
        record.debt_id,
        "u-1",
        record.payer.email,
        7,
    )
    assert (boleto.barcode, boleto.digitable_line) == (
        record.numbers.barcode,
        record.numbers.linha_digitavel_formatted,
    )
    failed = events_pb2.BoletosFailed.FromString(failed_event([Refusal("d", "u", 2, "why")]))
    assert failed.failures[0].reason == "why"


def test_brazilian_date_is_three_hours_behind_utc() -> None:
    late_evening = dt.datetime(2026, 11, 27, 2, 30, tzinfo=dt.UTC)
    assert local_day(late_evening) == dt.date(2026, 11, 26)


def test_bad_configuration_is_refused_with_the_variable_named() -> None:
    with pytest.raises(ConfigError, match="OVERDUE_FINE_PERCENT"):
        Settings.from_env({**access.minimal_env(), "OVERDUE_FINE_PERCENT": "two"})
    with pytest.raises(ConfigError, match="^BENEFICIARY_CNPJ: "):
        Settings.from_env({**access.minimal_env(), "BENEFICIARY_CNPJ": "123"})
    with pytest.raises(ConfigError, match="^BENEFICIARY_BANK_CODE: bank code '999'"):
        Settings.from_env({**access.minimal_env(), "BENEFICIARY_BANK_CODE": "999"})
    with pytest.raises(ConfigError, match="BENEFICIARY_CONVENIO: .* 7 digits"):
        Settings.from_env({**access.minimal_env(), "BENEFICIARY_CONVENIO": "12"})
    assert Settings.from_env(
        {**access.minimal_env(), "OVERDUE_FINE_PERCENT": "2.5"}
    ).overdue.fine_percent == Decimal("2.5")
