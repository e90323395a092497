"""Remessa decisions without I/O: the titles a file can carry, names, the schedule with a fixed
clock, which titles are left out, and the settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from datetime import date

import pytest

from boleto_service.config import Settings
from boleto_service.domain.cnab240 import (
    CnabFieldError,
    PayerAddress,
    PayerIdKind,
    RemessaDetails,
    RemessaHeader,
    RemessaPayer,
    RemessaTitle,
    remessa_lines,
)
from boleto_service.domain.cnab240.remessa import max_titles_per_file
from boleto_service.domain.remessa_policy import (
    MAX_TITLES,
    NO_ADDRESS,
    NO_CPF_CNPJ,
    Account,
    CutPer,
    NsaExhausted,
    RemessaSettings,
    file_name,
    last_cut,
    next_cut,
    next_nsa,
    parse_cut_at,
    quiet_since,
    remessa_id,
    taker,
    tick_seconds,
)
from boletos.platform.settings import ConfigError
from tests.support import access
from tests.support.beneficiaries import BB, ITAU

UTC = dt.UTC
BB_HEADER = RemessaHeader(
    BB, 1, dt.datetime(2026, 1, 5, 18), agencia_dv="3", variacao_carteira="19"
)
ADDRESS = PayerAddress("Rua Sete de Setembro, 40", "Centro", "20050009", "Rio", "RJ")
PAYER = RemessaPayer("Pagador", PayerIdKind.CPF, "52998224725", ADDRESS)


def _title(n: int, nosso_numero: str | None = None, **fields: object) -> RemessaTitle:
    values: dict[str, object] = dict(
        nosso_numero=nosso_numero or f"1234567{n:010d}",
        document_number=str(n),
        due_date=date(2026, 1, 30),
        amount_cents=1000,
        issue_date=date(2026, 1, 5),
        payer=PAYER,
    )
    values.update(fields)
    return RemessaTitle(**values)  # type: ignore[arg-type]


def test_the_cap_keeps_every_detail_number_within_its_five_digits() -> None:
    assert max_titles_per_file(2) == 49_999
    assert max_titles_per_file(3) == MAX_TITLES == 33_333
    with pytest.raises(ValueError):
        max_titles_per_file(0)


def test_a_file_of_the_cap_with_every_segment_renders_and_one_more_title_does_not() -> None:
    from decimal import Decimal

    titles = [_title(n, fine_percent=Decimal("2.00")) for n in range(1, MAX_TITLES + 2)]
    lines = remessa_lines(BB_HEADER, titles[:MAX_TITLES])
    details = lines[2:-2]
    assert len(details) == 3 * MAX_TITLES
    assert details[-1][8:13] == "99999"  # the last detail's number in the lot
    with pytest.raises(CnabFieldError):
        remessa_lines(BB_HEADER, titles)


def test_names_carry_bank_agencia_conta_and_the_nsa() -> None:
    account = Account("001", "1234", "123456")
    assert remessa_id(account, 42) == "001-1234-123456-000042"
    assert file_name(account, 42) == "001_1234_123456_000042.rem"


def test_nsas_count_from_one_and_stop_at_six_digits() -> None:
    assert next_nsa(None) == 1
    assert next_nsa(41) == 42
    assert next_nsa(999_998) == 999_999
    with pytest.raises(NsaExhausted):
        next_nsa(999_999)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # 20:59 UTC is 17:59 in Brasília: the cut of the day before
        (dt.datetime(2026, 1, 5, 20, 59, tzinfo=UTC), dt.datetime(2026, 1, 4, 21, tzinfo=UTC)),
        (dt.datetime(2026, 1, 5, 21, 0, tzinfo=UTC), dt.datetime(2026, 1, 5, 21, tzinfo=UTC)),
        # 02:30 UTC on the 6th is still the 5th, 23:30, in Brasília
        (dt.datetime(2026, 1, 6, 2, 30, tzinfo=UTC), dt.datetime(2026, 1, 5, 21, tzinfo=UTC)),
        # whatever zone the clock reports in
        (
            dt.datetime(2026, 1, 5, 19, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
            dt.datetime(2026, 1, 5, 21, tzinfo=UTC),
        ),
    ],
)
def test_the_last_cut_is_the_latest_cut_time_in_brasilia_not_after_now(
    now: dt.datetime, expected: dt.datetime
) -> None:
    assert last_cut(now, dt.time(18, 0)) == expected
    assert next_cut(now, dt.time(18, 0)) == expected + dt.timedelta(days=1)


def test_an_upload_is_quiet_once_its_last_boleto_is_older_than_the_quiet_period() -> None:
    now = dt.datetime(2026, 1, 5, 12, 0, 30, tzinfo=UTC)
    assert quiet_since(now, 60) == dt.datetime(2026, 1, 5, 11, 59, 30, tzinfo=UTC)


def test_the_scheduler_looks_again_at_the_cut_time_or_within_a_minute() -> None:
    day = RemessaSettings(directory="d", cut_at=dt.time(18, 0))
    assert tick_seconds(day, dt.datetime(2026, 1, 5, 20, 59, 50, tzinfo=UTC)) == 10
    assert tick_seconds(day, dt.datetime(2026, 1, 5, 12, 0, tzinfo=UTC)) == 60
    assert tick_seconds(day, dt.datetime(2026, 1, 5, 20, 59, 59, 900_000, tzinfo=UTC)) == 1
    upload = RemessaSettings(directory="d", per=CutPer.UPLOAD, quiet_seconds=20)
    assert tick_seconds(upload, dt.datetime(2026, 1, 5, tzinfo=UTC)) == 5
    slow = RemessaSettings(directory="d", per=CutPer.UPLOAD, quiet_seconds=3600)
    assert tick_seconds(slow, dt.datetime(2026, 1, 5, tzinfo=UTC)) == 15


@pytest.mark.parametrize("text", ["18:00", "00:00", "23:59", "07:30"])
def test_cut_times_are_hh_mm(text: str) -> None:
    assert parse_cut_at(text).strftime("%H:%M") == text


@pytest.mark.parametrize("text", ["18", "18:0", "6:00", "24:00", "18:60", "ab:cd", "18:00:00"])
def test_anything_else_is_no_cut_time(text: str) -> None:
    with pytest.raises(ValueError):
        parse_cut_at(text)


def test_titles_a_bank_cannot_register_are_named_by_a_reason_without_personal_data() -> None:
    details = RemessaDetails(BB_HEADER)
    take = taker(details)
    assert take(_title(1)) is None
    no_cpf = _title(2, payer=RemessaPayer("Pagador", PayerIdKind.OTHER, "4821", ADDRESS))
    assert take(no_cpf) == NO_CPF_CNPJ
    no_address = _title(2, payer=RemessaPayer("Pagador", PayerIdKind.CPF, "52998224725"))
    assert take(no_address) == NO_ADDRESS
    no_cep = ADDRESS._replace(cep="")
    bad_cep = _title(2, payer=RemessaPayer("Pagador", PayerIdKind.CPF, "52998224725", no_cep))
    assert take(bad_cep) == "address"
    # Issued under another convênio: not this account's nosso número.
    assert take(_title(3, "76543210000000003")) == "nosso_numero"
    no_name = _title(4, payer=RemessaPayer(" ", PayerIdKind.CPF, "52998224725", ADDRESS))
    assert take(no_name) == "payer"
    assert take(_title(1)) == "nosso_numero"  # once a file
    # Only the title taken is in the file.
    assert (details.titles, len(details.records)) == (1, 2)
    assert details.lines(replace(BB_HEADER, nsa=7)) == remessa_lines(
        replace(BB_HEADER, nsa=7), [_title(1)]
    )
    # Another number and time are the store's to choose; another account is a mistake.
    with pytest.raises(ValueError, match="another beneficiary or account"):
        details.lines(replace(BB_HEADER, agencia_dv="4"))


def _settings(**env: str) -> Settings:
    return Settings.from_env({**access.minimal_env(), **env})


def test_remessas_are_off_by_default_and_read_from_the_environment() -> None:
    off = _settings().remessa
    assert not off.enabled
    assert (off.per, off.cut_at, off.quiet_seconds, off.max_titles) == (
        CutPer.DAY,
        dt.time(18, 0),
        60,
        MAX_TITLES,
    )
    assert _settings().masked()["remessa"] == "off"
    settings = _settings(
        REMESSA_DIR="/var/remessas",
        REMESSA_PER="upload",
        REMESSA_CUT_AT="06:15",
        REMESSA_QUIET_SECONDS="300",
        REMESSA_MAX_TITLES="1000",
        BENEFICIARY_AGENCIA_DV="x",
        BENEFICIARY_VARIACAO_CARTEIRA="19",
    )
    assert settings.remessa == RemessaSettings(
        directory="/var/remessas",
        per=CutPer.UPLOAD,
        cut_at=dt.time(6, 15),
        quiet_seconds=300,
        max_titles=1000,
    )
    # What the bank's remessa needs besides the account belongs to the beneficiary.
    only = settings.beneficiaries.first
    assert (only.key, only.agencia_dv, only.variacao_carteira) == ("default", "X", "19")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"REMESSA_PER": "week"}, "REMESSA_PER"),
        ({"REMESSA_CUT_AT": "6pm"}, "REMESSA_CUT_AT"),
        ({"REMESSA_QUIET_SECONDS": "0"}, "REMESSA_QUIET_SECONDS"),
        ({"REMESSA_MAX_TITLES": "33334"}, "REMESSA_MAX_TITLES"),
        ({"REMESSA_DIR": "/r", "BENEFICIARY_VARIACAO_CARTEIRA": "19"}, "BENEFICIARY_AGENCIA_DV"),
        ({"REMESSA_DIR": "/r", "BENEFICIARY_AGENCIA_DV": "3"}, "BENEFICIARY_VARIACAO_CARTEIRA"),
    ],
)
def test_a_remessa_setting_the_service_cannot_use_is_refused_by_name(
    env: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigError, match=variable):
        _settings(**env)


def test_itau_needs_no_bb_only_setting() -> None:
    itau = {
        "BENEFICIARY_BANK_CODE": ITAU.bank_code,
        "BENEFICIARY_AGENCIA": ITAU.agencia,
        "BENEFICIARY_CONTA": ITAU.conta,
        "BENEFICIARY_CONTA_DV": ITAU.conta_dv,
        "BENEFICIARY_CARTEIRA": ITAU.carteira,
        "BENEFICIARY_CONVENIO": "",
    }
    assert _settings(REMESSA_DIR="/r", **itau).remessa.enabled
